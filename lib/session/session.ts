/**
 * A Session is what the rest of the library observes of ZooKeeper: one connection state machine
 *
 *   connecting -> connected <-> suspended -> reconnected <-> suspended ...
 *                                   \-> expired -> (renew on demand) connecting -> connected
 *   any -> closed
 *
 * over one handle at a time. `suspended` means disconnected while the session may still live;
 * `expired` means the server ended it (or the handle died): its ephemeral nodes are gone and the
 * handle is never used again. A new handle, with a new session id, is opened only when someone
 * asks for one: an expired session is not silently replaced under a leader that still believes
 * in the old one.
 *
 * Each handle is one **epoch**. Whatever depends on one ZooKeeper session (a candidate node, a
 * term) keeps its epoch and asks `isCurrent(epoch)`; two services build on that: `retrying()`
 * (connection loss is retried while the epoch lives; a new epoch means start over) and
 * `deleteOwned()` (delete a node of ours until it is gone or its epoch is).
 *
 * Public: opening, the state and its event, the timeouts, the session id, close. Everything the
 * library itself calls (epochs, the handle, retrying, deletes, the keep-alive, the clock) is
 * tagged internal: callable inside the package, stripped from the published declarations (the
 * tag is not written out here: in this comment it would strip the first import). The session
 * password is no member at all: {@link sessionCredentials} reads it for zk-election/testing.
 */
import { EventEmitter } from 'node:events';
import { abortReason, anySignal, raceAbort, throwIfAborted } from '../util/abort.js';
import { systemClock, type Clock } from '../util/clock.js';
import { ClosedError, errorForReturnCode, InvalidArgumentError, isZkElectionError } from '../errors.js';
import { withContext, type Logger } from '../util/logger.js';
import { OPERATION_RETRY, resolveRetryPolicy, retryOnHandle, validateRetryPolicy, type ResolvedRetryPolicy } from './retry.js';
import { validateAuth, validateSessionOptions } from './session-validate.js';
import { optionalSignal, parseConnectString, positiveInteger } from '../util/validate.js';
import type { AuthInfo, SessionOptions } from './session-options.js';
import { nativeTransport } from '../zk/native-client.js';
import { KeepAlive } from './keep-alive.js';
import { openSession } from './session-open.js';
import { validateTlsOptions, type TlsOptions } from './tls-options.js';
import type { Transport, ZkHandle } from '../zk/handle.js';

export type SessionState = 'connecting' | 'connected' | 'suspended' | 'reconnected' | 'expired' | 'closed';

export interface SessionEvents {
  /** Every state change, after `session.state` has changed. */
  state: [state: SessionState, previous: SessionState];
}

export const DEFAULT_SESSION_TIMEOUT = 10_000;
export const DEFAULT_CONNECT_TIMEOUT = 10_000;

export function defaultConnectString(): string {
  return process.env.ZK_CONNECT || '127.0.0.1:2181';
}

/** What a second handle needs to attach to a live ZooKeeper session. A secret. */
export interface SessionCredentials {
  readonly id: string;
  readonly password: string;
  /** The session's TLS files: a twin must speak TLS to a TLS-only server too. */
  readonly tls: TlsOptions | undefined;
}

/** Set by Session's static block: the one way into the private credentials. */
let credentialsOf: (session: Session) => SessionCredentials | undefined;

/**
 * The live ZooKeeper session's id and password, or undefined when there is none: what a second
 * handle needs to attach to it, which is how zk-election/testing's expireSession() forces an
 * expiry. A function of this module, not a member: the package's entry points do not export it,
 * so no user of a Session can read its password.
 * @internal
 */
export function sessionCredentials(session: Session): SessionCredentials | undefined {
  return credentialsOf(session);
}

