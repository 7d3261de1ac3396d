/**
 * `zk-election run <path> -- <command>`: a sidecar that runs a command only while leader.
 *
 * Order matters for safety: when leadership ends we stop the command first and only then give up
 * our node, so a successor never starts while our copy may still run. That is also why this
 * command handles SIGINT/SIGTERM itself instead of using the library's exit hook (which would
 * resign at once).
 */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { Election } from '../election.js';
import { delay } from '../abort.js';
import { canTieToParent, openGroupGuard, signalGroup, spawnClean, type GroupGuard } from '../spawn-clean.js';
import type { Leadership } from '../leadership.js';
import { connectOption, msOption, parse, requirePath } from './args.js';
import { cliLogger, EXIT, UsageError, type CliIo } from './io.js';

export const RUN_HELP = `Usage: zk-election run <path> [options] -- <command> [args...]

Campaigns for leadership of the election at <path>. While leader, runs <command> with
ZK_ELECTION_PATH, ZK_ELECTION_NODE, ZK_ELECTION_TOKEN (the fencing token) and ZK_ELECTION_ID
in its environment. When leadership is lost it sends SIGTERM, then SIGKILL after --grace.
When the command exits it resigns and campaigns again (with --once: exits with its status).
On SIGINT or SIGTERM it stops the command, resigns, closes its session and exits, so the
next leader takes over at once.

Options:
  --id ID                participant id shown to operators (default host:pid:random)
  --connect S            ZooKeeper connection string (default: $ZK_CONNECT, then 127.0.0.1:2181)
  --grace MS             time between SIGTERM and SIGKILL (default 10000)
  --once                 run the command once, then exit with its status
  --session-timeout MS   requested ZooKeeper session timeout (default 10000)
  --timeout MS           how long to try to reach ZooKeeper (default 10000)
  --log-format FORMAT    text (default) or json, one line per transition on stderr
  -v, --verbose          also log the library's own transitions

Examples:
  zk-election run /jobs/payment-scheduler --id sched-1 -- node scheduler.js
  zk-election run /jobs/cron --once --grace 5000 -- ./nightly-report.sh
`;

interface RunConfig {
  path: string;
  command: string[];
  grace: number;
  once: boolean;
}

export async function runCommand(argv: string[], io: CliIo): Promise<number> {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const command = split === -1 ? [] : argv.slice(split + 1);
  const parsed = parse(own, {
    id: { type: 'string' },
    grace: { type: 'string' },
    once: { type: 'boolean' },
    'session-timeout': { type: 'string' },
    'log-format': { type: 'string' },
  });
  if (parsed.values.help) return void io.stdout.write(RUN_HELP), EXIT.OK;
  const path = requirePath(parsed, 'zk-election run <path> [options] -- <command> [args...]');
  if (command.length === 0) throw new UsageError('missing the command to run after "--"');
  const format = parsed.values['log-format'] ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError('--log-format expects text or json');
  const log = cliLogger(io, format);
  const election = new Election(path, {
    connect: connectOption(parsed, io.env),
    sessionTimeout: msOption(parsed, 'session-timeout', 10_000),
    connectTimeout: msOption(parsed, 'timeout', 10_000),
    ...(typeof parsed.values.id === 'string' ? { id: parsed.values.id } : {}),
    ...(parsed.values.verbose ? { logger: log } : {}),
  });
  const config: RunConfig = { path, command, grace: msOption(parsed, 'grace', 10_000), once: Boolean(parsed.values.once) };
  return new Supervisor(election, config, log).run();
}

type Log = ReturnType<typeof cliLogger>;

class Supervisor {
  #child: ChildProcess | undefined;
  #childExit: Promise<number> | undefined;
  #stopping = false;
  /** Per running command (by its pid = process group id): the guard that kills the group if we die. */
  readonly #guards = new Map<number, GroupGuard>();
  #done!: (code: number) => void;

  constructor(
    readonly election: Election,
    readonly config: RunConfig,
    readonly log: Log,
  ) {}

