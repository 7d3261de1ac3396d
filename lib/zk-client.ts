/**
 * The only importer of the `zookeeper` package (the native binding to ZooKeeper's C client).
 *
 * One ZkClient owns one native handle, which is one ZooKeeper session. We build on the callback
 * functions (`a_*`, `aw_*`) because the package's promise layer turns return codes into strings;
 * here every `rc` goes through the one table in errors.ts. Once the handle reports `close`
 * (expiry is `close` with state -112) it is never touched again: the binding's README warns that
 * doing so can crash the process, so every call checks `closed` first and throws ClosedError.
 */
import ZooKeeperModule from 'zookeeper';
import { EventEmitter } from 'node:events';
import { monotonicNow } from './clock.js';
import { ClosedError, errorForReturnCode, InvalidConnectStringError } from './errors.js';

/** The stat structure as the binding returns it. */
export interface Stat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: Date;
  mtime: Date;
  version: number;
  cversion: number;
  aversion: number;
  /** The owning session id in hex, or '0' for a persistent node. */
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
  createdInThisSession: boolean;
}

export type WatchEventType = 'created' | 'deleted' | 'changed' | 'child' | 'notwatching';
export interface WatchEvent {
  type: WatchEventType;
  path: string;
}
export type Watcher = (event: WatchEvent) => void;

export interface Acl {
  perms: number;
  scheme: string;
  auth: string;
}

export const CreateMode = { PERSISTENT: 0, EPHEMERAL: 1, PERSISTENT_SEQUENTIAL: 2, EPHEMERAL_SEQUENTIAL: 3, CONTAINER: 4 } as const;
export type CreateModeValue = (typeof CreateMode)[keyof typeof CreateMode];
export const Perms = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

type Rc = number;
interface NativeHandle {
  connect(options: Record<string, unknown>, cb: (error: Error | null) => void): void;
  close(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  a_create(path: string, data: Buffer, flags: number, cb: (rc: Rc, error: string, path: string) => void): void;
  a_get(path: string, watch: boolean, cb: (rc: Rc, error: string, stat: Stat, data: Buffer | null) => void): void;
  aw_get(path: string, watcher: NativeWatcher, cb: (rc: Rc, error: string, stat: Stat, data: Buffer | null) => void): void;
  a_exists(path: string, watch: boolean, cb: (rc: Rc, error: string, stat: Stat) => void): void;
  aw_exists(path: string, watcher: NativeWatcher, cb: (rc: Rc, error: string, stat: Stat) => void): void;
  a_get_children(path: string, watch: boolean, cb: (rc: Rc, error: string, children: string[]) => void): void;
  aw_get_children(path: string, watcher: NativeWatcher, cb: (rc: Rc, error: string, children: string[]) => void): void;
  a_delete_(path: string, version: number, cb: (rc: Rc, error: string) => void): void;
  a_sync(path: string, cb: (rc: Rc, error: string) => void): void;
  a_set_acl(path: string, version: number, acl: Acl[], cb: (rc: Rc, error: string) => void): void;
  add_auth(scheme: string, auth: string, cb: (rc: Rc, error: string) => void): void;
  readonly client_id: string;
  readonly client_password: string;
  readonly timeout: number;
  readonly state: number;
  setLogger(logger: boolean): void;
}
type NativeWatcher = (type: number, state: number, path: string) => void;
const NativeZooKeeper = ZooKeeperModule as unknown as new (config: Record<string, unknown>) => NativeHandle;

const EVENT_TYPES: Readonly<Record<number, WatchEventType>> = { 1: 'created', 2: 'deleted', 3: 'changed', 4: 'child', [-2]: 'notwatching' };
const SESSION_EVENT = -1;
export const EXPIRED_STATE = -112;
export const AUTH_FAILED_STATE = -113;

export interface ZkClientOptions {
  /** `host:port,...[/chroot]` */
  connect: string;
  /** Requested session timeout, ms. */
  sessionTimeout: number;
  /** Attach to an existing session (a test's way to force expiry, and a session handover). */
  session?: { id: string; password: string };
}

export interface ZkClientEvents {
  connected: [];
  connecting: [];
  /** The handle is gone: 0 when we closed it, -112 on expiry, -113 on auth failure. */
  closed: [code: number];
}

/** Counts of requests sent, for the library's own figures (benchmarks, footprint). */
export interface RequestCounters {
  total: number;
  byOperation: Record<string, number>;
}

/** One native handle = one ZooKeeper session. */
export class ZkClient extends EventEmitter<ZkClientEvents> {
  readonly connectString: string;
  #native: NativeHandle;
  #closed = false;
  #sessionId = '0';
  #closeCode: number | undefined;
  #lastContact: number;
  #pending = new Set<(error: Error) => void>();
  readonly counters: RequestCounters = { total: 0, byOperation: {} };

