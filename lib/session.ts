/**
 * A Session is what the rest of the library observes of ZooKeeper: one connection state machine
 *
 *   connecting -> connected <-> suspended -> reconnected <-> suspended ...
 *                                   \-> expired -> (renew on demand) connecting -> connected
 *   any -> closed
 *
 * over one native handle at a time. `suspended` means disconnected while the session may still
 * live; `expired` means the server ended it (or the handle died): its ephemeral nodes are gone and
 * the handle is never used again. A new handle, with a new session id, is opened only when someone
 * asks for one through {@link Session.client}: an expired session is not silently replaced under a
 * leader that still believes in the old one.
 */
import { EventEmitter } from 'node:events';
import { delay, onAbort, raceAbort, throwIfAborted } from './abort.js';
import {
  AbortedError,
  ClosedError,
  errorForReturnCode,
  SessionTimeoutError,
  UnreachableError,
  ZkElectionError,
} from './errors.js';
import { withContext, type Logger } from './logger.js';
import { optionalSignal, parseConnectString, positiveInteger } from './validate.js';
import { AUTH_FAILED_STATE, EXPIRED_STATE, ZkClient } from './zk-client.js';

export type SessionState = 'connecting' | 'connected' | 'suspended' | 'reconnected' | 'expired' | 'closed';

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
  logger?: Logger;
  signal?: AbortSignal;
}

export interface SessionEvents {
  /** Every state change, after `session.state` has changed. */
  state: [state: SessionState, previous: SessionState];
}

export const DEFAULT_SESSION_TIMEOUT = 10_000;
export const DEFAULT_CONNECT_TIMEOUT = 10_000;

export function defaultConnectString(): string {
  return process.env.ZK_CONNECT || '127.0.0.1:2181';
}

export class Session extends EventEmitter<SessionEvents> {
  readonly connectString: string;
  readonly requestedTimeout: number;
  readonly connectTimeout: number;
  readonly #auth: AuthInfo[];
  readonly #strict: boolean;
  readonly #log: Logger;
  #state: SessionState = 'connecting';
  #client: ZkClient | undefined;
  #opening: Promise<ZkClient> | undefined;
  #generation = 0;
  /** Aborted by close(): ends an opening's back-off at once. */
  readonly #closing = new AbortController();

  /** Opens a session and waits until it is connected (bounded by `connectTimeout`). */
  static async connect(options: SessionOptions = {}): Promise<Session> {
    const session = new Session(options);
    try {
      await session.client(options.signal);
    } catch (error) {
      await session.close();
      throw error;
    }
    return session;
  }

  /** Prefer {@link Session.connect}; the constructor validates but does not connect. */
  constructor(options: SessionOptions = {}) {
    super();
    // Every election sharing this session listens on it (one waiter or leadership each): thousands is normal, not a leak.
    this.setMaxListeners(0);
    this.connectString = options.connect ?? defaultConnectString();
    parseConnectString(this.connectString);
    this.requestedTimeout = positiveInteger('sessionTimeout', options.sessionTimeout, DEFAULT_SESSION_TIMEOUT);
    this.connectTimeout = positiveInteger('connectTimeout', options.connectTimeout, DEFAULT_CONNECT_TIMEOUT);
    optionalSignal('signal', options.signal);
    this.#auth = options.auth === undefined ? [] : Array.isArray(options.auth) ? options.auth : [options.auth];
    this.#strict = options.strictSessionTimeout ?? true;
    this.#log = withContext(options.logger, { connect: this.connectString });
  }

