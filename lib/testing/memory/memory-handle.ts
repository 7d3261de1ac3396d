/**
 * The client side of the in-memory ZooKeeper: a ZkHandle, as the native client is one. Requests
 * become deliveries in the server's queue; replies, watch events and connection events come back
 * as the server delivers them (on its own, or one `step()` at a time).
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../../util/clock.js';
import { ClosedError, errorForReturnCode } from '../../errors.js';
import {
  CreateMode,
  EXPIRED_STATE,
  type Acl,
  type CreateModeValue,
  type HandleEvents,
  type MultiOp,
  type MultiResult,
  type Stat,
  type Watcher,
  type WatchEventType,
  type ZkHandle,
} from '../../zk/handle.js';
import { RcError, type Tree, type WatchTarget } from './memory-tree.js';

/** What a handle needs of its server. */
export interface MemoryServerPort {
  submit<T>(handle: MemoryHandle, operation: string, apply: (tree: Tree) => T): Promise<T>;
  /** Queues a watch event for `handle`, in order with its replies. */
  deliverWatch(handle: MemoryHandle, fire: () => void): void;
  closeSession(handle: MemoryHandle): void;
}

export type HandleState = 'connecting' | 'connected' | 'closed';

export class MemoryHandle extends EventEmitter<HandleEvents> implements ZkHandle {
  state: HandleState = 'connecting';
  closeCode: number | undefined;
  sessionId = '0';
  sessionPassword = '';
  negotiatedTimeout: number;
  lastContact: number;
  /** Rejections of requests still waiting for their delivery, so that a close fails them at once. */
  readonly pending = new Set<(error: Error) => void>();

  constructor(
    readonly server: MemoryServerPort,
    readonly clock: Clock,
    requestedTimeout: number,
  ) {
    super();
    this.setMaxListeners(0);
    this.negotiatedTimeout = requestedTimeout;
    this.lastContact = clock.now();
  }

  get closed(): boolean {
    return this.state === 'closed';
  }
  get connected(): boolean {
    return this.state === 'connected';
  }

  create(path: string, data: Buffer, mode: CreateModeValue, acl?: readonly Acl[]): Promise<string> {
    return this.#request('create', (tree) => this.#create(tree, path, data, mode, acl));
  }
  /** All ops or none, as ZooKeeper runs them; a failure names the op (and path) that failed. */
  multi(ops: readonly MultiOp[]): Promise<MultiResult[]> {
    return this.#request('multi', (tree) => tree.transaction(() => ops.map((op) => this.#apply(tree, op))));
  }
  getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    return this.#request('getAcl', (tree) => tree.getAcl(path));
  }
  get(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }> {
    return this.#request('get', (tree) => tree.get(path, this.#target(watcher)));
  }
  async exists(path: string, watcher?: Watcher): Promise<Stat | undefined> {
    return this.#request('exists', (tree) => tree.exists(path, this.#target(watcher)));
  }
  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    return this.#request('getChildren', (tree) => tree.getChildren(path, this.#target(watcher)));
  }
  delete(path: string, version = -1): Promise<void> {
    return this.#request('delete', (tree) => tree.delete(path, version));
  }
  setData(path: string, data: Buffer, version = -1): Promise<Stat> {
    return this.#request('setData', (tree) => tree.setData(path, data, version));
  }
  sync(_path: string): Promise<void> {
    return this.#request('sync', () => undefined);
  }
  setAcl(path: string, acl: Acl[], version = -1): Promise<void> {
    return this.#request('setAcl', (tree) => tree.setAcl(path, acl, version));
  }
  addAuth(_scheme: string, _auth: string): Promise<void> {
    return this.#request('addAuth', () => undefined);
  }

  close(): void {
    if (this.closed) return;
    this.server.closeSession(this);
    this.finish(0);
  }

  /** The handle is gone for good: pending requests fail, `closed` is emitted. @internal */
  finish(code: number): void {
    if (this.closed) return;
    this.state = 'closed';
    this.closeCode = code;
    const error = code === EXPIRED_STATE ? errorForReturnCode(-112) : new ClosedError(`ZooKeeper session ${this.sessionId}`);
    for (const fail of [...this.pending]) fail(error);
    this.emit('closed', code);
  }

  #request<T>(operation: string, apply: (tree: Tree) => T): Promise<T> {
    if (this.closed) {
      return Promise.reject(this.closeCode === EXPIRED_STATE ? errorForReturnCode(-112) : new ClosedError(`ZooKeeper session ${this.sessionId}`));
    }
    return this.server.submit(this, operation, apply);
  }

  #create(tree: Tree, path: string, data: Buffer, mode: CreateModeValue, acl: readonly Acl[] | undefined): string {
    const sequential = mode === CreateMode.EPHEMERAL_SEQUENTIAL || mode === CreateMode.PERSISTENT_SEQUENTIAL;
    const ephemeral = mode === CreateMode.EPHEMERAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL;
    return tree.create(path, data, sequential, ephemeral ? this.sessionId : '0', acl);
  }

  #apply(tree: Tree, op: MultiOp): MultiResult {
    try {
      switch (op.type) {
        case 'check':
          tree.check(op.path, op.version ?? -1);
          return { type: 'check' };
        case 'create':
          return { type: 'create', path: this.#create(tree, op.path, op.data, op.mode, op.acl) };
        case 'delete':
          tree.delete(op.path, op.version ?? -1);
          return { type: 'delete' };
        case 'set':
          return { type: 'set', stat: tree.setData(op.path, op.data, op.version ?? -1) };
      }
    } catch (error) {
      if (error instanceof RcError) throw new RcError(error.rc, { operation: `multi: ${op.type}`, path: op.path });
      throw error;
    }
  }

  #target(watcher: Watcher | undefined): WatchTarget | undefined {
    if (!watcher) return undefined;
    return { owner: this.sessionId, notify: (type: WatchEventType, path: string) => this.#notify(watcher, type, path) };
  }

  #notify(watcher: Watcher, type: WatchEventType, path: string): void {
    this.server.deliverWatch(this, () => watcher({ type, path }));
  }
}
