/** `zk-election participants <path>` and `zk-election leader <path>`. */
import { getLeader, listElection, participantToJson } from '../observe/list-participants.js';
import { parse, requirePath, sessionOptions } from './args.js';
import { foreignNote, participantsTable, shownId } from './format.js';
import { EXIT, type CliIo } from './io.js';
import { watchLeader } from './leader-watch.js';
import { watchParticipants } from './participants-watch.js';

export const PARTICIPANTS_HELP = `Usage: zk-election participants <path> [--connect S] [--auth SCHEME:CREDENTIALS] [--json] [--watch] [--timeout MS]

Shows the candidates of the election at <path> in election order; the first (marked *) leads.

Options:
  --connect S    ZooKeeper connection string host:port[,host:port...][/chroot]
                 (default: $ZK_CONNECT, then 127.0.0.1:2181)
  --auth SCHEME:CREDENTIALS
                 credentials for an ACL-protected election, e.g. digest:user:password
                 (default: $ZK_AUTH; prefer it: arguments are visible to other users in ps)
  --tls-ca FILE, --tls-cert FILE, --tls-key FILE
                 TLS to a secureClientPort: PEM files (default: $ZK_TLS_CA, $ZK_TLS_CERT, $ZK_TLS_KEY)
  --auth-file PATH
                 read the credentials from a file only its owner can read (default: $ZK_AUTH_FILE)
  --json         print the participants as a JSON array (bigints as strings)
  --watch        stay running and redraw on every change (one line per change when not a tty)
  --timeout MS   how long to try to reach ZooKeeper (default 10000)
  -v, --verbose  stack traces on errors

Examples:
  zk-election participants /services/payments/leader
  zk-election participants /services/payments/leader --connect zk1:2181,zk2:2181,zk3:2181 --json
  zk-election participants /services/payments/leader --watch
  ZK_AUTH=digest:ops:secret zk-election participants /services/payments/leader
`;

export const LEADER_HELP = `Usage: zk-election leader <path> [--connect S] [--auth SCHEME:CREDENTIALS] [--json] [--watch] [--timeout MS]

Prints the id of the current leader of the election at <path>; exits 1 when there is none.

Options:
  --connect S    ZooKeeper connection string (default: $ZK_CONNECT, then 127.0.0.1:2181)
  --auth SCHEME:CREDENTIALS
                 credentials for an ACL-protected election (default: $ZK_AUTH)
  --tls-ca FILE, --tls-cert FILE, --tls-key FILE
                 TLS to a secureClientPort: PEM files (default: $ZK_TLS_CA, $ZK_TLS_CERT, $ZK_TLS_KEY)
  --auth-file PATH
                 read them from a file only its owner can read (default: $ZK_AUTH_FILE)
  --json         print the leader as a JSON object
  --watch        stay running and print one line per leader change until Ctrl-C: the id, or
                 "-" while nobody leads (--json: one object per line, null for none); joins
                 and departures behind the leader print nothing
  --timeout MS   how long to try to reach ZooKeeper (default 10000)

Examples:
  zk-election leader /services/payments/leader
  zk-election leader /services/payments/leader --watch --json
  if zk-election leader /jobs/cron >/dev/null; then echo "someone leads"; fi
`;

export async function participantsCommand(argv: string[], io: CliIo): Promise<number> {
  const parsed = parse(argv, { json: { type: 'boolean' }, watch: { type: 'boolean' } });
  if (parsed.values.help) return void io.stdout.write(PARTICIPANTS_HELP), EXIT.OK;
  const path = requirePath(parsed, 'zk-election participants <path> [--json] [--watch]');
  const options = sessionOptions(parsed, io.env);
  if (parsed.values.watch) return watchParticipants(path, options, io, Boolean(parsed.values.json));
  const { participants, foreign } = await listElection(path, options);
  if (parsed.values.json) io.stdout.write(`${JSON.stringify(participants.map(participantToJson), null, 2)}\n`);
  else io.stdout.write(participantsTable(participants) + foreignNote(foreign));
  return EXIT.OK;
}

export async function leaderCommand(argv: string[], io: CliIo): Promise<number> {
  const parsed = parse(argv, { json: { type: 'boolean' }, watch: { type: 'boolean' } });
  if (parsed.values.help) return void io.stdout.write(LEADER_HELP), EXIT.OK;
  const path = requirePath(parsed, 'zk-election leader <path> [--json] [--watch]');
  const options = sessionOptions(parsed, io.env);
  if (parsed.values.watch) return watchLeader(path, options, io, Boolean(parsed.values.json));
  const leader = await getLeader(path, options);
  if (!leader) {
    if (parsed.values.json) io.stdout.write('null\n');
    else io.stderr.write(`zk-election: no leader at ${path}\n`);
    return EXIT.NO_LEADER;
  }
  io.stdout.write(parsed.values.json ? `${JSON.stringify(participantToJson(leader), null, 2)}\n` : `${shownId(leader)}\n`);
  return EXIT.OK;
}