  constructor(options: ZkClientOptions) {
    super();
    // Every election sharing this client listens on it (one waiter or leadership each): thousands is normal, not a leak.
    this.setMaxListeners(0);
    this.connectString = options.connect;
    this.#lastContact = monotonicNow();
    const config: Record<string, unknown> = {
      connect: options.connect,
      timeout: options.sessionTimeout,
      // 0 silences the C client's own stderr logging: the library never writes to the console.
      debug_level: 0,
      host_order_deterministic: false,
      // The binding's spin guard: it closes the handle as if the session had expired (-112) once
      // zookeeper_process() returned ZNOTHING this many times in a row. The spin it was made for
      // (a poll handle left on a stale socket) is fixed in lib/native's patch; the guard stays as
      // a last resort, and such a close is treated as an expiry (the safe reading).
      response_counter_limit: 100,
    };
    if (options.session) {
      config.client_id = options.session.id;
      config.client_password = options.session.password;
    }
    try {
      this.#native = new NativeZooKeeper(config);
      this.#native.setLogger(false);
    } catch (error) {
      throw new InvalidConnectStringError(options.connect, (error as Error).message);
    }
    this.#native.on('connect', () => this.#onConnect());
    this.#native.on('connecting', () => this.#onConnecting());
    this.#native.on('close', (_self, code) => this.#onClose(typeof code === 'number' ? code : 0));
    try {
      // The binding requires a callback; the 'connect' event above is what we rely on.
      this.#native.connect({}, () => {});
    } catch (error) {
      this.#closed = true;
      throw new InvalidConnectStringError(options.connect, (error as Error).message);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }
  /** Why the handle closed: 0 by us, -112 expired, -113 auth failed; undefined while open. */
  get closeCode(): number | undefined {
    return this.#closeCode;
  }
  get connected(): boolean {
    return !this.#closed && this.#native.state === 3;
  }
  /** The session id in hex (as the server's `ephemeralOwner` shows it). */
  get sessionId(): string {
    if (!this.#closed) this.#sessionId = this.#native.client_id;
    return this.#sessionId;
  }
  get sessionPassword(): string {
    return this.#closed ? '' : this.#native.client_password;
  }
  /** The session timeout the server negotiated, ms (the requested one until connected). */
  get negotiatedTimeout(): number {
    return this.#closed ? -1 : this.#native.timeout;
  }
  /**
   * Monotonic time when a request was sent whose reply later came back from the server: the
   * latest moment the server is known to have heard this session. Leases are measured from it.
   */
  get lastContact(): number {
    return this.#lastContact;
  }

  create(path: string, data: Buffer, mode: CreateModeValue): Promise<string> {
    return this.#call('create', path, (done) => this.#native.a_create(path, data, mode, (rc, _e, created) => done(rc, created)));
  }

  get(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }> {
    return this.#call('get', path, (done) => {
      const cb = (rc: Rc, _e: string, stat: Stat, data: Buffer | null): void => done(rc, { stat, data: data ?? Buffer.alloc(0) });
      if (watcher) this.#native.aw_get(path, wrapWatcher(watcher), cb);
      else this.#native.a_get(path, false, cb);
    });
  }

