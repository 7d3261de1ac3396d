/**
 * The data model of the in-memory ZooKeeper: znodes with ZooKeeper's stat bookkeeping, sequential
 * names, ephemeral owners and one-shot watches. Pure state; delivery order and faults are
 * server.ts's. Return codes are ZooKeeper's own numbers, mapped to errors by the library's table.
 */
import { OPEN_ACL, type Acl, type Stat, type WatchEventType } from '../../zk/handle.js';

export const RC = { NO_NODE: -101, BAD_VERSION: -103, NO_CHILDREN_FOR_EPHEMERALS: -108, NODE_EXISTS: -110, NOT_EMPTY: -111, INVALID_ACL: -114 } as const;

/** A failed operation: its ZooKeeper return code, and the op it names when that is not the request's own (a multi's). */
export class RcError extends Error {
  constructor(
    readonly rc: number,
    readonly where?: { operation: string; path: string },
  ) {
    super(`rc ${rc}`);
  }
}

interface ZNode {
  data: Buffer;
  stat: Stat;
  /** Stored as given, not enforced: the in-memory server has no authentication. */
  acl: readonly Acl[];
  children: Set<string>;
  /** The parent's counter for sequential children. */
  nextSequence: number;
}

/** Who to tell about a node event: a watcher of one session's handle. */
export interface WatchTarget {
  readonly owner: string;
  notify(type: WatchEventType, path: string): void;
}

type WatchMap = Map<string, Set<{ target: WatchTarget; once: (type: WatchEventType) => void }>>;

export class Tree {
  #nodes = new Map<string, ZNode>();
  readonly #dataWatches: WatchMap = new Map();
  readonly #childWatches: WatchMap = new Map();
  #zxid = 0;
  /** Inside a transaction: the watch events it will fire if it commits, and its one zxid. */
  #transaction: { fires: Array<() => void>; zxid: number | undefined } | undefined;

  constructor() {
    this.#nodes.set('/', this.#node(Buffer.alloc(0), '0'));
  }

