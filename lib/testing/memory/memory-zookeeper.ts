/**
 * An in-memory ZooKeeper for unit tests of code built on zk-election: sessions made by
 * `memory.session()` are real Sessions (the library's own state machines run unchanged) whose
 * transport is this object instead of the native client. Everything happens in one ordered queue
 * of deliveries (request replies, watch events, connection events), so a test can let it run on
 * its own (`autoStep: true`, the default) or deliver one event at a time with `step()` and put a
 * fault (a close, an expiry, a disconnection, a lost reply) between any two of them.
 *
 * What it models: znodes, sequential names, ephemeral nodes deleted with their session, one-shot
 * data and child watches, per-session FIFO order, watch events held while a handle is
 * disconnected, forced expiry by a second handle on the same session. What it does not: ACLs,
 * quotas, multi-server consistency, and time (sessions expire only when a test says so).
 * It is a fake for logic; every behaviour that depends on a real server is tested against one.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { errorForReturnCode } from '../../errors.js';
import { Session, type SessionOptions } from '../../session/session.js';
import { EXPIRED_STATE, type Acl, type HandleOptions, type Transport } from '../../zk/handle.js';
import { MemoryHandle, type MemoryServerPort } from './memory-handle.js';
import { RcError, Tree } from './memory-tree.js';

export interface MemoryZooKeeperOptions {
  /** Deliver on its own (true), or only when a test calls `step()` (false). @default true */
  autoStep?: boolean;
  /** The smallest session timeout granted, ms. @default 400 */
  minSessionTimeout?: number;
  /** The largest session timeout granted, ms. @default 60000 */
  maxSessionTimeout?: number;
}

/** A session to act on: a Session of this server, or a session id. */
export type SessionTarget = Session | string;

interface Delivery {
  handle: MemoryHandle;
  /** Watch events wait while their handle is disconnected; replies and connection events do not. */
  kind: 'reply' | 'watch' | 'event';
  label: string;
  run(): void;
}

interface SessionRecord {
  id: string;
  password: string;
  ended: boolean;
  handles: Set<MemoryHandle>;
  loseNextReply: boolean;
}

const CONNECTION_LOSS = -4;

