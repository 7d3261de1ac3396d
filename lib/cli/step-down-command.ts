/** `zk-election step-down <path>`: ask the leader to step down cleanly, or force it out. */
import { isZkElectionError } from '../errors.js';
import { participantToJson } from '../observe/list-participants.js';
import { DEFAULT_STEP_DOWN_TIMEOUT, forceStepDown, requestStepDown } from '../observe/request-step-down.js';
import { msOption, parse, requirePath, sessionOptions } from './args.js';
import { EXIT, type CliIo } from './io.js';
import { shownId } from './format.js';

export const STEP_DOWN_HELP = `Usage: zk-election step-down <path> [--id ID] [--to ID] [--force] [--timeout MS] [--json]

Asks the leader of the election at <path> to step down: the request is written into the
leader's own node, which it watches; it stops its work (zk-election run stops its command
first), gives up its node and rejoins at the back of the queue. Waits until another
participant leads, then prints the new leader's id and fencing token.

Options:
  --id ID        only this participant, and only if it is the leader
  --to ID        hand leadership to participant ID: the others requeue behind it, keeping
                 their order, then the leader steps down; ID leads next and nobody else in
                 between (exit 0 at once when ID leads already)
  --force        delete the participant's node instead of asking: for a participant that
                 does not answer (frozen, partitioned); with --id it may be any participant
  --timeout MS   how long to wait for another leader (default ${DEFAULT_STEP_DOWN_TIMEOUT}); also bounds
                 reaching ZooKeeper
  --json         print {"previous": ..., "next": ...} as JSON
  --connect S    ZooKeeper connection string (default: $ZK_CONNECT, then 127.0.0.1:2181)
  --auth SCHEME:CREDENTIALS
                 credentials for an ACL-protected election (default: $ZK_AUTH); with
                 zk-election's default ACL, only the participants' own credentials may
                 write or delete their nodes: without them this is NO_AUTH, exit 2
  --auth-file PATH
                 read them from a file only its owner can read (default: $ZK_AUTH_FILE)
  --tls-ca FILE, --tls-cert FILE, --tls-key FILE
                 TLS to a secureClientPort: PEM files (default: $ZK_TLS_CA, $ZK_TLS_CERT, $ZK_TLS_KEY)

Exit codes: 0 done; 1 no leader, or no participant with that id, or (without --force) it
is not the leader; 2 bad usage or no permission (NO_AUTH); 3 ZooKeeper unreachable; 4 the
participant did not step down within --timeout (it may be frozen or cut off: try --force);
5 (--to) a normal succession instead: ID left before it could lead, or the leader left on
its own first.

Examples:
  zk-election step-down /jobs/payment-scheduler
  zk-election step-down /jobs/payment-scheduler --id sched-1 --timeout 60000
  zk-election step-down /jobs/payment-scheduler --id sched-1 --force
  zk-election step-down /jobs/payment-scheduler --to sched-3
`;

export async function stepDownCommand(argv: string[], io: CliIo): Promise<number> {
  const parsed = parse(argv, { id: { type: 'string' }, to: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } });
  if (parsed.values.help) return void io.stdout.write(STEP_DOWN_HELP), EXIT.OK;
  const path = requirePath(parsed, 'zk-election step-down <path> [--id ID] [--to ID] [--force] [--timeout MS]');
  const timeout = msOption(parsed, 'timeout', DEFAULT_STEP_DOWN_TIMEOUT);
  const options = {
    // --auth and $ZK_AUTH too: a protected election's leader is found and asked with them.
    ...sessionOptions(parsed, io.env),
    connectTimeout: Math.min(timeout, 10_000),
    timeout,
    ...(typeof parsed.values.id === 'string' ? { id: parsed.values.id } : {}),
    ...(typeof parsed.values.to === 'string' ? { to: parsed.values.to } : {}),
  };
  try {
    const { previous, next } = parsed.values.force ? await forceStepDown(path, options) : await requestStepDown(path, options);
    if (parsed.values.json) io.stdout.write(`${JSON.stringify({ previous: participantToJson(previous), next: participantToJson(next) }, null, 2)}\n`);
    else if (previous.node === next.node) io.stdout.write(`${shownId(next)} leads already; nothing to do\n`);
    else io.stdout.write(`${shownId(previous)} stepped down; new leader ${shownId(next)} token ${next.token}\n`);
    return EXIT.OK;
  } catch (error) {
    // Everything else (no leader, no such participant, not the leader: 1; unreachable: 3) is
    // reported and mapped by main like any command's error.
    if (!isZkElectionError(error, 'TIMEOUT')) throw error;
    io.stderr.write(`zk-election: ${error.message}; the participant may be frozen or cut off: try --force [TIMEOUT]\n`);
    return EXIT.NOT_STEPPED_DOWN;
  }
}