export class Session extends EventEmitter<SessionEvents> {
  readonly connectString: string;
  readonly requestedTimeout: number;
  readonly connectTimeout: number;
  /** The monotonic clock of leases and term timers (SessionOptions.clock). @internal */
  readonly clock: Clock;
  readonly #auth: AuthInfo[];
  readonly #tls: TlsOptions | undefined;
  readonly #strict: boolean;
  readonly #retry: ResolvedRetryPolicy;
  readonly #transport: Transport;
  readonly #log: Logger;
  #state: SessionState = 'connecting';
  #client: ZkHandle | undefined;
  #epoch = 0;
  #opening: Promise<ZkHandle> | undefined;
  readonly #deleting = new Map<string, Promise<void>>();
  /** The keep-alive of the current epoch, once a term asked for one. */
  #keepAlive: KeepAlive | undefined;
  /** Aborted by close(): ends an opening's back-off and every wait for a reconnection at once. */
  readonly #closing = new AbortController();

  static {
    credentialsOf = (session) => session.#credentials();
  }

  /** Opens a session and waits until it is connected (bounded by `connectTimeout`). */
  static async connect(options: SessionOptions = {}): Promise<Session> {
    const session = new Session(options);
    try {
      await session.connected(options.signal);
    } catch (error) {
      await session.close();
      throw error;
    }
    return session;
  }

  /** Prefer {@link Session.connect}; the constructor validates but does not connect. */
  constructor(options: SessionOptions = {}) {
    super();
    validateSessionOptions(options);
    // Every election sharing this session listens on it: thousands is normal, not a leak.
    this.setMaxListeners(0);
    this.connectString = options.connect ?? defaultConnectString();
    parseConnectString(this.connectString);
    this.requestedTimeout = positiveInteger('sessionTimeout', options.sessionTimeout, DEFAULT_SESSION_TIMEOUT);
    this.connectTimeout = positiveInteger('connectTimeout', options.connectTimeout, DEFAULT_CONNECT_TIMEOUT);
    optionalSignal('signal', options.signal);
    this.#auth = validateAuth(options.auth);
    this.#tls = validateTlsOptions(options.tls);
    if (options.strictSessionTimeout !== undefined && typeof options.strictSessionTimeout !== 'boolean') throw new InvalidArgumentError('Expected `strictSessionTimeout` to be a boolean');
    this.#strict = options.strictSessionTimeout ?? true;
    this.#retry = resolveRetryPolicy(OPERATION_RETRY, validateRetryPolicy('retry', options.retry));
    this.#transport = options.transport ?? nativeTransport;
    this.clock = options.clock ?? systemClock;
    this.#log = withContext(options.logger, { connect: this.connectString });
  }

  get state(): SessionState {
    return this.#state;
  }
  /** True when credentials are added to every ZooKeeper session: the nodes of an election on it get the creator's ACL by default. @internal */
  get hasAuth(): boolean {
    return this.#auth.length > 0;
  }
  /** True while a handle is connected (`connected` or `reconnected`). */
  get isConnected(): boolean {
    return this.#state === 'connected' || this.#state === 'reconnected';
  }
  /** The current epoch: a number that changes with every new ZooKeeper session; 0 before the first. @internal */
  get epoch(): number {
    return this.#epoch;
  }
  /** True while the ZooKeeper session of `epoch` lives (connected or suspended): its ephemeral nodes may exist. @internal */
  isCurrent(epoch: number): boolean {
    return epoch === this.#epoch && this.#client !== undefined && !this.#client.closed && this.#state !== 'closed';
  }
  /** The current session id in hex, '0' before the first connection. */
  get sessionId(): string {
    return this.#client?.sessionId ?? '0';
  }
  /** The session timeout granted by the server, ms. */
  get negotiatedTimeout(): number {
    const granted = this.#client?.negotiatedTimeout ?? -1;
    return granted > 0 ? granted : this.requestedTimeout;
  }
  /** Monotonic ms (on `clock`): the latest send time of a request the server answered, in `epoch` (default: the current one). @internal */
  lastContact(epoch = this.#epoch): number {
    return this.isCurrent(epoch) ? this.#client!.lastContact : -Infinity;
  }

