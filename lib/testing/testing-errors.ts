/**
 * The test kit's own errors. They are not ZkElectionErrors: a launcher failure (no Java, a port
 * taken, a JVM that died) is a fact about the test machine, not about an election, so the
 * library's error codes carry nothing of it. Every error here has a stable `code` all the same.
 */

export type TestingErrorCode =
  /** No Java runtime or no ZooKeeper server jar on this machine. */
  | 'ZOOKEEPER_NOT_FOUND'
  /** A server JVM exited before it served. */
  | 'SERVER_EXITED'
  /** A server or ensemble did not reach the awaited state in time (start, quorum, stop, a four-letter word). */
  | 'SERVER_TIMEOUT'
  /** A fixed port was already taken. */
  | 'PORT_IN_USE'
  /** An option out of range. */
  | 'INVALID_ARGUMENT'
  /** The server is not running (pause/resume of a stopped server), or its ensemble was stopped. */
  | 'NOT_RUNNING'
  /** The caller's signal aborted the start. */
  | 'ABORTED'
  /** `openssl` or `keytool` failed while making a TLS ensemble's certificates. */
  | 'TLS_SETUP';

export class TestingError extends Error {
  override name = 'TestingError';
  readonly code: TestingErrorCode;
  constructor(message: string, code: TestingErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export class ZooKeeperNotFoundError extends TestingError {
  override name = 'ZooKeeperNotFoundError';
  constructor(message: string) {
    super(message, 'ZOOKEEPER_NOT_FOUND');
  }
}

export class ServerTimeoutError extends TestingError {
  override name = 'ServerTimeoutError';
  constructor(message: string) {
    super(message, 'SERVER_TIMEOUT');
  }
}

/** Rejects with the caller's reason as `cause`. */
export function abortedStart(signal: AbortSignal): TestingError {
  return new TestingError('the local ZooKeeper start was aborted', 'ABORTED', { cause: signal.reason });
}
