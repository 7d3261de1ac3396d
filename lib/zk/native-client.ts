/**
 * The only user of the native client (the addon native-binding.ts loads: zk-election's patched
 * build of the `zookeeper` binding to ZooKeeper's C client), and the default Transport of a Session.
 *
 * One ZkClient owns one native handle, which is one ZooKeeper session. We call the addon's
 * callback functions (`a_*`) directly: the package's promise layer turns return codes into
 * strings; here every `rc` goes through the one table in errors.ts. Watches use the C client's
 * default watcher, never the binding's watcher functions (`aw_*`), which keep every callback for
 * good: see watch-table.ts. Once the handle reports `close`
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
import { nativeBinding, type NativeHandle } from './native-binding.js';
import { multiResult, nativeAcl, nativeMultiOp, tlsSettings } from './native-convert.js';
import { buryOldSession } from './native-quirks.js';
import { registeredKind, WatchTable } from './watch-table.js';
import {
  EXPIRED_STATE,
  type Acl,
  type CreateModeValue,
  type HandleEvents,
  type HandleOptions,
  type MultiOp,
  type MultiResult,
  type Stat,
  type TlsOptions,
  type Watcher,
  type WatchEventType,
  type ZkHandle,
} from './handle.js';

type Rc = number;

/** Return codes only a reply from the server carries: OK, NO_NODE, NO_AUTH, BAD_VERSION, NO_CHILDREN_FOR_EPHEMERALS, NODE_EXISTS, NOT_EMPTY, INVALID_ACL. */
const SERVER_REPLIES: ReadonlySet<number> = new Set([0, -101, -102, -103, -108, -110, -111, -114]);

/** The node events the addon emits for the default watcher, named as ours. */
const WATCH_EVENTS: ReadonlySet<string> = new Set<WatchEventType>(['created', 'deleted', 'changed', 'child']);

/** The default Transport: a native handle. */
export function nativeTransport(options: HandleOptions): ZkHandle {
  return new ZkClient(options);
}

/** One native handle = one ZooKeeper session. */
export class ZkClient extends EventEmitter<HandleEvents> implements ZkHandle {
  readonly connectString: string;
  readonly #clock: Clock;
  /**
   * The addon's object itself, not the `zookeeper` package's JavaScript wrapper: the wrapper
   * formats every call's arguments with util.inspect for a logger that is off, which cost more
   * than the rest of a graceful hand-over's JavaScript put together (profiled).
   */
  readonly #native: NativeHandle;
  #closed = false;
  #sessionId = '0';
  #password = '';
  #closeCode: number | undefined;
  #lastContact: number;
  #pending = new Set<(error: Error) => void>();
  /** whenIdle()'s callers, called once #pending is empty (or the handle closed). */
  #idle = new Set<() => void>();
  #idleCheck: NodeJS.Immediate | undefined;
  /** The watchers waiting for an event: see watch-table.ts. */
  readonly #watches = new WatchTable();
  /** When the handle last started (re)connecting: the earliest our connect request can have gone out. */
  #connectingSince: number;

  /** A twin attached only to close an old session (buryOldSession) buries nothing itself. */
  readonly #isTwin: boolean;
  /** The TLS settings, for a twin on the same session (it must speak TLS too). */
  readonly #tls: TlsOptions | undefined;
  #tlsError: string | undefined;

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
    if (options.tls) config.cert = tlsSettings(options.tls);
    this.#tls = options.tls;
    // A missing or unpatched addon is a NativeClientError (from nativeBinding), not a connect error.
    this.#native = new (nativeBinding())();
    this.#native.emit = (event, _self, data) => {
      if (event === 'connect') this.#onConnect();
      else if (event === 'connecting') this.#onConnecting();
      else if (event === 'close') this.#onClose(typeof data === 'number' ? data : 0);
      // The default watcher's node events, with the path.
      else if (WATCH_EVENTS.has(event) && !this.#closed) this.#watches.fire(event as WatchEventType, String(data));
    };
    let refused: unknown;
    try {
      refused = this.#native.init(config);
    } catch (error) {
      // The addon throws on arguments it cannot take (a client id without its password, say).
      this.#closed = true;
      throw new InvalidConnectStringError(options.connect, (error as Error).message);
    }
    // zookeeper_init returned no handle: EINVAL for a string it cannot parse; otherwise (ENOENT)
    // not one host name resolved, and the handle would wait forever without a word or an event.
    // The session's opening retries that within its connect timeout (DNS may come up late).
    if (refused instanceof Error || this.#native.state === 0) {
      this.#closed = true;
      if (refused instanceof Error && (refused as NodeJS.ErrnoException).code === 'EINVAL') throw new InvalidConnectStringError(options.connect, 'the C client cannot parse it');
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
  /** Why the last TLS connection attempt failed (the C client keeps trying); undefined when it did not. */
  get tlsError(): string | undefined {
    if (!this.#closed && this.#tls) this.#tlsError = this.#native.tls_error || undefined;
    return this.#tlsError;
  }

  create(path: string, data: Buffer, mode: CreateModeValue, acl?: readonly Acl[]): Promise<string> {
    return this.#call('create', path, (done) => {
      const cb = (rc: Rc, _e: string, created: string): void => done(rc, created);
      return acl ? this.#native.a_create(path, data, mode, nativeAcl(acl), cb) : this.#native.a_create(path, data, mode, cb);
    });
  }