  /** The node's stat, or undefined when it does not exist (a watch then waits for its creation). */
  async exists(path: string, watcher?: Watcher): Promise<Stat | undefined> {
    try {
      return await this.#call('exists', path, (done) => {
        const cb = (rc: Rc, _e: string, stat: Stat): void => done(rc, stat);
        if (watcher) this.#native.aw_exists(path, wrapWatcher(watcher), cb);
        else this.#native.a_exists(path, false, cb);
      });
    } catch (error) {
      if ((error as { code?: string }).code === 'NO_NODE') return undefined;
      throw error;
    }
  }

  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    return this.#call('getChildren', path, (done) => {
      const cb = (rc: Rc, _e: string, children: string[]): void => done(rc, children ?? []);
      if (watcher) this.#native.aw_get_children(path, wrapWatcher(watcher), cb);
      else this.#native.a_get_children(path, false, cb);
    });
  }

  delete(path: string, version = -1): Promise<void> {
    return this.#call('delete', path, (done) => this.#native.a_delete_(path, version, (rc) => done(rc, undefined)));
  }

  /** Makes the server we talk to catch up with the ensemble's leader before our next read. */
  sync(path: string): Promise<void> {
    return this.#call('sync', path, (done) => this.#native.a_sync(path, (rc) => done(rc, undefined)));
  }

  setAcl(path: string, acl: Acl[], version = -1): Promise<void> {
    return this.#call('setAcl', path, (done) => this.#native.a_set_acl(path, version, acl, (rc) => done(rc, undefined)));
  }

  addAuth(scheme: string, auth: string): Promise<void> {
    return this.#call('addAuth', undefined, (done) => this.#native.add_auth(scheme, auth, (rc) => done(rc, undefined)));
  }

  /** Closes the session (the server deletes its ephemeral nodes at once). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#sessionId = this.#native.client_id;
    // Mark first: the native close may call back synchronously into #onClose and pending completions.
    this.#native.close();
    this.#onClose(0);
  }

  #call<T>(operation: string, path: string | undefined, start: (done: (rc: Rc, value: T) => void) => void): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError(`ZooKeeper session ${this.sessionId}`));
    this.counters.total += 1;
    this.counters.byOperation[operation] = (this.counters.byOperation[operation] ?? 0) + 1;
    const sentAt = monotonicNow();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        this.#pending.delete(fail);
        reject(error);
      };
      this.#pending.add(fail);
      start((rc, value) => {
        if (settled) return;
        settled = true;
        this.#pending.delete(fail);
        // Any answer from the server (even NO_NODE) proves it heard us at or after sentAt.
        if (rc === 0 || rc <= -100) this.#noteContact(sentAt);
        if (rc === 0) resolve(value);
        else reject(errorForReturnCode(rc, { operation, ...(path === undefined ? {} : { path }) }));
      });
    });
  }

  #noteContact(sentAt: number): void {
    if (sentAt > this.#lastContact) this.#lastContact = sentAt;
  }

  #connectingSince = monotonicNow();

  #onConnecting(): void {
    if (this.#closed) return;
    this.#connectingSince = monotonicNow();
    this.emit('connecting');
  }

  #onConnect(): void {
    if (this.#closed) return;
    this.#sessionId = this.#native.client_id;
    // The server renewed the session while handling our (re)connect request, which we sent
    // no earlier than the moment we started connecting: a conservative contact time.
    this.#noteContact(this.#connectingSince);
    this.emit('connected');
  }

  #onClose(code: number): void {
    if (this.#closed && this.#closeCode !== undefined) return;
    this.#closed = true;
    this.#closeCode = code;
    const error = code === EXPIRED_STATE ? errorForReturnCode(-112) : new ClosedError(`ZooKeeper session ${this.sessionId}`);
    for (const fail of [...this.#pending]) fail(error);
    this.emit('closed', code);
  }
}

/** Watch callbacks also receive session events (type -1) on every state change: those are not node events. */
function wrapWatcher(watcher: Watcher): NativeWatcher {
  return (type, _state, path) => {
    if (type === SESSION_EVENT) return;
    const kind = EVENT_TYPES[type];
    if (kind) watcher({ type: kind, path });
  };
}
