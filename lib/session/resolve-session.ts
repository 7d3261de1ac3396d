/** How a candidate, an observer or a one-off read gets its session from a `connect` option. */
import { ClosedError, ZkElectionError } from '../errors.js';
import { Session } from './session.js';
import type { SessionOptions } from './session-options.js';

/** The fields of a caller's options that shape a session it opens for itself. */
const SESSION_FIELDS = ['sessionTimeout', 'connectTimeout', 'auth', 'tls', 'strictSessionTimeout', 'retry', 'logger', 'signal', 'transport', 'clock'] as const satisfies ReadonlyArray<keyof SessionOptions>;
type SessionField = (typeof SESSION_FIELDS)[number];

/** Any caller's options (an election's, an observer's, a step-down's): undefined means the default. */
export type OwnSessionOptions = { [K in SessionField]?: SessionOptions[K] | undefined };

/**
 * A Session handed in by the caller is shared and never closed by us; a string (or nothing) opens
 * our own, from the session fields of `options` (the others are not the session's business).
 */
export async function resolveSession(connect: string | Session | undefined, options: OwnSessionOptions): Promise<{ session: Session; owned: boolean }> {
  if (connect instanceof Session) {
    if (connect.state === 'closed') throw new ClosedError('the shared session');
    return { session: connect, owned: false };
  }
  if (connect !== undefined && typeof connect !== 'string') {
    throw new ZkElectionError('Expected `connect` to be a connection string or a Session', 'INVALID_ARGUMENT');
  }
  const own: Record<string, unknown> = connect === undefined ? {} : { connect };
  for (const field of SESSION_FIELDS) if (options[field] !== undefined) own[field] = options[field];
  const session = await Session.connect(own as SessionOptions);
  return { session, owned: true };
}