  async run(): Promise<number> {
    const finished = new Promise<number>((resolve) => (this.#done = resolve));
    const onSignal = (signal: NodeJS.Signals): void => void this.#shutdown(`received ${signal}`, EXIT.OK);
    const onCrash = (): void => {
      // Last resort on an uncaught exception: no copy of the command may outlive us.
      if (this.#child?.pid !== undefined) signalGroup(this.#child.pid, 'SIGKILL');
      void this.election.close();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('uncaughtExceptionMonitor', onCrash);
    this.election.on('state', (to, from, cause) => this.log.info(`${from} -> ${to}`, { cause }));
    this.election.on('elected', (leadership) => void this.#onElected(leadership));
    this.election.on('suspended', () => this.log.warn('disconnected from ZooKeeper; leadership held on the lease'));
    this.election.on('resumed', () => this.log.info('reconnected; leadership resumed'));
    this.election.on('error', (error) => this.log.error('election error', { error: error.message }));
    try {
      await this.election.start();
      this.log.info('campaigning', { path: this.config.path, id: this.election.id, node: this.election.node });
      // Closed by the library itself (an error it cannot recover from, logged as an election error):
      // nothing is left to campaign for, so stop the command and exit 1 rather than idle.
      this.election.on('state', (to, _from, cause) => {
        if (to === 'closed') void this.#shutdown(`election closed: ${cause}`, EXIT.FAILURE);
      });
      if (!canTieToParent) this.log.warn('cannot tie the command to this process (no setpriv): if this process is killed with SIGKILL, the command keeps running');
      return await finished;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('uncaughtExceptionMonitor', onCrash);
    }
  }

  async #onElected(leadership: Leadership): Promise<void> {
    if (this.#stopping) return;
    // Re-elected while the last term's command is still stopping (within --grace): never two copies.
    if (this.#child) {
      this.log.info('waiting for the previous command to stop', { pid: this.#child.pid });
      await this.#stopChild();
      if (this.#stopping || !leadership.isLeader) return;
    }
    const [file, ...args] = this.config.command;
    const env = {
      ...process.env,
      ZK_ELECTION_PATH: this.config.path,
      ZK_ELECTION_NODE: leadership.node,
      ZK_ELECTION_TOKEN: leadership.token.toString(),
      ZK_ELECTION_ID: leadership.id,
    };
    // Through spawnClean: the command must not inherit our ZooKeeper socket (the C client sets no
    // CLOEXEC). And it must not outlive us: if this sidecar is killed (kill -9, OOM), nobody is left
    // to stop the command when the session expires and another copy starts elsewhere. SIGKILL, not
    // SIGTERM: a command that ignored SIGTERM would run on beside the next leader's.
    // In a process group of its own, so that stopping it stops what it started too (a shell's
    // children, a server's workers): a grandchild left behind would run on without leadership.
    // The death signal reaches the command's own process only; the guard takes its whole group.
    // It starts first, so that it already runs when the command does.
    const guard = openGroupGuard();
    const child = spawnClean(file!, args, { stdio: 'inherit', env, dieWithParent: 'SIGKILL', detached: true });
    if (child.pid !== undefined && guard) {
      guard.watch(child.pid);
      this.#guards.set(child.pid, guard);
    } else {
      guard?.dismiss();
    }
    this.#child = child;
    this.#childExit = new Promise((resolve) => {
      child.once('error', (error) => {
        this.log.error('command failed to start', { error: error.message });
        resolve(127);
      });
      child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
    this.log.info('elected; command started', { token: leadership.token.toString(), term: leadership.term, pid: child.pid });
    leadership.signal.addEventListener('abort', () => void this.#onLost(leadership), { once: true });
    void this.#childExit.then((code) => this.#onCommandExit(leadership, child, code));
  }

  async #onLost(leadership: Leadership): Promise<void> {
    const reason = (leadership.signal.reason as { reason?: string }).reason;
    if (reason === 'resigned' || this.#stopping) return;
    this.log.warn('leadership lost; stopping command', { reason, token: leadership.token.toString() });
    await this.#stopChild();
  }

  async #onCommandExit(leadership: Leadership, child: ChildProcess, code: number): Promise<void> {
    if (this.#child === child) this.#child = undefined;
    if (this.#stopping) return;
    this.log.info('command exited', { code, token: leadership.token.toString() });
    // Whatever it left running in its group must not outlive its term.
    await this.#stopGroup(child.pid);
    if (this.config.once) return this.#shutdown('--once: command finished', code);
    if (leadership.isLeader) {
      this.log.info('resigning; campaigning again');
      await leadership.resign();
    }
  }

  /** Stops the running command and its process group. */
  async #stopChild(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    await this.#stopGroup(child.pid);
    await this.#childExit;
  }

  /**
   * SIGTERM to the command's process group, then SIGKILL after the grace period; resolves once the
   * group is empty. The group's members are not all our children, so no exit event tells us when
   * they are gone: we look every GROUP_POLL_MS.
   */
  async #stopGroup(pgid: number | undefined): Promise<void> {
    if (pgid === undefined) return;
    try {
      await this.#signalUntilGone(pgid);
    } finally {
      // Only once the group is empty: a guard dismissed earlier would leave its members unguarded.
      if (!signalGroup(pgid, 0)) {
        this.#guards.get(pgid)?.dismiss();
        this.#guards.delete(pgid);
      }
    }
  }

  async #signalUntilGone(pgid: number): Promise<void> {
    if (!signalGroup(pgid, 0)) return;
    signalGroup(pgid, 'SIGTERM');
    const deadline = Date.now() + this.config.grace;
    while (signalGroup(pgid, 0) && Date.now() < deadline) await delay(GROUP_POLL_MS);
    if (!signalGroup(pgid, 0)) return;
    this.log.warn('command ignored SIGTERM; sending SIGKILL', { pgid, graceMs: this.config.grace });
    signalGroup(pgid, 'SIGKILL');
    const killDeadline = Date.now() + KILL_WAIT_MS;
    while (signalGroup(pgid, 0) && Date.now() < killDeadline) await delay(GROUP_POLL_MS);
    if (signalGroup(pgid, 0)) this.log.error('command group still alive after SIGKILL (stuck in the kernel?)', { pgid });
  }

  async #shutdown(why: string, code: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.log.info('shutting down', { why });
    await this.#stopChild();
    await this.election.close();
    this.log.info('resigned and closed');
    this.#done(code);
  }
}

const GROUP_POLL_MS = 20;
const KILL_WAIT_MS = 10_000;

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}
