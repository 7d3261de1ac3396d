/**
 * `participants --watch`: a live view. This observer keeps one watch, on the election parent
 * (candidates never watch the parent; an observer that wants every change must), re-armed with
 * every listing. On a tty the table is redrawn; otherwise one line (or one JSON array) per change.
 */
import { isRetryable, isZkElectionError } from '../errors.js';
import { participantToJson, readElection, type Participant } from '../observe/list-participants.js';
import { Session, type SessionOptions } from '../session/session.js';
import { escapeControl, foreignNote, participantsLine, participantsTable } from './format.js';
import { interruption, type CliIo } from './io.js';
import type { ZkHandle } from '../zk/handle.js';

export async function watchParticipants(path: string, options: SessionOptions, io: CliIo, json: boolean): Promise<number> {
  const { signal: stop, dispose, exitCode } = interruption({ once: true });
  let session: Session | undefined;
  try {
    session = await Session.connect({ ...options, signal: stop });
    while (!stop.aborted) {
      const changed = nextChange(session, stop);
      // Ctrl-C while reconnecting ends the view (exit 0); losing ZooKeeper for good is exit 3.
      const client = await session.connected(stop).then(
        ({ handle }) => handle,
        (error: unknown) => {
          if (stop.aborted) return undefined;
          throw error;
        },
      );
      if (!client) break;
      const seen = await listAndWatch(client, path, changed.fire);
      if (seen) render(io, path, seen, json);
      await changed.promise;
    }
  } finally {
    dispose();
    await session?.close();
  }
  // Ended by Ctrl-C or SIGTERM: 128 + the signal, as every command that runs until interrupted.
  return exitCode();
}

/** Lists with a child watch (or an exists watch while the path is absent); undefined after connection loss. */
async function listAndWatch(client: ZkHandle, path: string, fire: () => void): Promise<{ participants: Participant[]; foreign: string[] } | undefined> {
  try {
    const children = await client.getChildren(path, fire);
    return await readElection(client, path, children);
  } catch (error) {
    if (isZkElectionError(error, 'NO_NODE')) {
      // Absent path: wake up when it is created.
      if ((await client.exists(path, fire)) !== undefined) fire();
      return { participants: [], foreign: [] };
    }
    if (isRetryable(error) || isZkElectionError(error, 'SESSION_EXPIRED', 'CLOSED')) {
      fire();
      return undefined;
    }
    throw error;
  }
}

/** A one-shot trigger: the watch, a session change, or stop. */
function nextChange(session: Session, signal: AbortSignal): { promise: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const promise = new Promise<void>((resolve) => {
    const onState = (state: string): void => {
      if (state === 'expired' || state === 'reconnected') done();
    };
    const done = (): void => {
      session.off('state', onState);
      signal.removeEventListener('abort', done);
      resolve();
    };
    fire = done;
    session.on('state', onState);
    signal.addEventListener('abort', done, { once: true });
  });
  return { promise, fire };
}

function render(io: CliIo, path: string, { participants, foreign }: { participants: Participant[]; foreign: string[] }, json: boolean): void {
  const now = new Date();
  if (json) {
    io.stdout.write(`${JSON.stringify(participants.map(participantToJson))}\n`);
  } else if (io.stdout.isTTY) {
    const title = `zk-election participants ${escapeControl(path)}   last change ${now.toLocaleTimeString()}   (Ctrl-C to quit)\n\n`;
    io.stdout.write(`\x1b[2J\x1b[H${title}${participantsTable(participants, now.getTime())}${foreignNote(foreign)}`);
  } else {
    io.stdout.write(participantsLine(participants, now));
  }
}
