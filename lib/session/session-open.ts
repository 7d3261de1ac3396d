/**
 * Opening a ZooKeeper session for a Session: create a handle through the transport, wait until it
 * connects (bounded), check the granted timeout and add credentials before anyone may use it. A
 * handle that fails any step is closed here and never reaches the session's users; one that dies
 * before it connects (the binding's spin guard) is replaced with backoff within `connectTimeout`.
 */
import type { Clock } from '../util/clock.js';
import { ClosedError, errorForReturnCode, HostNotFoundError, SessionTimeoutError, UnreachableError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { OPEN_RETRY, retry } from './retry.js';
import type { AuthInfo } from './session-options.js';
import { probeServers, type ProbeResult } from './connect-probe.js';
import type { TlsOptions } from './tls-options.js';
import { AUTH_FAILED_STATE, type Transport, type ZkHandle } from '../zk/handle.js';

export interface OpenSessionOptions extends Omit<OpenHandleOptions, 'timeoutMs'> {
  logger: Logger;
  /** True once the Session is closed: no new handle then. */
  isClosed(): boolean;
  /** Explain an UNREACHABLE by probing the servers (connect-probe.ts): for real servers, not an in-memory transport. */
  probe: boolean;
}

/**
 * Opens a session: handles are replaced while they die before connecting, or while no host of the
 * connection string resolves (DNS may not be ready yet), within `connectTimeout`; then UNREACHABLE,
 * with the last failure as its cause.
 */
export async function openSession(options: OpenSessionOptions): Promise<ZkHandle> {
  const deadline = performance.now() + options.connectTimeout;
  const worthAnother = (error: unknown): boolean => (error instanceof ClosedError || error instanceof HostNotFoundError) && !options.isClosed();
  const probe = options.probe ? new SlowOpenProbe(options, deadline) : undefined;
  try {
    return await retry('open session', () => openHandle({ ...options, timeoutMs: Math.max(1, deadline - performance.now()) }), {
      ...OPEN_RETRY,
      maxRetryTime: options.connectTimeout,
      signal: options.closing,
      logger: options.logger,
      retryIf: worthAnother,
    });
  } catch (error) {
    const failure = worthAnother(error) ? new UnreachableError(options.connect, options.connectTimeout, { cause: error }) : error;
    if (!(failure instanceof UnreachableError)) throw failure;
    // The message says what the probe found, per server and what to do; the cause keeps the native
    // client's own reason for its last refused handshake, the verdict of the client that failed.
    const native = failure.cause instanceof TlsHandshakeError ? failure.cause : undefined;
    const found = probe?.result;
    const detail = found?.detail ?? (native ? `TLS refused: ${native.message}` : undefined);
    throw new UnreachableError(options.connect, options.connectTimeout, { cause: native ?? found?.cause ?? failure.cause, tls: options.tls !== undefined, ...(detail ? { detail } : {}) });
  } finally {
    probe?.stop();
  }
}

/**
 * An opening that has not connected after PROBE_AFTER_MS (or half its timeout) probes the servers
 * once, within what is left of its timeout, so that an UNREACHABLE can say why. A healthy open
 * connects in milliseconds and never probes.
 */
class SlowOpenProbe {
  result: ProbeResult | undefined;
  readonly #timer: NodeJS.Timeout;
  #stopped = false;

  constructor(options: OpenSessionOptions, deadline: number) {
    const { connect, tls, connectTimeout, logger } = options;
    this.#timer = setTimeout(() => {
      // The probe's answer must be in before the opening gives up.
      const budget = Math.max(1, deadline - performance.now() - PROBE_MARGIN_MS);
      probeServers(connect, tls, budget).then(
        (found) => void (this.#stopped || (this.result = found)),
        (error: unknown) => logger.debug('connect probe failed', { error: (error as Error).message }),
      );
    }, Math.min(PROBE_AFTER_MS, connectTimeout / 2));
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }
}
const PROBE_AFTER_MS = 1000;
const PROBE_MARGIN_MS = 100;

export interface OpenHandleOptions {
  transport: Transport;
  connect: string;
  requestedTimeout: number;
  connectTimeout: number;
  /** Refuse a granted timeout other than the requested one. */
  strict: boolean;
  auth: readonly AuthInfo[];
  /** TLS files for the handle (validated); plaintext without. */
  tls: TlsOptions | undefined;
  clock: Clock;
  /** What is left of the session's connect timeout, ms. */
  timeoutMs: number;
  /** The session's close(): ends the wait at once. */
  closing: AbortSignal;
  /** Called with the new handle before it connects. */
  adopt(handle: ZkHandle): void;
  /** Called when the handle failed and was closed. */
  abandon(handle: ZkHandle): void;
}

/** Resolves with a connected, authenticated handle; rejects with UNREACHABLE, AUTH_FAILED, SESSION_TIMEOUT_OUT_OF_RANGE or CLOSED. */
export async function openHandle(options: OpenHandleOptions): Promise<ZkHandle> {
  const handle = options.transport({ connect: options.connect, sessionTimeout: options.requestedTimeout, clock: options.clock, ...(options.tls ? { tls: options.tls } : {}) });
  options.adopt(handle);
  try {
    await waitConnected(handle, options);
    const granted = handle.negotiatedTimeout;
    if (options.strict && granted > 0 && granted !== options.requestedTimeout) throw new SessionTimeoutError(options.requestedTimeout, granted);
    for (const { scheme, credentials } of options.auth) await handle.addAuth(scheme, credentials);
  } catch (error) {
    options.abandon(handle);
    handle.close();
    throw error;
  }
  return handle;
}

function waitConnected(handle: ZkHandle, options: OpenHandleOptions): Promise<void> {
  const { closing, connect, connectTimeout, timeoutMs } = options;
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      handle.off('connected', onConnected);
      handle.off('closed', onClosed);
      closing.removeEventListener('abort', onClose);
    };
    const onConnected = (): void => (cleanup(), resolve());
    const onClosed = (code: number): void => {
      cleanup();
      reject(code === AUTH_FAILED_STATE ? errorForReturnCode(-115) : new ClosedError('session'));
    };
    const onClose = (): void => (cleanup(), reject(new ClosedError('session')));
    // A real timer, not the session's clock: this bounds a wait for the network. Ref'd: someone
    // awaits it, and a handle that never connects may hold nothing else on the event loop.
    const timer = setTimeout(() => {
      cleanup();
      // Read before the handle is closed: why its last TLS handshake failed, if one did.
      const refused = handle.tlsError;
      reject(new UnreachableError(connect, connectTimeout, refused ? { cause: new TlsHandshakeError(refused) } : {}));
    }, timeoutMs);
    handle.on('connected', onConnected);
    handle.on('closed', onClosed);
    closing.addEventListener('abort', onClose, { once: true });
    if (handle.connected) onConnected();
  });
}

/** The native client's reason for its last refused TLS handshake (ZkHandle.tlsError): the `cause` of an UNREACHABLE. */
export class TlsHandshakeError extends Error {
  override name = 'TlsHandshakeError';
}
