/** Options of Election and electLeader, validated up front with exact messages. */
import { InvalidArgumentError } from '../errors.js';
import { encodePayload, hostName } from '../znode/payload.js';
import type { Leadership, SuspendedPolicy } from './leadership.js';
import type { Logger } from '../util/logger.js';
import { validateRetryPolicy, type RetryPolicy } from '../session/retry.js';
import { DEFAULT_SESSION_TIMEOUT, Session, type AuthInfo } from '../session/session.js';
import { validateAuth } from '../session/session-validate.js';
import { CREATOR_ALL_WORLD_READ, validateAcl } from '../zk/acl.js';
import type { Acl } from '../zk/handle.js';
import { keysOf, optionalSignal, optionalTimeout, optionsObject, positiveInteger, validateElectionPath } from '../util/validate.js';

export interface CandidateOptions {
  /**
   * Where ZooKeeper is: `host:port,...[/chroot]`, or an existing Session to share (many elections
   * on one session cost one connection; the shared session is never closed by us).
   * @default process.env.ZK_CONNECT, then '127.0.0.1:2181'
   */
  connect?: string | Session;
  /** This participant's id, shown to operators. @default `${hostname}:${pid}:${random}` */
  id?: string;
  /** JSON-serialisable metadata stored in the candidate node. */
  data?: unknown;
  /** Requested session timeout, ms (ignored with a shared Session). @default 10000 */
  sessionTimeout?: number;
  /** Time to wait for a connection, ms. @default 10000 */
  connectTimeout?: number;
  /** Credentials added to the session, e.g. `{ scheme: 'digest', credentials: 'user:secret' }`. */
  auth?: AuthInfo | AuthInfo[];
  /**
   * ACL for the nodes we create (candidate nodes and missing parents).
   * @default with `auth` (or a shared Session that has it): all permissions for the creator, READ for everyone; without: world:anyone, all permissions
   */
  acl?: Acl[];
  /**
   * While disconnected: 'lease' keeps leadership until the local lease runs out and resumes it on
   * reconnection with the same session; 'strict' gives it up at the first disconnection.
   * @default 'lease'
   */
  suspendedPolicy?: SuspendedPolicy;
  /** Safety margin subtracted from the lease, ms. @default 10% of the negotiated session timeout */
  leaseMargin?: number;
  /** Resign and close sessions on SIGINT, SIGTERM and uncaught exceptions. @default false */
  handleSignals?: boolean;
  /**
   * Backoff for one request retried through connection loss, on a session this candidate opens for
   * itself (a shared Session uses its own `retry`).
   * @default { retries: 10, minTimeout: 20, maxTimeout: 1000 }
   */
  retry?: RetryPolicy;
  /**
   * Backoff between start-overs: after the session expired, our node was deleted or the connection
   * stayed lost, the candidate rejoins with a fresh node.
   * @default { retries: Infinity, minTimeout: 50, maxTimeout: 2000 }
   */
  rejoin?: RetryPolicy;
  /** A winston logger (or anything with its five methods); the library is silent without one. */
  logger?: Logger;
}

/** Every option of a candidate, resolved once: what the election runs on. */
export interface ValidatedCandidateOptions {
  id: string;
  payload: Buffer;
  connect: string | Session | undefined;
  sessionTimeout: number | undefined;
  connectTimeout: number | undefined;
  auth: AuthInfo | AuthInfo[] | undefined;
  acl: Acl[] | undefined;
  suspendedPolicy: SuspendedPolicy;
  /** undefined: 10 % of the negotiated session timeout, decided once the session is known. */
  leaseMargin: number | undefined;
  handleSignals: boolean;
  retry: RetryPolicy | undefined;
  rejoin: RetryPolicy | undefined;
  logger: Logger | undefined;
}

export function defaultId(): string {
  return `${hostName()}:${process.pid}:${Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(2))).toString('hex')}`;
}

/** The names of CandidateOptions, of ElectionOptions, and of the two functions' options: every one, checked at compile time. */
export const CANDIDATE_KEYS = keysOf<CandidateOptions>()(
  'connect', 'id', 'data', 'sessionTimeout', 'connectTimeout', 'auth', 'acl', 'suspendedPolicy', 'leaseMargin', 'handleSignals', 'retry', 'rejoin', 'logger',
);
export const ELECTION_KEYS = keysOf<ElectionOptions>()(...CANDIDATE_KEYS, 'requeue', 'drain');

