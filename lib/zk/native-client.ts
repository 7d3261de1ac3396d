/**
 * The only importer of the `zookeeper` package (the native binding to ZooKeeper's C client), and
 * the default Transport of a Session.
 *
 * One ZkClient owns one native handle, which is one ZooKeeper session. We build on the callback
 * functions (`a_*`) because the package's promise layer turns return codes into strings; here
 * every `rc` goes through the one table in errors.ts. Watches use the C client's default watcher,
 * never the binding's watcher functions (`aw_*`), which leak every callback: see watch-table.ts. Once the handle reports `close`
 * (expiry is `close` with state -112) it is never touched again: the binding's README warns that
 * doing so can crash the process, so every call checks `closed` first and throws ClosedError.
 *
 * The binding is loaded on the first handle, not at import: `import 'zk-election'` stays cheap
 * for a process that only formats a participant list or checks options.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../util/clock.js';
import { ClosedError, errorForReturnCode, HostNotFoundError, InvalidConnectStringError, isZkElectionError } from '../errors.js';
import { parseConnectString } from '../util/validate.js';
import { buryOldSession, rawOps } from './native-quirks.js';
import { registeredKind, WatchTable } from './watch-table.js';
import {
  EXPIRED_STATE,
  type Acl,
  type CreateModeValue,
  type HandleEvents,
  type HandleOptions,
  type Stat,
  type Watcher,
  type WatchEventType,
  type ZkHandle,
} from './handle.js';

type Rc = number;
interface NativeHandle {
  connect(options: Record<string, unknown>, cb: (error: Error | null) => void): void;
  close(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  a_create(path: string, data: Buffer, flags: number, cb: (rc: Rc, error: string, path: string) => void): void;
  a_get(path: string, watch: boolean, cb: (rc: Rc, error: string, stat: Stat, data: Buffer | null) => void): void;
  a_exists(path: string, watch: boolean, cb: (rc: Rc, error: string, stat: Stat) => void): void;
  a_get_children(path: string, watch: boolean, cb: (rc: Rc, error: string, children: string[]) => void): void;
  a_delete_(path: string, version: number, cb: (rc: Rc, error: string) => void): void;
  a_set(path: string, data: Buffer, version: number, cb: (rc: Rc, error: string, stat: Stat) => void): void;
  a_sync(path: string, cb: (rc: Rc, error: string) => void): void;
  a_set_acl(path: string, version: number, acl: Acl[], cb: (rc: Rc, error: string) => void): void;
  add_auth(scheme: string, auth: string, cb: (rc: Rc, error: string) => void): void;
  readonly client_id: string;
  readonly client_password: string;
  readonly timeout: number;
  readonly state: number;
  setLogger(logger: boolean): void;
}
/** The requests of the hot path, as both the binding's wrapper and its raw addon object have them. */
type NativeOps = Pick<NativeHandle, 'a_create' | 'a_get' | 'a_exists' | 'a_get_children' | 'a_delete_' | 'a_set' | 'a_sync'>;
type NativeConstructor = new (config: Record<string, unknown>) => NativeHandle;

let nativeConstructor: NativeConstructor | undefined;
function loadBinding(): NativeConstructor {
  nativeConstructor ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)('zookeeper') as NativeConstructor;
  return nativeConstructor;
}

/** Return codes only a reply from the server carries: OK, NO_NODE, NO_AUTH, BAD_VERSION, NO_CHILDREN_FOR_EPHEMERALS, NODE_EXISTS, NOT_EMPTY, INVALID_ACL. */
const SERVER_REPLIES: ReadonlySet<number> = new Set([0, -101, -102, -103, -108, -110, -111, -114]);

/** The node events the binding emits on the handle for the default watcher, named as ours. */
const WATCH_EVENTS: readonly WatchEventType[] = ['created', 'deleted', 'changed', 'child'];

/** The default Transport: a native handle. */
export function nativeTransport(options: HandleOptions): ZkHandle {
  return new ZkClient(options);
}

/** One native handle = one ZooKeeper session. */
export class ZkClient extends EventEmitter<HandleEvents> implements ZkHandle {
  readonly connectString: string;
  readonly #clock: Clock;
  #native: NativeHandle;
  /**
   * Where requests go: the addon object under the binding's JavaScript wrapper. The wrapper formats
   * every call's arguments with util.inspect for a logger that is off, which cost more than the
   * rest of a graceful hand-over's JavaScript put together (profiled); it adds nothing else to
   * these calls. Only setAcl and addAuth, whose arguments it converts, still go through it.
   */
  #ops: NativeOps;
  #closed = false;
  #sessionId = '0';
  #password = '';
  #closeCode: number | undefined;
  #lastContact: number;
  #pending = new Set<(error: Error) => void>();
  /** The watchers waiting for an event: see watch-table.ts. */
  readonly #watches = new WatchTable();
  /** When the handle last started (re)connecting: the earliest our connect request can have gone out. */
  #connectingSince: number;

  /** A twin attached only to close an old session (buryOldSession) buries nothing itself. */
  readonly #isTwin: boolean;

