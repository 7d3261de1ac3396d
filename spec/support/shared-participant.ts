/**
 * Many elections on one shared Session in their own process, with `handleSignals`, for the test
 * of the exit hook's shared-session path. Usage: node shared-participant.js '<json config>'
 * Prints one JSON line {event:'ready', pid} once every election leads or waits, and exits on
 * SIGTERM through the library's hook (no handler of its own).
 */
import { Election, Session } from 'zk-election';

interface Config {
  connect: string;
  paths: string[];
  sessionTimeout: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const session = await Session.connect({ connect: config.connect, sessionTimeout: config.sessionTimeout });
for (const [i, path] of config.paths.entries()) {
  const election = new Election(path, { connect: session, id: `shared-${i}`, handleSignals: true });
  await election.start();
}
process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid })}\n`);
// Alive until the signal: the hook closes the session, the elections, and re-raises SIGTERM.
setInterval(() => {}, 1 << 30);