export function validateCandidateOptions(path: string, options: CandidateOptions, keys: readonly string[] = CANDIDATE_KEYS): ValidatedCandidateOptions {
  optionsObject('options', options, keys);
  validateElectionPath(path);
  const id = options.id ?? defaultId();
  if (typeof id !== 'string' || id.length === 0 || id.length > 1024) {
    throw new InvalidArgumentError('Expected `id` to be a non-empty string of at most 1024 characters');
  }
  const suspendedPolicy = options.suspendedPolicy ?? 'lease';
  if (suspendedPolicy !== 'lease' && suspendedPolicy !== 'strict') {
    throw new InvalidArgumentError("Expected `suspendedPolicy` to be 'lease' or 'strict'");
  }
  const sessionTimeout = options.sessionTimeout === undefined ? undefined : positiveInteger('sessionTimeout', options.sessionTimeout, 0);
  const leaseMargin = optionalTimeout('leaseMargin', options.leaseMargin);
  // The lease is T - M: a margin of T or more leaves a leader that is never valid.
  const timeout = options.connect instanceof Session ? options.connect.requestedTimeout : (sessionTimeout ?? DEFAULT_SESSION_TIMEOUT);
  if (leaseMargin !== undefined && leaseMargin >= timeout) throw new InvalidArgumentError(`Expected \`leaseMargin\` to be less than the session timeout (${timeout} ms), got \`${leaseMargin}\`: the lease is what is left`);
  if (options.handleSignals !== undefined && typeof options.handleSignals !== 'boolean') throw new InvalidArgumentError('Expected `handleSignals` to be a boolean');
  const auth = validateAuth(options.auth);
  const credentialed = auth.length > 0 || (options.connect instanceof Session && options.connect.hasAuth);
  return {
    id,
    payload: encodePayload(id, options.data),
    connect: options.connect,
    sessionTimeout,
    connectTimeout: options.connectTimeout === undefined ? undefined : positiveInteger('connectTimeout', options.connectTimeout, 0),
    auth: options.auth,
    // With credentials, nodes are the creator's by default: nobody without them can change the election.
    acl: validateAcl(options.acl) ?? (credentialed ? CREATOR_ALL_WORLD_READ.map((entry) => ({ ...entry })) : undefined),
    suspendedPolicy,
    leaseMargin,
    handleSignals: options.handleSignals ?? false,
    retry: validateRetryPolicy('retry', options.retry),
    rejoin: validateRetryPolicy('rejoin', options.rejoin),
    logger: options.logger,
  };
}

export function validateWaitOptions(options: { signal?: unknown; timeout?: unknown }): { signal: AbortSignal | undefined; timeout: number | undefined } {
  return { signal: optionalSignal('signal', options.signal), timeout: optionalTimeout('timeout', options.timeout) };
}

export interface ElectionOptions extends CandidateOptions {
  /** Rejoin after a lost term, an expired session or a deleted node. @default true */
  requeue?: boolean;
  /**
   * Called when a term ends for any reason but resign() or close() (lost, step-down), before our
   * node is released: while it runs nobody else can be elected, so stop your work here and the
   * next leader starts only after it has stopped. Keep it bounded; errors are emitted as `error`.
   */
  drain?: (leadership: Leadership) => Promise<void> | void;
}

export interface ValidatedElectionOptions extends ValidatedCandidateOptions {
  requeue: boolean;
  drain: ElectionOptions['drain'];
}

export function validateElectionOptions(path: string, options: ElectionOptions): ValidatedElectionOptions {
  const valid = validateCandidateOptions(path, options, ELECTION_KEYS);
  if (options.drain !== undefined && typeof options.drain !== 'function') throw new InvalidArgumentError('Expected `drain` to be a function');
  if (options.requeue !== undefined && typeof options.requeue !== 'boolean') throw new InvalidArgumentError('Expected `requeue` to be a boolean');
  return { ...valid, requeue: options.requeue ?? true, drain: options.drain };
}
