/**
 * `zk-election run <path> -- <command>`: a sidecar that runs a command only while leader.
 *
 * The invariant: the command's whole process group is dead by the lease deadline (last contact
 * with ZooKeeper + T - M, `Leadership.expiresAt`), whatever ends the term: a partition, a pause,
 * expiry, this process frozen or killed. The server cannot expire our session, so no successor can
 * start, before that deadline. Each run of the command is a LeasedCommand (lib/cli/run/leased-command.ts):
 * SIGTERM at the deadline minus the grace, SIGKILL just before the deadline, both enforced by the
 * supervisor (lib/cli/run-supervisor.ts) and by a guard process (lib/cli/run/group-guard.ts) that
 * needs nothing from us but renewals. This file reads the flags and builds the two.
 *
 * Order matters on the way out too: we stop the command first and only then give up our node. That
 * is why `run` handles SIGINT/SIGTERM itself instead of using the library's exit hook (which would
 * resign at once).
 */
import { Election } from '../election/election.js';
import { DEFAULT_PREFER_AFTER } from '../election/election-options.js';
import type { SuspendedPolicy } from '../election/leadership.js';
import { listenOption, msOption, parse, requirePath, sessionOptions, type Parsed } from './args.js';
import { aclOption } from './credentials.js';
import { cliLogger, EXIT, UsageError, type CliIo } from './io.js';
import { defaultLeaseMargin, planLease } from './run/lease-plan.js';
import { RestartBackoff } from './run/restart-backoff.js';
import { Supervisor, type RunConfig } from './run-supervisor.js';