export class MemoryZooKeeper {
  /** What `memory.session()` connects to; any Session with this server's transport may use it. */
  static readonly CONNECT = 'memory:2181';
  readonly transport: Transport = (options) => this.#open(options);
  /** What its handles call: private, so that a test cannot submit requests behind a handle's back. */
  readonly #port: MemoryServerPort = {
    submit: (handle, operation, apply) => this.#submit(handle, operation, apply),
    deliverWatch: (handle, fire) => this.#deliverWatch(handle, fire),
    closeSession: (handle) => this.#closeSession(handle),
  };
  readonly #tree = new Tree();
  readonly #queue: Delivery[] = [];
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #auto: boolean;
  readonly #min: number;
  readonly #max: number;
  #nextId = 0x100000;
  #scheduled = false;
  #delivered = 0;

  constructor(options: MemoryZooKeeperOptions = {}) {
    this.#auto = options.autoStep ?? true;
    this.#min = options.minSessionTimeout ?? 400;
    this.#max = options.maxSessionTimeout ?? 60_000;
  }

  /** A Session on this server, not yet connected: the first election or read on it connects it (see `connect()` for one connected now). */
  session(options: Omit<SessionOptions, 'connect' | 'transport'> = {}): Session {
    return new Session({ ...options, connect: MemoryZooKeeper.CONNECT, transport: this.transport });
  }

  /** A connected Session on this server. */
  connect(options: Omit<SessionOptions, 'connect' | 'transport'> = {}): Promise<Session> {
    return Session.connect({ ...options, connect: MemoryZooKeeper.CONNECT, transport: this.transport });
  }

  // ---- Stepping ----------------------------------------------------------------------------

  /** Delivers the next deliverable event; false when none is. */
  step(): boolean {
    const index = this.#queue.findIndex((d) => d.kind !== 'watch' || d.handle.connected || d.handle.closed);
    if (index < 0) return false;
    const [delivery] = this.#queue.splice(index, 1);
    this.#delivered += 1;
    delivery!.run();
    return true;
  }

  /** Events waiting (including watch events held for disconnected handles). */
  get pending(): number {
    return this.#queue.length;
  }
  /** Labels of the waiting events, in delivery order: what the next `step()` would do. */
  get pendingLabels(): string[] {
    return this.#queue.map((d) => d.label);
  }
  /** Events delivered so far. */
  get delivered(): number {
    return this.#delivered;
  }

  /**
   * Delivers until nothing has been deliverable for `idleRounds` macrotasks in a row (the library
   * may have a real timer running, a retry's backoff say: `idleMs` between rounds lets it fire).
   * Resolves with the number of events delivered.
   */
  async settle(options: { idleRounds?: number; idleMs?: number; maxSteps?: number } = {}): Promise<number> {
    const { idleRounds = 3, idleMs = 2, maxSteps = 100_000 } = options;
    let steps = 0;
    for (let idle = 0; idle < idleRounds && steps < maxSteps; ) {
      await nextMacrotask();
      if (this.step()) {
        steps += 1;
        idle = 0;
      } else {
        idle += 1;
        await new Promise((resolve) => setTimeout(resolve, idleMs));
      }
    }
    return steps;
  }

  // ---- Faults and operator actions -----------------------------------------------------------

  /** The connection drops: the handle reports `connecting`; its requests in flight fail with CONNECTION_LOSS. */
  disconnect(target: SessionTarget): void {
    for (const handle of this.#record(target).handles) {
      if (handle.state !== 'connected') continue;
      handle.state = 'connecting';
      handle.emit('connecting');
    }
  }

  /** The connection comes back: `connected`, or `closed` (-112) if the session ended meanwhile. */
  reconnect(target: SessionTarget): void {
    const record = this.#record(target);
    for (const handle of record.handles) {
      if (handle.state !== 'connecting') continue;
      this.#push({ handle, kind: 'event', label: `reconnect ${record.id}`, run: () => this.#establish(handle, record) });
    }
  }

  /** The server expires the session: its ephemeral nodes go (watchers are told), its handles learn it. */
  expire(target: SessionTarget): void {
    const record = this.#record(target);
    this.#end(record);
    for (const handle of record.handles) this.#push({ handle, kind: 'event', label: `expired ${record.id}`, run: () => handle.finish(EXPIRED_STATE) });
  }

  /** The next request of this session is carried out, but its reply is lost with the connection. */
  loseNextReply(target: SessionTarget): void {
    this.#record(target).loseNextReply = true;
  }

  /** Deletes a node as an operator would (any version); watchers are told. */
  deleteNode(path: string): void {
    this.#tree.delete(path, -1);
  }

  // ---- Inspection ---------------------------------------------------------------------------

  /** Children of `path`, sorted; [] when it does not exist. */
  children(path: string): string[] {
    return this.#tree.childrenOf(path).sort();
  }
  exists(path: string): boolean {
    return this.#tree.has(path);
  }
  /** The node's ACL as stored (the in-memory server does not enforce ACLs). */
  acl(path: string): Acl[] | undefined {
    return this.#tree.has(path) ? this.#tree.getAcl(path).acl : undefined;
  }
  /** The node's owner (a session id in hex, '0' for a persistent node). */
  owner(path: string): string | undefined {
    return this.#tree.exists(path)?.ephemeralOwner;
  }
  /** Every path in the tree, sorted. */
  paths(): string[] {
    return this.#tree.paths();
  }
  /** Watches set now, in all or for one session. */
  watchCount(target?: SessionTarget): { data: number; child: number } {
    return this.#tree.watchCount(target === undefined ? undefined : this.#record(target).id);
  }

  // ---- MemoryServerPort (the handles' side, through #port) ----------------------------------

  #submit<T>(handle: MemoryHandle, operation: string, apply: (tree: Tree) => T): Promise<T> {
    const sentAt = handle.clock.now();
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error): void => {
        handle.pending.delete(fail);
        reject(error);
      };
      handle.pending.add(fail);
      this.#push({
        handle,
        kind: 'reply',
        label: `${operation} ${handle.sessionId}`,
        run: () => {
          if (!handle.pending.has(fail)) return;
          handle.pending.delete(fail);
          if (!handle.connected) return reject(errorForReturnCode(CONNECTION_LOSS, { operation }));
          const record = this.#sessions.get(handle.sessionId)!;
          // The server refuses every request of a session it has ended (the handle learns it next).
          if (record.ended) return reject(errorForReturnCode(EXPIRED_STATE, { operation }));
          let outcome: { value: T } | RcError;
          try {
            outcome = { value: apply(this.#tree) };
          } catch (error) {
            if (!(error instanceof RcError)) throw error;
            outcome = error;
          }
          if (record.loseNextReply) {
            record.loseNextReply = false;
            reject(errorForReturnCode(CONNECTION_LOSS, { operation }));
            return this.disconnect(record.id);
          }
          handle.lastContact = Math.max(handle.lastContact, sentAt);
          if ('value' in outcome) resolve(outcome.value);
          else reject(errorForReturnCode(outcome.rc, outcome.where ?? { operation }));
        },
      });
    });
  }

  #deliverWatch(handle: MemoryHandle, fire: () => void): void {
    this.#push({ handle, kind: 'watch', label: `watch ${handle.sessionId}`, run: () => !handle.closed && fire() });
  }

  #closeSession(handle: MemoryHandle): void {
    const record = this.#sessions.get(handle.sessionId);
    if (!record || record.ended) return;
    this.#end(record);
    // Another handle on the same session (the one a test forced to expire) learns it.
    for (const other of record.handles) {
      if (other !== handle) this.#push({ handle: other, kind: 'event', label: `expired ${record.id}`, run: () => other.finish(EXPIRED_STATE) });
    }
  }

  #open(options: HandleOptions): MemoryHandle {
    const timeout = Math.min(this.#max, Math.max(this.#min, options.sessionTimeout));
    const handle = new MemoryHandle(this.#port, options.clock, timeout);
    const record = options.session ? this.#sessions.get(options.session.id) : this.#newRecord();
    if (options.session && (!record || record.ended || record.password !== options.session.password)) {
      this.#push({ handle, kind: 'event', label: 'attach refused', run: () => handle.finish(EXPIRED_STATE) });
      return handle;
    }
    handle.sessionId = record!.id;
    handle.sessionPassword = record!.password;
    record!.handles.add(handle);
    this.#push({ handle, kind: 'event', label: `connect ${record!.id}`, run: () => this.#establish(handle, record!) });
    return handle;
  }

  #establish(handle: MemoryHandle, record: SessionRecord): void {
    if (handle.closed) return;
    if (record.ended) return handle.finish(EXPIRED_STATE);
    handle.state = 'connected';
    handle.lastContact = Math.max(handle.lastContact, handle.clock.now());
    handle.emit('connected');
  }

  #newRecord(): SessionRecord {
    const id = (this.#nextId += 1).toString(16);
    const record: SessionRecord = { id, password: id.padStart(32, '0'), ended: false, handles: new Set(), loseNextReply: false };
    this.#sessions.set(id, record);
    return record;
  }

  #end(record: SessionRecord): void {
    if (record.ended) return;
    record.ended = true;
    this.#tree.dropWatches(record.id);
    for (const path of this.#tree.ephemeralsOf(record.id)) this.#tree.delete(path, -1);
  }

  #record(target: SessionTarget): SessionRecord {
    const id = typeof target === 'string' ? target : target.sessionId;
    const record = this.#sessions.get(id);
    if (!record) throw new Error(`MemoryZooKeeper: no session ${id}`);
    return record;
  }

  #push(delivery: Delivery): void {
    this.#queue.push(delivery);
    if (this.#auto) this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.step() && this.#queue.length > 0) this.#schedule();
    });
  }
}