  multi(ops: readonly MultiOp[]): Promise<MultiResult[]> {
    if (ops.length === 0) return this.#call('multi', undefined, (done) => done(0, []));
    return this.#call('multi', undefined, (done) =>
      this.#native.a_multi(ops.map(nativeMultiOp), (rc, _e, results) => {
        if (rc === 0) return done(rc, results.map((result, i) => multiResult(ops[i]!, result)));
        // The op that failed carries the transaction's return code; name it in the error.
        const failed = results.findIndex((result) => result.rc === rc);
        const op = ops[failed];
        done(rc, [], op ? { operation: `multi: ${op.type}`, path: op.path } : undefined);
      }),
    );
  }

  getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    return this.#call('getAcl', path, (done) => this.#native.a_get_acl(path, (rc, _e, acl, stat) => done(rc, { acl: acl ?? [], stat: stat as Stat })));
  }

  // Watches go through the C client's default watcher (the boolean form) and watch-table.ts: the
  // binding never frees the callback of a watcher function (`aw_*`), fired or not.
  get(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }> {
    return this.#call('get', path, (done) =>
      this.#native.a_get(path, watcher !== undefined, (rc, _e, stat, data) => {
        this.#registered('get', rc, path, watcher);
        done(rc, { stat, data: data ?? Buffer.alloc(0) });
      }),
    );
  }

  /** The node's stat, or undefined when it does not exist (a watch then waits for its creation). */
  async exists(path: string, watcher?: Watcher): Promise<Stat | undefined> {
    try {
      return await this.#call('exists', path, (done) =>
        this.#native.a_exists(path, watcher !== undefined, (rc, _e, stat) => {
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
      this.#native.a_get_children(path, watcher !== undefined, (rc, _e, children) => {
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
    return this.#call('delete', path, (done) => this.#native.a_delete_(path, version, (rc) => done(rc, undefined)));
  }

  setData(path: string, data: Buffer, version = -1): Promise<Stat> {
    return this.#call('setData', path, (done) => this.#native.a_set(path, data, version, (rc, _e, stat) => done(rc, stat)));
  }

  /** Makes the server we talk to catch up with the ensemble's leader before our next read. */
  sync(path: string): Promise<void> {
    return this.#call('sync', path, (done) => this.#native.a_sync(path, (rc) => done(rc, undefined)));
  }

  setAcl(path: string, acl: Acl[], version = -1): Promise<void> {
    return this.#call('setAcl', path, (done) => this.#native.a_set_acl(path, version, nativeAcl(acl), (rc) => done(rc, undefined)));
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

  /**
   * Sends one request: `start` calls the addon, whose return code is non-zero when the C client
   * refused the request before queuing it (a bad path, a closing handle): no completion comes
   * then, so that code settles the promise. `done` may name another operation and path for the
   * error (a multi names the op that failed).
   */
  #call<T>(operation: string, path: string | undefined, start: (done: (rc: Rc, value: T, where?: { operation: string; path: string }) => void) => Rc | void): Promise<T> {
    if (this.#closed) return Promise.reject(new ClosedError(`ZooKeeper session ${this.sessionId}`));
    const sentAt = this.#clock.now();
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        this.#settle(fail);
        reject(error);
      };
      this.#pending.add(fail);
      const done = (rc: Rc, value: T, where?: { operation: string; path: string }): void => {
        if (settled) return;
        settled = true;
        this.#settle(fail);
        // An answer from the server (even NO_NODE) proves it heard us at or after sentAt. Only codes
        // a server reply carries count: the C client makes up others itself (SESSION_EXPIRED when it
        // cleans up after an expiry, CLOSING, CONNECTION_LOSS), and those prove nothing.
        if (SERVER_REPLIES.has(rc)) this.#noteContact(sentAt);
        if (rc === 0) resolve(value);
        else reject(errorForReturnCode(rc, where ?? { operation, ...(path === undefined ? {} : { path }) }));
      };
      const refused = start(done);
      if (typeof refused === 'number' && refused !== 0) done(refused, undefined as T);
    });
  }

  whenIdle(maxMs: number): Promise<void> {
    if (this.#pending.size === 0 || this.#closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#idle.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      timer.unref();
      this.#idle.add(done);
    });
  }

  /**
   * A request is answered (or failed): once none is left, wakes whenIdle()'s callers, on the next
   * turn of the event loop, after what the replies set going (which may send more: then not yet).
   */
  #settle(fail: (error: Error) => void): void {
    this.#pending.delete(fail);
    if (this.#pending.size > 0 || this.#idle.size === 0 || this.#idleCheck) return;
    this.#idleCheck = setImmediate(() => {
      this.#idleCheck = undefined;
      if (this.#pending.size === 0) for (const done of [...this.#idle]) done();
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
    for (const done of [...this.#idle]) done();
    // No event will come: nothing of the callers' may stay reachable from this handle.
    this.#watches.clear();
    // Not closed by us: the server may still hold the session (see buryOldSession).
    if (code !== 0 && !this.#isTwin) {
      const connect = this.connectString;
      const clock = this.#clock;
      const tls = this.#tls;
      void buryOldSession((session) => new ZkClient({ connect, sessionTimeout: 4000, session, clock, ...(tls ? { tls } : {}) }, true), this.#sessionId, this.#password);
    }
    this.emit('closed', code);
  }
}