export const RUN_HELP = `Usage: zk-election run <path> [options] -- <command> [args...]

Campaigns for leadership of the election at <path>. While leader, runs <command> in a process
group of its own, with ZK_ELECTION_PATH, ZK_ELECTION_NODE, ZK_ELECTION_TOKEN (the fencing token),
ZK_ELECTION_ID, ZK_ELECTION_SESSION_TIMEOUT and ZK_ELECTION_LEASE_MARGIN (ms) in its environment.

The command's whole group is dead by the lease deadline (last contact with ZooKeeper + session
timeout - lease margin), before any successor can start: when the lease is not renewed in time
(disconnected, paused) the group gets SIGTERM --grace before the deadline and SIGKILL at it; a guard
process kills the group at the deadline even if this process is frozen or killed. A disconnection
that ends before SIGTERM is due costs nothing. When the command exits, run starts it again in the
same term: at once after a run of 10 s or more, else after --restart-delay, doubled for each quick
exit in a row up to --restart-max-delay; after 5 quick exits in a row it hands the term on (resigns
and campaigns again, so another candidate can try). With --once it exits with the command's status.
On SIGINT or SIGTERM it stops the command, resigns, closes its session and exits 130 or 143, so
the next leader takes over at once. Asked to step down
(zk-election step-down), it stops the command, then gives up its node and campaigns again.

Options:
  --id ID                    participant id shown to operators (default host:pid:random)
  --connect S                ZooKeeper connection string (default: $ZK_CONNECT, then 127.0.0.1:2181)
  --auth SCHEME:CREDENTIALS  credentials for the session, e.g. digest:user:password (default: $ZK_AUTH)
  --auth-file PATH           read SCHEME:CREDENTIALS from a file only its owner can read (or
                             $ZK_AUTH_FILE): nothing in ps, nothing in the environment
  --acl SCHEME:ID:PERMS[,...]
                             ACL of the nodes run creates, PERMS of cdrwa (default: $ZK_ACL; with
                             credentials auth::cdrwa,world:anyone:r: all for the creator, read for
                             everyone; without, open to anyone)
  --tls-ca FILE              TLS to a secureClientPort, trusting this PEM CA file (default: $ZK_TLS_CA);
  --tls-cert FILE            with a client certificate and its key (default: $ZK_TLS_CERT,
  --tls-key FILE             $ZK_TLS_KEY; an encrypted key's passphrase: $ZK_TLS_PASSPHRASE)
  --session-timeout MS       requested ZooKeeper session timeout T (default 10000)
  --lease-margin MS          lease margin M, less than T/2 (default 10% of T)
  --grace MS                 SIGTERM this long before SIGKILL (default 30% of T; shortened, with a
                             warning, to what fits: T - M - 2 x T/10 - 100 ms)
  --suspended-policy P       lease (default): keep the command through a disconnection until the
                             lease runs out; strict: stop it at the first disconnection (the node
                             is given up only once the command's group is dead)
  --priority N               how much this participant is preferred as leader (default 0): a
                             waiting participant of a higher priority than the leader's takes
                             leadership over (a handoff: the leader's command stops first) once it
                             has waited --prefer-after; equal priorities never move leadership
  --prefer-after MS          how long a preferred participant waits before it takes over
                             (default 5000): one that keeps restarting never does
  --once                     run the command once, then exit with its status
  --restart-delay MS         wait before restarting a command that exited within 10 s (default 1000),
                             doubled for each such exit in a row
  --restart-max-delay MS     the longest such wait (default 30000)
  --timeout MS               how long to try to reach ZooKeeper (default 10000)
  --log-format FORMAT        text (default) or json, one line per transition on stderr
  --metrics HOST:PORT        serve Prometheus metrics on http://HOST:PORT/metrics and a health
                             check on /healthz: 200 while connected to ZooKeeper or leading on a
                             lease that holds, else 503 (port 0: any free port, logged at start);
                             listens on HOST only: loopback, or the pod's own IP, not 0.0.0.0
  -v, --verbose              also log the library's own transitions

Examples:
  zk-election run /jobs/payment-scheduler --id sched-1 -- node scheduler.js
  zk-election run /jobs/cron --once --grace 2000 -- ./nightly-report.sh
  zk-election run /jobs/cron --auth-file /run/secrets/zk-auth -- ./report.sh
  zk-election run /jobs/cron --metrics 127.0.0.1:9464 -- ./report.sh
  zk-election run /jobs/cron --metrics "$POD_IP:9464" -- ./report.sh
`;

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  const parsed = parse(own, {
    id: { type: 'string' },
    grace: { type: 'string' },
    once: { type: 'boolean' },
    'session-timeout': { type: 'string' },
    'lease-margin': { type: 'string' },
    priority: { type: 'string' },
    'prefer-after': { type: 'string' },
    'suspended-policy': { type: 'string' },
    'log-format': { type: 'string' },
    metrics: { type: 'string' },
    'restart-delay': { type: 'string' },
    'restart-max-delay': { type: 'string' },
    acl: { type: 'string' },
  });
  if (parsed.values.help) return void io.stdout.write(RUN_HELP), EXIT.OK;
  const path = requirePath(parsed, 'zk-election run <path> [options] -- <command> [args...]');
  if (command.length === 0) throw new UsageError('missing the command to run after "--"');
  const format = parsed.values['log-format'] ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError('--log-format expects text or json');
  const sessionTimeout = msOption(parsed, 'session-timeout', 10_000);
  const leaseMargin = leaseMarginOption(parsed, sessionTimeout);
  const grace = parsed.values.grace === undefined ? undefined : msOption(parsed, 'grace', 0);
  const metricsAt = listenOption(parsed, 'metrics');
  const acl = aclOption(parsed.values, io.env);
  const plan = planLease(sessionTimeout, leaseMargin, grace);
  const restartDelay = msOption(parsed, 'restart-delay', 1000);
  const restartMaxDelay = msOption(parsed, 'restart-max-delay', Math.max(30_000, restartDelay));
  if (restartMaxDelay < restartDelay) throw new UsageError(`--restart-max-delay (${restartMaxDelay} ms) must be at least --restart-delay (${restartDelay} ms)`);
  const config: RunConfig = {
    path,
    command,
    suspendedPolicy: suspendedPolicyOption(parsed),
    plan,
    once: Boolean(parsed.values.once),
    backoff: new RestartBackoff(restartDelay, restartMaxDelay),
  };
  const log = cliLogger(io, format);
  if (plan.shortenedFrom !== undefined) {
    log.warn(`--grace ${plan.shortenedFrom} ms does not fit in the lease; using ${plan.grace} ms`, {
      sessionTimeoutMs: plan.sessionTimeout,
      leaseMarginMs: plan.leaseMargin,
      confirmEveryMs: plan.confirmEvery,
      killLeadMs: plan.killLead,
    });
  }
  // The supervisor drains each term (stops its command) before the library releases our node.
  let supervisor: Supervisor | undefined;
  const election = new Election(path, {
    ...sessionOptions(parsed, io.env),
    sessionTimeout,
    leaseMargin,
    // A term that ends for any reason but our own resign or close (lost, strict, step-down) keeps
    // our node until its command's group is dead: no successor starts beside a stopping command.
    suspendedPolicy: config.suspendedPolicy,
    priority: priorityOption(parsed),
    preferAfter: msOption(parsed, 'prefer-after', DEFAULT_PREFER_AFTER),
    drain: (leadership) => supervisor?.drain(leadership),
    ...(typeof parsed.values.id === 'string' ? { id: parsed.values.id } : {}),
    ...(acl ? { acl } : {}),
    // The library's own transitions with --verbose; its warnings always (an election path more
    // open than the ACL we create, a planted node ignored).
    logger: parsed.values.verbose ? log : cliLogger(io, format, 'warn'),
  });
  supervisor = new Supervisor(election, config, log);
  // Only with --metrics: prom-client is not loaded otherwise. Listening before the election starts
  // makes a taken port a usage error before anything is created in ZooKeeper.
  const metrics =
    metricsAt &&
    (await import('./run/metrics.js').then(({ serveMetrics, ListenError }) =>
      serveMetrics(election, metricsAt, log, { onRestart: (listener) => supervisor.on('restart', listener) }).catch((error: unknown) => {
        throw error instanceof ListenError ? new UsageError(error.message) : error;
      }),
    ));
  try {
    return await supervisor.run();
  } finally {
    await metrics?.close();
  }
}

function leaseMarginOption(parsed: Parsed, sessionTimeout: number): number {
  const margin = msOption(parsed, 'lease-margin', defaultLeaseMargin(sessionTimeout));
  if (margin * 2 >= sessionTimeout) throw new UsageError(`--lease-margin must be less than half of the session timeout (${sessionTimeout} ms): the lease is what is left`);
  return margin;
}

function priorityOption(parsed: Parsed): number {
  const raw = parsed.values.priority;
  if (raw === undefined) return 0;
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value > 1_000_000) throw new UsageError(`--priority expects a whole number from 0 to 1000000, got "${String(raw)}"`);
  return value;
}

function suspendedPolicyOption(parsed: Parsed): SuspendedPolicy {
  const policy = parsed.values['suspended-policy'] ?? 'lease';
  if (policy !== 'lease' && policy !== 'strict') throw new UsageError('--suspended-policy expects lease or strict');
  return policy;
}
