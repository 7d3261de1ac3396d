/** The options of a Session, their defaults, and how an election gets its session from `connect`. */
import type { Clock } from './clock.js';
import { ClosedError, ZkElectionError } from './errors.js';
import type { Logger } from './logger.js';
import type { RetryPolicy } from './retry.js';
import { Session } from './session.js';
import type { Transport } from './zk-handle.js';

/** Digest credentials (`user:password`), or any scheme the server knows. */
export interface AuthInfo {
  scheme: string;
  credentials: string;
}

export interface SessionOptions {
  /** `host:port,...[/chroot]`. @default process.env.ZK_CONNECT, then '127.0.0.1:2181' */
  connect?: string;
  /** Requested session timeout in ms; the server may only grant a value in its [min, max]. @default 10000 */
  sessionTimeout?: number;
  /** How long to wait for the first connection, ms. @default 10000 */
  connectTimeout?: number;
  /** Credentials added to every new session before it is used. */
  auth?: AuthInfo | AuthInfo[];
  /** Throw SESSION_TIMEOUT_OUT_OF_RANGE when the server grants another timeout than asked. @default true */
  strictSessionTimeout?: boolean;
  /** Backoff for an operation retried through connection loss. @default { retries: 10, minTimeout: 20, maxTimeout: 1000 } */
  retry?: RetryPolicy;
  logger?: Logger;
  signal?: AbortSignal;
  /** How handles are made. @default the native client; zk-election/testing's MemoryZooKeeper gives another */
  transport?: Transport;
  /** The monotonic clock of leases and term timers. @default the system's (performance.now) */
  clock?: Clock;
}

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