  has(path: string): boolean {
    return this.#nodes.has(path);
  }
  paths(): string[] {
    return [...this.#nodes.keys()].sort();
  }
  childrenOf(path: string): string[] {
    return [...(this.#nodes.get(path)?.children ?? [])];
  }

  create(path: string, data: Buffer, sequential: boolean, owner: string, acl: readonly Acl[] = OPEN_ACL): string {
    const parentPath = parentOf(path);
    const parent = this.#nodes.get(parentPath);
    if (!parent) throw new RcError(RC.NO_NODE);
    if (parent.stat.ephemeralOwner !== '0') throw new RcError(RC.NO_CHILDREN_FOR_EPHEMERALS);
    const created = sequential ? `${path}${String(parent.nextSequence).padStart(10, '0')}` : path;
    if (this.#nodes.has(created)) throw new RcError(RC.NODE_EXISTS);
    if (acl.length === 0) throw new RcError(RC.INVALID_ACL);
    if (sequential) parent.nextSequence += 1;
    const zxid = this.#next();
    this.#nodes.set(created, { ...this.#node(data, owner, zxid), acl: acl.map((entry) => ({ ...entry })) });
    parent.children.add(created.slice(created.lastIndexOf('/') + 1));
    this.#childChanged(parent, zxid);
    this.#fire(this.#dataWatches, created, 'created');
    this.#fire(this.#childWatches, parentPath, 'child');
    return created;
  }

  delete(path: string, version: number): void {
    const node = this.#nodes.get(path);
    if (!node || path === '/') throw new RcError(RC.NO_NODE);
    if (version !== -1 && version !== node.stat.version) throw new RcError(RC.BAD_VERSION);
    if (node.children.size > 0) throw new RcError(RC.NOT_EMPTY);
    const parentPath = parentOf(path);
    const parent = this.#nodes.get(parentPath)!;
    this.#nodes.delete(path);
    parent.children.delete(path.slice(path.lastIndexOf('/') + 1));
    this.#childChanged(parent, this.#next());
    this.#fire(this.#dataWatches, path, 'deleted');
    this.#fire(this.#childWatches, path, 'deleted');
    this.#fire(this.#childWatches, parentPath, 'child');
  }

  setData(path: string, data: Buffer, version: number): Stat {
    const node = this.#nodes.get(path);
    if (!node) throw new RcError(RC.NO_NODE);
    if (version !== -1 && version !== node.stat.version) throw new RcError(RC.BAD_VERSION);
    node.data = Buffer.from(data);
    node.stat = { ...node.stat, mzxid: this.#next(), mtime: new Date(), version: node.stat.version + 1, dataLength: data.length };
    this.#fire(this.#dataWatches, path, 'changed');
    return { ...node.stat };
  }

  /** A multi's check: the node exists, at `version` unless that is -1. */
  check(path: string, version: number): void {
    const node = this.#nodes.get(path);
    if (!node) throw new RcError(RC.NO_NODE);
    if (version !== -1 && version !== node.stat.version) throw new RcError(RC.BAD_VERSION);
  }

  getAcl(path: string): { acl: Acl[]; stat: Stat } {
    const node = this.#nodes.get(path);
    if (!node) throw new RcError(RC.NO_NODE);
    return { acl: node.acl.map((entry) => ({ ...entry })), stat: { ...node.stat } };
  }

  setAcl(path: string, acl: readonly Acl[], version: number): void {
    const node = this.#nodes.get(path);
    if (!node) throw new RcError(RC.NO_NODE);
    if (version !== -1 && version !== node.stat.aversion) throw new RcError(RC.BAD_VERSION);
    if (acl.length === 0) throw new RcError(RC.INVALID_ACL);
    node.acl = acl.map((entry) => ({ ...entry }));
    node.stat = { ...node.stat, aversion: node.stat.aversion + 1 };
  }

  /**
   * Runs `apply` as one transaction, as ZooKeeper runs a multi: if it throws, the tree is as it
   * was and no watch fired; if it returns, its watch events fire, and all its changes share one zxid.
   */
  transaction<T>(apply: () => T): T {
    const saved = new Map([...this.#nodes].map(([path, node]) => [path, { ...node, children: new Set(node.children) }]));
    const zxid = this.#zxid;
    const transaction: { fires: Array<() => void>; zxid: number | undefined } = { fires: [], zxid: undefined };
    this.#transaction = transaction;
    try {
      const result = apply();
      this.#transaction = undefined;
      for (const fire of transaction.fires) fire();
      return result;
    } catch (error) {
      this.#transaction = undefined;
      this.#nodes = saved;
      this.#zxid = zxid;
      throw error;
    }
  }

  /** getData: a watch is set only when the node exists (as ZooKeeper does). */
  get(path: string, watch?: WatchTarget): { data: Buffer; stat: Stat } {
    const node = this.#nodes.get(path);
    if (!node) throw new RcError(RC.NO_NODE);
    if (watch) this.#watch(this.#dataWatches, path, watch);
    return { data: Buffer.from(node.data), stat: { ...node.stat } };
  }

  /** exists: the watch is set either way (on an absent node it waits for the creation). */
  exists(path: string, watch?: WatchTarget): Stat | undefined {
    if (watch) this.#watch(this.#dataWatches, path, watch);
    const node = this.#nodes.get(path);
    return node ? { ...node.stat } : undefined;
  }

  getChildren(path: string, watch?: WatchTarget): string[] {
    const node = this.#nodes.get(path);
    if (!node) throw new RcError(RC.NO_NODE);
    if (watch) this.#watch(this.#childWatches, path, watch);
    return [...node.children];
  }

  /** Every ephemeral node of `owner`, deepest first (the session ended). */
  ephemeralsOf(owner: string): string[] {
    return [...this.#nodes.entries()].filter(([, node]) => node.stat.ephemeralOwner === owner).map(([path]) => path).sort((a, b) => b.length - a.length);
  }

  /** Drops every watch a session set (it ended; ZooKeeper tells its watchers only of the session event). */
  dropWatches(owner: string): void {
    for (const map of [this.#dataWatches, this.#childWatches]) {
      for (const set of map.values()) for (const entry of [...set]) if (entry.target.owner === owner) set.delete(entry);
    }
  }

  /** How many watches are set now (data, child), for assertions on the watch budget. */
  watchCount(owner?: string): { data: number; child: number } {
    const count = (map: WatchMap): number => [...map.values()].reduce((n, set) => n + [...set].filter((e) => owner === undefined || e.target.owner === owner).length, 0);
    return { data: count(this.#dataWatches), child: count(this.#childWatches) };
  }

  #watch(map: WatchMap, path: string, target: WatchTarget): void {
    let set = map.get(path);
    if (!set) map.set(path, (set = new Set()));
    set.add({ target, once: (type) => target.notify(type, path) });
  }

  #fire(map: WatchMap, path: string, type: WatchEventType): void {
    if (this.#transaction) {
      this.#transaction.fires.push(() => this.#fire(map, path, type));
      return;
    }
    const set = map.get(path);
    if (!set) return;
    map.delete(path);
    for (const entry of set) entry.once(type);
  }

  #childChanged(parent: ZNode, zxid: number): void {
    parent.stat = { ...parent.stat, pzxid: zxid, cversion: parent.stat.cversion + 1, numChildren: parent.children.size };
  }

  #next(): number {
    if (this.#transaction?.zxid !== undefined) return this.#transaction.zxid;
    this.#zxid += 1;
    if (this.#transaction) this.#transaction.zxid = this.#zxid;
    return this.#zxid;
  }

  #node(data: Buffer, owner: string, zxid = 0): ZNode {
    const now = new Date();
    const stat: Stat = { czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: now, mtime: now, version: 0, cversion: 0, aversion: 0, ephemeralOwner: owner, dataLength: data.length, numChildren: 0 };
    return { data: Buffer.from(data), stat, acl: OPEN_ACL, children: new Set(), nextSequence: 0 };
  }
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}
