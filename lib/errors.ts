/**
 * Every error this library throws is a {@link ZkElectionError} with a stable string `code`,
 * so callers can branch on `err.code` without parsing messages. Server return codes map to
 * classes through one table, {@link errorForReturnCode}.
 */

/**
 * Codes that name a ZooKeeper return code: what the server (or its C client) answered. Each is
 * spelled as ZooKeeper's Java client spells the code (KeeperException.Code), so a user who knows
 * ZooKeeper reads it at once.
 */
export type ZooKeeperErrorCode =
  | 'NO_NODE'
  | 'NODE_EXISTS'
  | 'NO_AUTH'
  | 'AUTH_FAILED'
  | 'CONNECTION_LOSS'
  | 'OPERATION_TIMEOUT'
  | 'SESSION_EXPIRED'
  | 'SESSION_MOVED'
  | 'BAD_VERSION'
  | 'NOT_EMPTY'
  | 'NO_CHILDREN_FOR_EPHEMERALS'
  | 'INVALID_ACL'
  | 'BAD_ARGUMENTS'
  | 'INVALID_STATE'
  | 'MARSHALLING_ERROR'
  | 'UNIMPLEMENTED'
  | 'CLOSING'
  | 'ZOOKEEPER_ERROR';

/** Codes of this library's own: none of them is a ZooKeeper return code's name (a test holds that). */
export type LibraryErrorCode =
  | 'INVALID_PATH'
  | 'INVALID_ARGUMENT'
  | 'INVALID_CONNECT_STRING'
  | 'NATIVE_CLIENT'
  | 'DATA_TOO_LARGE'
  | 'SESSION_TIMEOUT_OUT_OF_RANGE'
  | 'UNREACHABLE'
  | 'TLS_CONFIG'
  | 'ABORTED'
  | 'TIMEOUT'
  | 'CLOSED'
  | 'ALREADY_STARTED'
  | 'NOT_STARTED'
  | 'ILLEGAL_TRANSITION'
  | 'LEADERSHIP_LOST'
  | 'CANDIDATE_GONE'
  | 'DRAIN_FAILED'
  | 'UNEXPECTED_REPLY'
  | 'NO_LEADER'
  | 'NO_PARTICIPANT'
  | 'NOT_LEADER'
  | 'HANDOFF_TARGET_GONE'
  | 'HANDOFF_INTERRUPTED';

/** Stable codes; new ones may be added, existing ones never change meaning. */
export type ErrorCode = ZooKeeperErrorCode | LibraryErrorCode;

/** Base class: `code` is stable, `cause` is passed through. */
export class ZkElectionError extends Error {
  override name = 'ZkElectionError';
  readonly code: ErrorCode;

