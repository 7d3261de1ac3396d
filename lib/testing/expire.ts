/**
 * Forcing a session to expire on a real server, the standard way: attach a second handle to the
 * same session (its id and password) and close that handle; the server ends the session and
 * deletes its ephemeral nodes at once. Retried until the session itself has heard of the expiry,
 * because the two handles race: if the original reconnects in between, the server moves the
 * session back to it, and then either the twin's close does not take and the session lives on
 * (try again), or it does and the original's connection is not told (see heardOf).
 */
import { systemClock } from '../util/clock.js';
import { sessionCredentials, type Session } from '../session/session.js';
import { pollUntil, settlesWithin } from '../process/wait.js';
import { ZkClient } from '../zk/native-client.js';
import { closeTwin } from '../zk/native-quirks.js';
import { ServerTimeoutError, TestingError } from './testing-errors.js';

export interface ExpireSessionOptions {
  /** Where to attach the twin. @default the session's own connection string */
  connect?: string | undefined;
  /** Tries before giving up. @default 5 */
  attempts?: number | undefined;
}

/** Expires `session` on the server; resolves once `session.state` is 'expired'. */
export async function expireSession(session: Session, options: ExpireSessionOptions = {}): Promise<void> {
  const connect = options.connect ?? session.connectString;
  const attempts = options.attempts ?? 5;
  const credentials = sessionCredentials(session);
  // The ZooKeeper session to expire: the probes below must never open another (see heardOf).
  const epoch = session.epoch;
  if (!credentials) throw new TestingError('expireSession: the session has no live ZooKeeper session to expire', 'NOT_RUNNING');
  const expired = new Promise<void>((resolve) => {
    const onState = (state: string): void => {
      if (state !== 'expired' && state !== 'closed') return;
      session.off('state', onState);
      resolve();
    };
    session.on('state', onState);
  });
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    // Refused (the session is gone already) or no answer: the wait for the expiry below decides.
    const { id, password, tls } = credentials;
    const twin = new ZkClient({ connect, sessionTimeout: session.negotiatedTimeout, session: { id, password }, clock: systemClock, ...(tls ? { tls } : {}) }, true);
    await closeTwin(twin, 10_000);
    if (await heardOf(session, epoch, expired, Math.max(3000, 2 * session.negotiatedTimeout))) return;
  }
  throw new ServerTimeoutError(`session ${credentials.id} did not expire after ${attempts} attempts`);
}

/**
 * Waits for `expired`, asking the server at intervals. When the original had reconnected between
 * the twin's connect and its close, the server may have ended the session without closing the
 * original's new connection, which then hears of it only at its next ping timeout (two thirds of
 * the session timeout, seen on 3.8), after the lease of a term on it has run out. A request on
 * that connection makes the server drop it, and the reconnection hears "expired" (after the C
 * client's reconnect delay, about a third of the session timeout). A request answered means the
 * session lives on (the close did not take): false, try again.
 */
async function heardOf(session: Session, epoch: number, expired: Promise<void>, withinMs: number): Promise<boolean> {
  const heard = (): Promise<boolean> => settlesWithin(expired, 0);
  await pollUntil(
    async () => {
      if (await heard()) return true;
      // On that ZooKeeper session only: without `epoch` a request after the expiry would open a new one.
      const probe = session.retrying('probe expiry', (handle) => handle.exists('/'), { epoch, retries: 0 }).then(
        () => true,
        () => false,
      );
      const answered = await Promise.race([probe, expired.then(() => false)]);
      // Answered and still not expired: the close did not take, the session lives (try again).
      return (answered && !(await settlesWithin(expired, PROBE_EVERY_MS))) || (await heard());
    },
    { timeoutMs: withinMs, intervalMs: PROBE_EVERY_MS },
  );
  return heard();
}

const PROBE_EVERY_MS = 50;