  /**
   * The connected handle of the current session and its epoch, opening a new session first if
   * the last one expired. Waits at most `connectTimeout` for a new session, and for a suspended
   * one until it reconnects, expires, or `signal` aborts.
   *
   * An opening is shared by every caller that arrives while it runs (every election on a shared
   * session after an expiry) and belongs to the session: one caller's abort only ends that
   * caller's wait; the opening ends with its own timeout or with {@link Session.close}.
   * @internal
   */
  async connected(signal?: AbortSignal): Promise<{ handle: ZkHandle; epoch: number }> {
    for (;;) {
      throwIfAborted(signal);
      if (this.#state === 'closed') throw new ClosedError('session');
      if (this.#opening) {
        await raceAbort(this.#opening, signal);
        continue;
      }
      const live = this.#liveHandle(this.#epoch);
      if (live) return { handle: live, epoch: this.#epoch };
      if (this.isCurrent(this.#epoch)) {
        await this.#nextState(signal);
        continue;
      }
      this.#opening = this.#open().finally(() => {
        this.#opening = undefined;
      });
    }
  }

  /**
   * Runs `operation` on a connected handle, retrying connection loss with backoff (bounded by the
   * `retry` policy), waiting for the reconnection in between. With `epoch`, only on that ZooKeeper
   * session: once it is gone the call rejects with SESSION_EXPIRED, which means "start over"
   * (what depended on it, an ephemeral node, went with it). Without, on whatever session is current.
   * When the handle is connected already the request is sent before this returns.
   * @internal
   */
  retrying<T>(what: string, operation: (handle: ZkHandle) => Promise<T>, options: { epoch?: number; signal?: AbortSignal; retries?: number } = {}): Promise<T> {
    return retryOnHandle(what, operation, {
      live: () => this.#liveHandle(options.epoch ?? this.#epoch),
      attach: () => this.#attach(options.epoch, options.signal),
      policy: { ...this.#retry, ...(options.retries === undefined ? {} : { retries: options.retries }) },
      signal: options.signal,
      logger: this.#log,
    });
  }

  /**
   * Deletes a node this session owns, trying until it is gone or the ZooKeeper session of `epoch`
   * is (its ephemeral nodes went with it). One delete per node however many callers ask; the
   * request is sent before this returns when connected. Rejects only when the server refuses
   * (say, NO_AUTH): the node then stays until the session ends.
   * @internal
   */
  deleteOwned(path: string, epoch: number): Promise<void> {
    // Its session is over already (closed, expired, replaced): the node went with it. Said at once,
    // not through a retry that would fail: a thousand elections closing after their shared session
    // (the exit hook) cost a thousand of those.
    if (!this.isCurrent(epoch)) return Promise.resolve();
    const key = `${epoch}:${path}`;
    const running = this.#deleting.get(key);
    if (running) return running;
    const deleting = this.retrying('delete own node', (handle) => handle.delete(path), { epoch, retries: Infinity }).catch((error: unknown) => {
      if (isZkElectionError(error, 'NO_NODE', 'SESSION_EXPIRED', 'CLOSED')) return;
      throw error;
    });
    this.#deleting.set(key, deleting);
    void deleting.finally(() => this.#deleting.delete(key)).catch(() => {});
    return deleting;
  }

  /**
   * Keeps the evidence of contact of `epoch` fresh while a term needs it: see KeepAlive.
   * Returns the release. @internal
   */
  keepAlive(epoch: number): () => void {
    if (this.#keepAlive?.epoch !== epoch) {
      this.#keepAlive?.stop();
      this.#keepAlive = new KeepAlive(epoch, this.clock, () => this.negotiatedTimeout, (e) => this.#liveHandle(e));
    }
    return this.#keepAlive.hold();
  }

  /** Closes the session; the server deletes its ephemeral nodes at once. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const client = this.#client;
    this.#transition('closed');
    this.#keepAlive?.stop();
    this.#closing.abort(new ClosedError('session'));
    client?.close();
    this.removeAllListeners();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** See {@link sessionCredentials}. */
  #credentials(): SessionCredentials | undefined {
    const client = this.#client;
    return client && !client.closed ? { id: client.sessionId, password: client.sessionPassword, tls: this.#tls } : undefined;
  }

  /** The handle of `epoch` if it is current and connected now. */
  #liveHandle(epoch: number): ZkHandle | undefined {
    return this.isCurrent(epoch) && this.isConnected ? this.#client : undefined;
  }

  /** Waits until `epoch` is connected again (rejecting once it is gone), or for any connected handle. */
  async #attach(epoch: number | undefined, signal: AbortSignal | undefined): Promise<ZkHandle> {
    if (epoch === undefined) return (await this.connected(signal)).handle;
    for (;;) {
      if (this.#state === 'closed') throw new ClosedError('session');
      if (!this.isCurrent(epoch)) throw errorForReturnCode(-112);
      const live = this.#liveHandle(epoch);
      if (live) return live;
      await this.#nextState(signal);
    }
  }

  /** Resolves at the next state change; rejects when `signal` aborts or the session closes. */
  #nextState(signal: AbortSignal | undefined): Promise<void> {
    const { signal: until, dispose } = anySignal(signal, this.#closing.signal);
    return new Promise<void>((resolve, reject) => {
      const finish = (): void => {
        this.off('state', onState);
        until.removeEventListener('abort', onAbort);
        dispose();
      };
      const onState = (): void => (finish(), resolve());
      const onAbort = (): void => (finish(), reject(abortReason(until)));
      if (until.aborted) return onAbort();
      this.on('state', onState);
      until.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Opens a new session (lib/session-open.ts), routing the new handle's events here from the start. */
  async #open(): Promise<ZkHandle> {
    this.#transition('connecting');
    try {
      const client = await openSession({
        transport: this.#transport,
        connect: this.connectString,
        requestedTimeout: this.requestedTimeout,
        connectTimeout: this.connectTimeout,
        strict: this.#strict,
        auth: this.#auth,
        tls: this.#tls,
        // Real servers only: an in-memory transport has nobody to probe.
        probe: this.#transport === nativeTransport,
        clock: this.clock,
        closing: this.#closing.signal,
        logger: this.#log,
        isClosed: () => this.#isClosed(),
        adopt: (handle) => {
          this.#client = handle;
          this.#epoch += 1;
          handle.on('connecting', () => this.#onClientConnecting(handle));
          handle.on('connected', () => this.#onClientConnected(handle));
          handle.on('closed', (code) => this.#onClientClosed(handle, code));
        },
        abandon: (handle) => {
          if (this.#client === handle) this.#client = undefined;
        },
      });
      this.#log.info('session connected', { sessionId: client.sessionId, timeout: client.negotiatedTimeout });
      this.#transition(client.connected ? 'connected' : 'suspended');
      return client;
    } catch (error) {
      if (this.#isClosed()) throw new ClosedError('session');
      this.#transition('expired');
      throw error;
    }
  }

  #onClientConnecting(client: ZkHandle): void {
    if (client !== this.#client || !this.isConnected) return;
    this.#log.warn('connection lost, session suspended', { sessionId: client.sessionId });
    this.#transition('suspended');
  }

  #onClientConnected(client: ZkHandle): void {
    // The first connection is announced by #open once openSession has added the credentials.
    if (client !== this.#client || this.#state !== 'suspended') return;
    this.#log.info('session reconnected', { sessionId: client.sessionId });
    this.#transition('reconnected');
  }

  #onClientClosed(client: ZkHandle, code: number): void {
    // While opening, openSession decides what a closed handle means.
    if (client !== this.#client || this.#state === 'closed' || this.#state === 'connecting') return;
    this.#log.warn('session expired', { sessionId: client.sessionId, code });
    this.#client = undefined;
    this.#transition('expired');
  }

  /** A method, not a field comparison, so that TypeScript does not narrow it across awaits. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #transition(to: SessionState): void {
    const previous = this.#state;
    if (previous === to || previous === 'closed') return;
    this.#state = to;
    this.emit('state', to, previous);
  }
}

export type { AuthInfo, SessionOptions } from './session-options.js';