  constructor(message: string, code: ErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * True when `error` is one of this library's errors, with `code` among `codes` when any are given:
 * `if (isZkElectionError(error, 'NO_NODE')) ...` instead of a cast.
 */
export function isZkElectionError<C extends ErrorCode>(error: unknown, ...codes: C[]): error is ZkElectionError & { readonly code: C } {
  return error instanceof ZkElectionError && (codes.length === 0 || (codes as ErrorCode[]).includes(error.code));
}

/** A return code from ZooKeeper (`rc`), with the operation and path it answered. */
export class ZooKeeperError extends ZkElectionError {
  override name = 'ZooKeeperError';
  readonly rc: number;
  readonly operation: string | undefined;
  readonly path: string | undefined;

  constructor(rc: number, code: ZooKeeperErrorCode, detail: { operation?: string; path?: string; message?: string } = {}) {
    const where = detail.operation ? ` (${detail.operation}${detail.path ? ` ${detail.path}` : ''})` : '';
    super(`${detail.message ?? describeReturnCode(rc)}${where}`, code);
    this.rc = rc;
    this.operation = detail.operation;
    this.path = detail.path;
  }
}

export class NoNodeError extends ZooKeeperError { override name = 'NoNodeError'; }
export class NodeExistsError extends ZooKeeperError { override name = 'NodeExistsError'; }
export class NoAuthError extends ZooKeeperError { override name = 'NoAuthError'; }
export class ConnectionLossError extends ZooKeeperError { override name = 'ConnectionLossError'; }
export class OperationTimeoutError extends ZooKeeperError { override name = 'OperationTimeoutError'; }
export class SessionExpiredError extends ZooKeeperError { override name = 'SessionExpiredError'; }

type ZooKeeperErrorClass = new (rc: number, code: ZooKeeperErrorCode, detail?: { operation?: string; path?: string }) => ZooKeeperError;

/** The one table from ZooKeeper return codes to codes, classes and messages. */
const RETURN_CODES: ReadonlyMap<number, readonly [ZooKeeperErrorCode, ZooKeeperErrorClass, string]> = new Map([
  [-1, ['ZOOKEEPER_ERROR', ZooKeeperError, 'system error']],
  [-2, ['ZOOKEEPER_ERROR', ZooKeeperError, 'runtime inconsistency']],
  [-3, ['ZOOKEEPER_ERROR', ZooKeeperError, 'data inconsistency']],
  [-4, ['CONNECTION_LOSS', ConnectionLossError, 'connection to ZooKeeper lost']],
  [-5, ['MARSHALLING_ERROR', ZooKeeperError, 'marshalling error']],
  [-6, ['UNIMPLEMENTED', ZooKeeperError, 'operation not implemented by the server']],
  [-7, ['OPERATION_TIMEOUT', OperationTimeoutError, 'operation timed out']],
  [-8, ['BAD_ARGUMENTS', ZooKeeperError, 'bad arguments']],
  [-9, ['INVALID_STATE', ZooKeeperError, 'invalid client state']],
  [-101, ['NO_NODE', NoNodeError, 'node does not exist']],
  [-102, ['NO_AUTH', NoAuthError, 'not authorised']],
  [-103, ['BAD_VERSION', ZooKeeperError, 'version conflict']],
  [-108, ['NO_CHILDREN_FOR_EPHEMERALS', ZooKeeperError, 'ephemeral nodes may not have children']],
  [-110, ['NODE_EXISTS', NodeExistsError, 'node already exists']],
  [-111, ['NOT_EMPTY', ZooKeeperError, 'node has children']],
  [-112, ['SESSION_EXPIRED', SessionExpiredError, 'session expired']],
  [-113, ['ZOOKEEPER_ERROR', ZooKeeperError, 'invalid callback']],
  [-114, ['INVALID_ACL', ZooKeeperError, 'invalid ACL']],
  [-115, ['AUTH_FAILED', ZooKeeperError, 'authentication failed']],
  [-116, ['CLOSING', ZooKeeperError, 'client is closing']],
  [-118, ['SESSION_MOVED', ZooKeeperError, 'session moved to another server']],
]);

export function describeReturnCode(rc: number): string {
  return RETURN_CODES.get(rc)?.[2] ?? `ZooKeeper return code ${rc}`;
}

/** Maps a non-zero return code to its typed error. */
export function errorForReturnCode(rc: number, detail: { operation?: string; path?: string } = {}): ZooKeeperError {
  const entry = RETURN_CODES.get(rc);
  if (!entry) return new ZooKeeperError(rc, 'ZOOKEEPER_ERROR', detail);
  const [code, ErrorClass] = entry;
  return new ErrorClass(rc, code, detail);
}

/** Return codes worth retrying on the same session: the request may or may not have happened. */
export function isRetryable(error: unknown): boolean {
  return isZkElectionError(error, 'CONNECTION_LOSS', 'OPERATION_TIMEOUT');
}

/** A path or connection string as a message shows it: quoted, escaped, and cut after 100 characters (a 2 MB path makes no 2 MB message). */
function shownPath(value: string): string {
  return value.length > 100 ? `${JSON.stringify(value.slice(0, 100))}... (${value.length} characters)` : JSON.stringify(value);
}

/**
 * A connection string with everything up to its last `@` replaced by `***`: ZooKeeper takes no
 * `user:password@` (credentials go in `auth`), but one written there is a secret all the same,
 * and a password may hold `,` or `/`, so no narrower cut is safe.
 */
export function redactConnectString(connect: string): string {
  const at = connect.lastIndexOf('@');
  return at === -1 ? connect : `***${connect.slice(at)}`;
}

export class InvalidPathError extends ZkElectionError {
  override name = 'InvalidPathError';
  readonly path: string;
  constructor(path: string, why: string) {
    super(`invalid election path ${shownPath(path)}: ${why}`, 'INVALID_PATH');
    this.path = path;
  }
}

export class InvalidArgumentError extends ZkElectionError {
  override name = 'InvalidArgumentError';
  constructor(message: string) {
    super(message, 'INVALID_ARGUMENT');
  }
}

export class InvalidConnectStringError extends ZkElectionError {
  override name = 'InvalidConnectStringError';
  readonly connectString: string;
  constructor(connectString: string, why: string) {
    super(`invalid connection string ${shownPath(redactConnectString(connectString))}: ${why}`, 'INVALID_CONNECT_STRING');
    this.connectString = redactConnectString(connectString);
  }
}

/**
 * The native client (zk-election's own build of the `zookeeper` binding) is missing, or is not the
 * patched build: its install script did not run (`--ignore-scripts`, pnpm before `approve-builds`)
 * or failed. The message names the file and the fix.
 */
export class NativeClientError extends ZkElectionError {
  override name = 'NativeClientError';
  /** The addon file that was looked for. */
  readonly addonPath: string;
  constructor(message: string, addonPath: string, options?: { cause?: unknown }) {
    super(message, 'NATIVE_CLIENT', options);
    this.addonPath = addonPath;
  }
}

export class DataTooLargeError extends ZkElectionError {
  override name = 'DataTooLargeError';
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(`participant data is ${size} bytes once encoded; ZooKeeper accepts at most ${limit}`, 'DATA_TOO_LARGE');
    this.size = size;
    this.limit = limit;
  }
}

export class SessionTimeoutError extends ZkElectionError {
  override name = 'SessionTimeoutError';
  readonly requested: number;
  readonly negotiated: number;
  constructor(requested: number, negotiated: number) {
    super(
      `sessionTimeout ${requested} ms is outside the server's range; it negotiated ${negotiated} ms`,
      'SESSION_TIMEOUT_OUT_OF_RANGE',
    );
    this.requested = requested;
    this.negotiated = negotiated;
  }
}

export class UnreachableError extends ZkElectionError {
  override name = 'UnreachableError';
  readonly connectString: string;
  /** What a probe of the servers found (a TLS handshake's failure, a refused connection), when one ran. */
  readonly detail: string | undefined;
  constructor(connectString: string, timeoutMs: number, options?: { cause?: unknown; detail?: string | undefined; tls?: boolean | undefined }) {
    const how = options?.tls ? ' over TLS' : '';
    // A name that does not resolve is said in the message: it is the likeliest typo of all.
    const why = options?.detail ? `: ${options.detail}` : options?.cause instanceof HostNotFoundError ? `: ${options.cause.message}` : '';
    super(`cannot reach ZooKeeper at ${redactConnectString(connectString)}${how} within ${timeoutMs} ms${why}`, 'UNREACHABLE', options);
    this.connectString = redactConnectString(connectString);
    this.detail = options?.detail;
  }
}

/**
 * The `tls` option is unusable: a file missing, unreadable or not PEM, a key without its
 * certificate (or the other way round), a key that is not the certificate's, a certificate out of
 * its validity. Thrown before anything connects. A passphrase is never repeated in the message.
 */
export class TlsConfigError extends ZkElectionError {
  override name = 'TlsConfigError';
  /** The option at fault: `tls`, `tls.ca`, `tls.cert`, `tls.key` or `tls.passphrase`. */
  readonly option: string;
  /** The file it names, as an absolute path, when there is one. */
  readonly file: string | undefined;
  constructor(option: string, message: string, options?: { file?: string; cause?: unknown }) {
    super(`${option}${options?.file ? ` (${options.file})` : ''}: ${message}`, 'TLS_CONFIG', options);
    this.option = option;
    this.file = options?.file;
  }
}

/**
 * Not one host of a connection string resolved to an address (a typo, or DNS not ready yet): the
 * `cause` of an UNREACHABLE once the connect timeout has run out, never thrown to a caller on its
 * own. `code` is ENOTFOUND, as on Node's own resolver errors.
 */
export class HostNotFoundError extends Error {
  override name = 'HostNotFoundError';
  readonly code = 'ENOTFOUND';
  readonly hostnames: readonly string[];
  constructor(hostnames: readonly string[]) {
    const names = hostnames.join(', ');
    super(hostnames.length === 1 ? `the name ${names} does not resolve` : `none of the names ${names} resolves`);
    this.hostnames = hostnames;
  }
}

export class AbortedError extends ZkElectionError {
  override name = 'AbortedError';
  constructor(message = 'the operation was aborted', options?: { cause?: unknown }) {
    super(message, 'ABORTED', options);
  }
}

export class TimeoutError extends ZkElectionError {
  override name = 'TimeoutError';
  constructor(message: string) {
    super(message, 'TIMEOUT');
  }
}

export class ClosedError extends ZkElectionError {
  override name = 'ClosedError';
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what} is closed`, 'CLOSED', options);
  }
}

/** Why leadership ended or can no longer be trusted. */
export type LostReason = 'session-expired' | 'connection-suspended' | 'node-deleted' | 'step-down' | 'resigned' | 'closed';

/** The `reason` of an aborted `Leadership.signal`. */
export class LeadershipLostError extends ZkElectionError {
  override name = 'LeadershipLostError';
  readonly reason: LostReason;
  constructor(reason: LostReason, detail?: string, options?: { cause?: unknown }) {
    super(`leadership lost: ${reason}${detail ? ` (${detail})` : ''}`, 'LEADERSHIP_LOST', options);
    this.reason = reason;
  }
}

/** Our candidate node disappeared (deleted by someone, or its parent removed): the candidacy starts over. */
export class CandidateGoneError extends ZkElectionError {
  override name = 'CandidateGoneError';
  readonly node: string;
  constructor(node: string) {
    super(`candidate node ${node} no longer exists`, 'CANDIDATE_GONE');
    this.node = node;
  }
}

/** Nobody leads the election (step-down had nobody to ask). */
export class NoLeaderError extends ZkElectionError {
  override name = 'NoLeaderError';
  constructor(path: string) {
    super(`no leader at ${path}`, 'NO_LEADER');
  }
}

/** No participant of the election has the given id. */
export class NoParticipantError extends ZkElectionError {
  override name = 'NoParticipantError';
  constructor(path: string, id: string) {
    super(`no participant with id ${JSON.stringify(id)} at ${path}`, 'NO_PARTICIPANT');
  }
}

/** The participant asked to step down is not the leader (only a leader can step down). */
export class NotLeaderError extends ZkElectionError {
  override name = 'NotLeaderError';
  constructor(path: string, id: string, leader: string) {
    super(`participant ${JSON.stringify(id)} is not the leader of ${path} (${JSON.stringify(leader)} is)`, 'NOT_LEADER');
  }
}

/**
 * An election was used out of turn: started twice, read before it was started; or (a bug of ours,
 * please report it) its lifecycle was asked for a transition its table does not allow.
 */
export class ElectionStateError extends ZkElectionError {
  override name = 'ElectionStateError';
  constructor(message: string, code: 'ALREADY_STARTED' | 'NOT_STARTED' | 'ILLEGAL_TRANSITION') {
    super(message, code);
  }
}

/** The `drain` hook threw; the term's node is released all the same. Emitted as an `error` event. */
export class DrainFailedError extends ZkElectionError {
  override name = 'DrainFailedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'DRAIN_FAILED', options);
  }
}

/**
 * A handoff ended in a normal succession instead: the participant it named left before it could
 * lead (HANDOFF_TARGET_GONE), or the leader left on its own before it was asked to step down
 * (HANDOFF_INTERRUPTED). `leader` leads now; nobody led beside anybody else.
 */
export class HandoffError extends ZkElectionError {
  override name = 'HandoffError';
  /** The participant the handoff named. */
  readonly to: string;
  /** The id of the participant that leads now. */
  readonly leader: string;
  constructor(code: 'HANDOFF_TARGET_GONE' | 'HANDOFF_INTERRUPTED', path: string, to: string, leader: string) {
    const what = code === 'HANDOFF_TARGET_GONE' ? `participant ${JSON.stringify(to)} left before it could lead ${path}` : `the leader of ${path} left before it could hand over to ${JSON.stringify(to)}`;
    super(`${what}; ${JSON.stringify(leader)} leads instead`, code);
    this.to = to;
    this.leader = leader;
  }
}
