/**
 * `zk-election leader <path> --watch`: one line per leader change until Ctrl-C, through the
 * library's observeLeader (one watch, on the leader's node; joins and departures behind the
 * leader print nothing). Text: the leader's id, or `-` while nobody leads. JSON: one object per
 * line (as `leader --json` prints it, on one line), `null` while nobody leads.
 */
import { observeLeader, type ObserveLeaderOptions } from '../observe/observe-leader.js';
import { participantToJson } from '../observe/list-participants.js';
import { interruption, type CliIo } from './io.js';
import { shownId } from './format.js';

export async function watchLeader(path: string, options: Omit<ObserveLeaderOptions, 'signal'>, io: CliIo, json: boolean): Promise<number> {
  const interrupted = interruption({ once: true });
  try {
    for await (const leader of observeLeader(path, { ...options, signal: interrupted.signal })) {
      if (json) io.stdout.write(`${JSON.stringify(leader ? participantToJson(leader) : null)}\n`);
      else io.stdout.write(`${leader ? shownId(leader) : '-'}\n`);
    }
    // Ended by Ctrl-C or SIGTERM: 128 + the signal.
    return interrupted.exitCode();
  } finally {
    interrupted.dispose();
  }
}
