/** The options of a Session (types only: session.ts and the modules around it all read them). */
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { RetryPolicy } from './retry.js';
import type { Transport } from '../zk/handle.js';
import type { TlsOptions } from './tls-options.js';

/** Digest credentials (`user:password`), or any scheme the server knows. */
export interface AuthInfo {
  scheme: string;
  credentials: string;
}

export interface SessionOptions {
  /** `host:port,...[/chroot]`. @default process.env.ZK_CONNECT, then '127.0.0.1:2181' */
  connect?: string | undefined;
  /** Requested session timeout in ms; the server may only grant a value in its [min, max]. @default 10000 */
  sessionTimeout?: number | undefined;
  /** How long to wait for the first connection, ms. @default 10000 */
  connectTimeout?: number | undefined;
  /** Credentials added to every new session before it is used. */
  auth?: AuthInfo | AuthInfo[] | undefined;
  /**
   * Connect over TLS (ZooKeeper's secureClientPort): **paths** of PEM files, checked before
   * anything connects (TLS_CONFIG). The servers' certificates must be signed by `ca`; `cert` and
   * `key` for servers that ask for client certificates. @default plaintext
   */
  tls?: TlsOptions | undefined;
  /** Throw SESSION_TIMEOUT_OUT_OF_RANGE when the server grants another timeout than asked. @default true */
  strictSessionTimeout?: boolean | undefined;
  /**
   * Backoff for an operation retried through connection loss (while its ZooKeeper session lives).
   * Fields left out keep their defaults (see RetryPolicy).
   * @default { retries: 10, minTimeout: 20, maxTimeout: 1000, maxRetryTime: Infinity }
   */
  retry?: RetryPolicy | undefined;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
  /** How handles are made. @default the native client; zk-election/testing's MemoryZooKeeper gives another */
  transport?: Transport | undefined;
  /** The monotonic clock of leases and term timers. @default the system's (performance.now) */
  clock?: Clock | undefined;
}
