/** How a candidate, an observer or a one-off read gets its session from a `connect` option. */
import { ClosedError, ZkElectionError } from './errors.js';
import { Session } from './session.js';
import type { SessionOptions } from './session-options.js';

/** A Session handed in by the caller is shared and never closed by us; a string opens our own. */
export async function resolveSession(
  connect: string | Session | undefined,
  options: Omit<SessionOptions, 'connect'>,
): Promise<{ session: Session; owned: boolean }> {
  if (connect instanceof Session) {
    if (connect.state === 'closed') throw new ClosedError('the shared session');
    return { session: connect, owned: false };
  }
  if (connect !== undefined && typeof connect !== 'string') {
    throw new ZkElectionError('Expected `connect` to be a connection string or a Session', 'INVALID_ARGUMENT');
  }
  const session = await Session.connect({ ...options, ...(connect === undefined ? {} : { connect }) });
  return { session, owned: true };
}