  get state(): SessionState {
    return this.#state;
  }
  /** True while a handle is connected (`connected` or `reconnected`). */
  get isConnected(): boolean {
    return this.#state === 'connected' || this.#state === 'reconnected';
  }
  /** Increases with every new native handle (every new ZooKeeper session). */
  get generation(): number {
    return this.#generation;
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
  /** Monotonic ms: the latest send time of a request the server answered (see ZkClient.lastContact). */
  get lastContact(): number {
    return this.#client?.lastContact ?? -Infinity;
  }
  /** The live handle, if any, without waiting. @internal */
  get current(): ZkClient | undefined {
    return this.#client && !this.#client.closed ? this.#client : undefined;
  }

  /**
   * The connected handle of the current session, opening a new session first if the last one
   * expired. Waits at most `connectTimeout` for a new session, and for a suspended one until it
   * reconnects, expires, or `signal` aborts. The handle is the library's own wrapper.
   *
   * Many callers may share one opening (every election on a shared session after an expiry): it
   * belongs to the session, not to the first caller, so one caller's abort only stops that
   * caller's wait; the opening goes on for the others and ends only with its own timeout or
   * {@link Session.close}.
   * @internal
   */
  async client(signal?: AbortSignal): Promise<ZkClient> {
    throwIfAborted(signal);
    if (this.#state === 'closed') throw new ClosedError('session');
    // While a session opens, its handle may still die and be replaced: join the opening rather
    // than wait on a handle that may never connect.
    if (this.#opening) return raceAbort(this.#opening, signal);
    const live = this.current;
    if (live && this.isConnected) return live;
    if (live) return this.#awaitReconnect(signal);
    this.#opening = this.#open().finally(() => {
      this.#opening = undefined;
    });
    return raceAbort(this.#opening, signal);
  }

  /** Closes the session; the server deletes its ephemeral nodes at once. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const client = this.#client;
    this.#transition('closed');
    this.#closing.abort();
    client?.close();
    this.removeAllListeners();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Opens a new session, trying again while a handle dies before connecting (the binding's spin guard). */
  async #open(): Promise<ZkClient> {
    this.#transition('connecting');
    const deadline = Date.now() + this.connectTimeout;
    let attempt = 0;
    for (;;) {
      try {
        return await this.#openOnce(Math.max(1, deadline - Date.now()));
      } catch (error) {
        if (this.#isClosed()) throw new ClosedError('session');
        const handleDied = error instanceof ClosedError;
        if (!handleDied || Date.now() >= deadline) {
          this.#transition('expired');
          throw handleDied ? new UnreachableError(this.connectString, this.connectTimeout, { cause: error }) : error;
        }
        this.#log.debug('new session handle closed before connecting; trying again');
        attempt += 1;
        await delay(Math.min(1000, 50 * 2 ** attempt), this.#closing.signal).catch(() => undefined);
        if (this.#isClosed()) throw new ClosedError('session');
      }
    }
  }

  async #openOnce(timeoutMs: number): Promise<ZkClient> {
    const client = new ZkClient({ connect: this.connectString, sessionTimeout: this.requestedTimeout });
    this.#client = client;
    this.#generation += 1;
    client.on('connecting', () => this.#onClientConnecting(client));
    client.on('connected', () => this.#onClientConnected(client));
    client.on('closed', (code) => this.#onClientClosed(client, code));
    try {
      await this.#waitConnected(client, timeoutMs);
      await this.#checkTimeout(client);
      for (const { scheme, credentials } of this.#auth) await client.addAuth(scheme, credentials);
    } catch (error) {
      if (this.#client === client) this.#client = undefined;
      client.close();
      throw error;
    }
    this.#log.info('session connected', { sessionId: client.sessionId, timeout: client.negotiatedTimeout });
    this.#transition(client.connected ? 'connected' : 'suspended');
    return client;
  }

  #waitConnected(client: ZkClient, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        client.off('connected', onConnected);
        client.off('closed', onClosed);
      };
      const onConnected = (): void => {
        cleanup();
        resolve();
      };
      const onClosed = (code: number): void => {
        cleanup();
        reject(code === AUTH_FAILED_STATE ? errorForReturnCode(-115) : new ClosedError('session'));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new UnreachableError(this.connectString, this.connectTimeout));
      }, timeoutMs);
      timer.unref?.();
      client.on('connected', onConnected);
      client.on('closed', onClosed);
      if (client.connected) onConnected();
    });
  }

  async #checkTimeout(client: ZkClient): Promise<void> {
    const granted = client.negotiatedTimeout;
    if (this.#strict && granted > 0 && granted !== this.requestedTimeout) {
      throw new SessionTimeoutError(this.requestedTimeout, granted);
    }
  }

  /** Waits for the suspended handle to reconnect; resolves with whatever handle is current then. */
  #awaitReconnect(signal: AbortSignal | undefined): Promise<ZkClient> {
    return new Promise((resolve, reject) => {
      const onState = (state: SessionState): void => {
        const live = this.current;
        if ((state === 'reconnected' || state === 'connected') && live) finish(() => resolve(live));
        else if (state === 'expired' || state === 'closed') finish(() => reject(state === 'expired' ? errorForReturnCode(-112) : new ClosedError('session')));
      };
      const finish = (settle: () => void): void => {
        this.off('state', onState);
        detach();
        settle();
      };
      const detach = signal ? onAbort(signal, () => finish(() => reject(new AbortedError('wait for reconnection aborted', { cause: signal.reason })))) : () => {};
      this.on('state', onState);
    });
  }

  #onClientConnecting(client: ZkClient): void {
    if (client !== this.#client) return;
    if (this.isConnected) {
      this.#log.warn('connection lost, session suspended', { sessionId: client.sessionId });
      this.#transition('suspended');
    }
  }

  #onClientConnected(client: ZkClient): void {
    // The first connection is announced by #open once credentials are added.
    if (client !== this.#client || this.#state === 'connecting') return;
    if (this.#state === 'suspended') {
      this.#log.info('session reconnected', { sessionId: client.sessionId });
      this.#transition('reconnected');
    }
  }

  #onClientClosed(client: ZkClient, code: number): void {
    // While opening, #openOnce decides what a closed handle means.
    if (client !== this.#client || this.#state === 'closed' || this.#state === 'connecting') return;
    this.#log.warn(code === EXPIRED_STATE ? 'session expired' : 'session handle closed', { sessionId: client.sessionId, code });
    this.#client = undefined;
    this.#transition('expired');
    void this.#bury(client.sessionId, client.sessionPassword);
  }

  /**
   * The binding also closes a handle with -112 when its poll loop spins after a reconnect (see
   * zk-client.ts), while the server may still hold the session and our ephemeral nodes, which
   * would then block successors until the session timeout. So after any such close we attach a
   * handle to the old session and close it: the server ends the session and deletes its nodes at
   * once. If the session had really expired, the attach is refused and nothing changes.
   */
  async #bury(id: string, password: string): Promise<void> {
    if (!id || id === '0' || password.length !== 32) return;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      let twin: ZkClient;
      try {
        twin = new ZkClient({ connect: this.connectString, sessionTimeout: this.requestedTimeout, session: { id, password } });
      } catch {
        return;
      }
      const outcome = await new Promise<'connected' | 'closed' | 'timeout'>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), this.connectTimeout);
        twin.once('connected', () => (clearTimeout(timer), resolve('connected')));
        twin.once('closed', () => (clearTimeout(timer), resolve('closed')));
      });
      twin.close();
      if (outcome !== 'closed' || twin.closeCode === 0) {
        this.#log.info('closed the previous session on the server', { sessionId: id, outcome });
        return;
      }
      await delay(100 * 2 ** attempt).catch(() => undefined);
    }
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