  constructor(options: HandleOptions, twin = false) {
    super();
    this.#isTwin = twin;
    // Every election sharing this client listens on it (one waiter or leadership each): thousands is normal, not a leak.
    this.setMaxListeners(0);
    this.connectString = options.connect;
    this.#clock = options.clock;
    this.#lastContact = this.#clock.now();
    this.#connectingSince = this.#lastContact;
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
      this.#native = new (loadBinding())(config);
      this.#native.setLogger(false);
      this.#ops = rawOps(this.#native);
    } catch (error) {
      throw new InvalidConnectStringError(options.connect, (error as Error).message);
    }
    this.#native.on('connect', () => this.#onConnect());
    this.#native.on('connecting', () => this.#onConnecting());
    this.#native.on('close', (_self, code) => this.#onClose(typeof code === 'number' ? code : 0));
    // The default watcher's node events, with the path (session events come as the three above).
    for (const type of WATCH_EVENTS) this.#native.on(type, (_self, path) => this.#watches.fire(type, String(path)));
    try {
      // The binding requires a callback; the 'connect' event above is what we rely on.
      this.#native.connect({}, () => {});
    } catch (error) {
      this.#closed = true;
      throw new InvalidConnectStringError(options.connect, (error as Error).message);
    }
    // zookeeper_init() gave no handle (state 0), which it does when not one host resolves; the
    // binding drops that error, and the handle would then wait forever without a word or an event.
    if (this.#native.state === 0) {
      this.#closed = true;
      throw new HostNotFoundError(parseConnectString(options.connect).hosts.map(({ host }) => host));
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
    if (!this.#closed) this.#password = this.#native.client_password;
    return this.#closed ? '' : this.#password;
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
    return this.#call('create', path, (done) => this.#ops.a_create(path, data, mode, (rc, _e, created) => done(rc, created)));
  }

  // Watches go through the C client's default watcher (the boolean form) and watch-table.ts: the
  // binding never frees the callback of a watcher function (`aw_*`), fired or not.
  get(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }> {
    return this.#call('get', path, (done) =>
      this.#ops.a_get(path, watcher !== undefined, (rc, _e, stat, data) => {
        this.#registered('get', rc, path, watcher);
        done(rc, { stat, data: data ?? Buffer.alloc(0) });
      }),
    );
  }

  /** The node's stat, or undefined when it does not exist (a watch then waits for its creation). */
  async exists(path: string, watcher?: Watcher): Promise<Stat | undefined> {
    try {
      return await this.#call('exists', path, (done) =>
        this.#ops.a_exists(path, watcher !== undefined, (rc, _e, stat) => {
          this.#registered('exists', rc, path, watcher);
          done(rc, stat);
        }),
      );
    } catch (error) {
      if (isZkElectionError(error, 'NO_NODE')) return undefined;
      throw error;
    }
  }

  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    return this.#call('getChildren', path, (done) =>
      this.#ops.a_get_children(path, watcher !== undefined, (rc, _e, children) => {
        this.#registered('getChildren', rc, path, watcher);
        done(rc, children ?? []);
      }),
    );
  }

  /** `watcher` is not called any more (its caller gave up); the server's watch stays until it fires. */
  unwatch(watcher: Watcher): void {
    this.#watches.remove(watcher);
  }

  delete(path: string, version = -1): Promise<void> {
    return this.#call('delete', path, (done) => this.#ops.a_delete_(path, version, (rc) => done(rc, undefined)));
  }

  setData(path: string, data: Buffer, version = -1): Promise<Stat> {
    return this.#call('setData', path, (done) => this.#ops.a_set(path, data, version, (rc, _e, stat) => done(rc, stat)));
  }

  /** Makes the server we talk to catch up with the ensemble's leader before our next read. */
  sync(path: string): Promise<void> {
    return this.#call('sync', path, (done) => this.#ops.a_sync(path, (rc) => done(rc, undefined)));
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
    // The binding emits 'close' (code 0) from inside close(), which runs #onClose and fails what is
    // pending; the call below only covers a binding that does not.
    this.#native.close();
    this.#onClose(0);
  }

  #call<T>(operation: string, path: string | undefined, start: (done: (rc: Rc, value: T) => void) => void): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError(`ZooKeeper session ${this.sessionId}`));
    const sentAt = this.#clock.now();
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
        // An answer from the server (even NO_NODE) proves it heard us at or after sentAt. Only codes
        // a server reply carries count: the C client makes up others itself (SESSION_EXPIRED when it
        // cleans up after an expiry, CLOSING, CONNECTION_LOSS), and those prove nothing.
        if (SERVER_REPLIES.has(rc)) this.#noteContact(sentAt);
        if (rc === 0) resolve(value);
        else reject(errorForReturnCode(rc, { operation, ...(path === undefined ? {} : { path }) }));
      });
    });
  }

  /** Records the watcher the C client has just registered (or not) with this reply: see watch-table.ts. */
  #registered(operation: 'get' | 'exists' | 'getChildren', rc: Rc, path: string, watcher: Watcher | undefined): void {
    const kind = watcher && !this.#closed ? registeredKind(operation, rc) : undefined;
    if (kind) this.#watches.add(kind, path, watcher!);
  }

  #noteContact(sentAt: number): void {
    if (sentAt > this.#lastContact) this.#lastContact = sentAt;
  }

  #onConnecting(): void {
    if (this.#closed) return;
    this.#connectingSince = this.#clock.now();
    this.emit('connecting');
  }

  #onConnect(): void {
    if (this.#closed) return;
    this.#sessionId = this.#native.client_id;
    this.#password = this.#native.client_password;
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
    // No event will come: nothing of the callers' may stay reachable from this handle.
    this.#watches.clear();
    // Not closed by us: the server may still hold the session (see buryOldSession).
    if (code !== 0 && !this.#isTwin) {
      const connect = this.connectString;
      const clock = this.#clock;
      void buryOldSession((session) => new ZkClient({ connect, sessionTimeout: 4000, session, clock }, true), this.#sessionId, this.#password);
    }
    this.emit('closed', code);
  }
}
