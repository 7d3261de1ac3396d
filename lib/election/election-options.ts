/** Options of Election and electLeader, validated up front with exact messages. */
import { InvalidArgumentError } from '../errors.js';
import { encodePayload, hostName } from '../znode/payload.js';
import type { Leadership, SuspendedPolicy } from './leadership.js';
import type { Logger } from '../util/logger.js';
import { validateRetryPolicy, type RetryPolicy } from '../session/retry.js';
import { DEFAULT_SESSION_TIMEOUT, Session, type AuthInfo } from '../session/session.js';
import { validateAuth } from '../session/session-validate.js';
import { CREATOR_ALL_WORLD_READ, validateAcl } from '../zk/acl.js';
import { validateTlsOptions, type TlsOptions } from '../session/tls-options.js';
import type { Acl } from '../zk/handle.js';
import { keysOf, optionalSignal, optionalTimeout, optionsObject, positiveInteger, validateElectionPath } from '../util/validate.js';

export interface CandidateOptions {
  /**
   * Where ZooKeeper is: `host:port,...[/chroot]`, or an existing Session to share (many elections
   * on one session cost one connection; the shared session is never closed by us).
   * @default process.env.ZK_CONNECT, then '127.0.0.1:2181'
   */
  connect?: string | Session | undefined;
  /** This participant's id, shown to operators. @default `${hostname}:${pid}:${random}` */
  id?: string | undefined;
  /** JSON-serialisable metadata stored in the candidate node. */
  data?: unknown;
  /** Requested session timeout, ms (ignored with a shared Session). @default 10000 */
  sessionTimeout?: number | undefined;
  /** Time to wait for a connection, ms. @default 10000 */
  connectTimeout?: number | undefined;
  /** Credentials added to the session, e.g. `{ scheme: 'digest', credentials: 'user:secret' }`. */
  auth?: AuthInfo | AuthInfo[] | undefined;
  /**
   * Connect over TLS (ZooKeeper's secureClientPort): **paths** of PEM files, checked when this is
   * called, before anything connects (TLS_CONFIG). Ignored with a shared Session (it has its own).
   * @default plaintext
   */
  tls?: TlsOptions | undefined;
  /**
   * ACL for the nodes we create (candidate nodes and missing parents), in the create request itself.
   * @default with `auth` (or a shared Session that has it): all permissions for the creator, READ for everyone; without: world:anyone, all permissions
   */
  acl?: Acl[] | undefined;
  /**
   * While disconnected: 'lease' keeps leadership until the local lease runs out and resumes it on
   * reconnection with the same session; 'strict' gives it up at the first disconnection.
   * @default 'lease'
   */
  suspendedPolicy?: SuspendedPolicy | undefined;
  /** Safety margin subtracted from the lease, ms. @default 10% of the negotiated session timeout */
  leaseMargin?: number | undefined;
  /** Resign and close sessions on SIGINT, SIGTERM and uncaught exceptions. @default false */
  handleSignals?: boolean | undefined;
  /**
   * Backoff for one request retried through connection loss, on a session this candidate opens for
   * itself (a shared Session uses its own `retry`).
   * @default { retries: 10, minTimeout: 20, maxTimeout: 1000 }
   */
  retry?: RetryPolicy | undefined;
  /**
   * Backoff between start-overs: after the session expired, our node was deleted or the connection
   * stayed lost, the candidate rejoins with a fresh node.
   * @default { retries: Infinity, minTimeout: 50, maxTimeout: 2000 }
   */
  rejoin?: RetryPolicy | undefined;
  /**
   * How much this candidate is preferred as leader: a whole number from 0. Once it has waited
   * `preferAfter` ms, a candidate of a strictly higher priority than the leader takes leadership
   * over through a handoff (the highest priority first; among equals the one ahead in the queue).
   * Equal priorities never move leadership. Stored in the candidate's node. @default 0
   */
  priority?: number | undefined;
  /**
   * How long a preferred candidate waits before it takes leadership over, ms: a candidate that
   * restarts again and again never gets there. @default 5000
   */
  preferAfter?: number | undefined;
  /** A winston logger (or anything with its five methods); the library is silent without one. */
  logger?: Logger | undefined;
}

export const DEFAULT_PREFER_AFTER = 5000;
/** The largest priority: enough for any ranking, small enough to compare exactly everywhere. */
const MAX_PRIORITY = 1_000_000;

/** Every option of a candidate, resolved once: what the election runs on. */
export interface ValidatedCandidateOptions {
  id: string;
  payload: Buffer;
  priority: number;
  preferAfter: number;
  connect: string | Session | undefined;
  sessionTimeout: number | undefined;
  connectTimeout: number | undefined;
  auth: AuthInfo | AuthInfo[] | undefined;
  tls: TlsOptions | undefined;
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
  'connect', 'id', 'data', 'sessionTimeout', 'connectTimeout', 'auth', 'tls', 'acl', 'suspendedPolicy', 'leaseMargin', 'handleSignals', 'retry', 'rejoin', 'priority', 'preferAfter', 'logger',
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
  const priority = options.priority ?? 0;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
    throw new InvalidArgumentError(`Expected \`priority\` to be a whole number from 0 to ${MAX_PRIORITY}, got \`${String(priority)}\``);
  }
  return {
    id,
    payload: encodePayload(id, options.data, priority),
    priority,
    preferAfter: optionalTimeout('preferAfter', options.preferAfter) ?? DEFAULT_PREFER_AFTER,
    connect: options.connect,
    sessionTimeout,
    connectTimeout: options.connectTimeout === undefined ? undefined : positiveInteger('connectTimeout', options.connectTimeout, 0),
    auth: options.auth,
    tls: validateTlsOptions(options.tls),
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
  requeue?: boolean | undefined;
  /**
   * Called when a term ends for any reason but resign() or close() (lost, step-down), before our
   * node is released: while it runs nobody else can be elected, so stop your work here and the
   * next leader starts only after it has stopped. Keep it bounded; errors are emitted as `error`.
   */
  drain?: ((leadership: Leadership) => Promise<void> | void) | undefined;
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
