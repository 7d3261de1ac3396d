/**
 * What the library needs of one ZooKeeper session handle. The native binding (zk-client.ts) is
 * one implementation; zk-election/testing's in-memory ZooKeeper is the other, so that Session,
 * Election and Leadership run unchanged in deterministic unit tests. Types only, plus constants.
 */
import type { EventEmitter } from 'node:events';
import type { Clock } from '../util/clock.js';

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
}

export type WatchEventType = 'created' | 'deleted' | 'changed' | 'child';
export interface WatchEvent {
  type: WatchEventType;
  path: string;
}
/** Called once, for a node event only: session events never reach a watcher. */
export type Watcher = (event: WatchEvent) => void;

export interface Acl {
  perms: number;
  scheme: string;
  auth: string;
}

/** The ACL a node gets when none is given: anyone may do anything (ZooKeeper's OPEN_ACL_UNSAFE). */
export const OPEN_ACL: readonly Acl[] = [{ perms: 31, scheme: 'world', auth: 'anyone' }];

export const CreateMode = { PERSISTENT: 0, EPHEMERAL: 1, PERSISTENT_SEQUENTIAL: 2, EPHEMERAL_SEQUENTIAL: 3, CONTAINER: 4 } as const;
export type CreateModeValue = (typeof CreateMode)[keyof typeof CreateMode];
export const Perms = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

/**
 * One operation of a transaction (`multi`): all of them happen, or none does. `version` -1 (or
 * left out) matches any version; `check` then only asks that the node exists.
 */
export type MultiOp =
  | { type: 'check'; path: string; version?: number }
  | { type: 'create'; path: string; data: Buffer; mode: CreateModeValue; acl?: readonly Acl[] }
  | { type: 'delete'; path: string; version?: number }
  | { type: 'set'; path: string; data: Buffer; version?: number };
/** What each operation of a successful `multi` gave, in the order of the ops. */
export type MultiResult = { type: 'check' } | { type: 'create'; path: string } | { type: 'delete' } | { type: 'set'; stat: Stat };

/** Close codes: 0 when we closed it, -112 on expiry, -113 on auth failure. */
export const EXPIRED_STATE = -112;
export const AUTH_FAILED_STATE = -113;

export interface HandleEvents {
  connected: [];
  connecting: [];
  /** The handle is gone for good: 0 when we closed it, -112 on expiry, -113 on auth failure. */
  closed: [code: number];
}

/**
 * TLS to ZooKeeper's secure client port (`secureClientPort`): PEM files, by path. The server's
 * certificate must chain to `ca` (and to no other CA); its host name is not checked
 * (docs/native-client.md#tls).
 */
export interface TlsOptions {
  /** Path of a PEM file: the CA certificate(s) that signed the servers' certificates. */
  ca: string;
  /** Path of a PEM file: a client certificate (chain), for a server that asks for one (mutual TLS); with `key`. */
  cert?: string | undefined;
  /** Path of a PEM file: the client certificate's private key; with `cert`. */
  key?: string | undefined;
  /** The passphrase of an encrypted `key` (the string itself, not a file). A secret: no message repeats it. */
  passphrase?: string | undefined;
}

export interface HandleOptions {
  /** `host:port,...[/chroot]` */
  connect: string;
  /** Requested session timeout, ms. */
  sessionTimeout: number;
  /** Attach to an existing session (a test's way to force expiry). */
  session?: { id: string; password: string } | undefined;
  /** The clock `lastContact` is measured on. */
  clock: Clock;
  /** Connect over TLS. */
  tls?: TlsOptions | undefined;
}

/**
 * One handle = one ZooKeeper session. Once it reports `closed` it is never used again: every
 * call then rejects with CLOSED (or SESSION_EXPIRED) without touching the underlying client.
 */
export interface ZkHandle extends Pick<EventEmitter<HandleEvents>, 'on' | 'once' | 'off'> {
  readonly closed: boolean;
  readonly closeCode: number | undefined;
  readonly connected: boolean;
  /** The session id in hex, as the server's `ephemeralOwner` shows it. */
  readonly sessionId: string;
  readonly sessionPassword: string;
  /** The session timeout the server granted, ms (the requested one until connected). */
  readonly negotiatedTimeout: number;
  /**
   * Monotonic time (on the handle's clock) when a request was sent whose reply later came back:
   * the latest moment the server is known to have heard this session. Leases count from it.
   */
  readonly lastContact: number;
  /** Why the last TLS connection attempt failed (a handle with `tls` only); undefined when it did not. */
  readonly tlsError?: string | undefined;
  /** Creates a node with `acl` in the same request (OPEN_ACL when left out): it never exists with another ACL. */
  create(path: string, data: Buffer, mode: CreateModeValue, acl?: readonly Acl[]): Promise<string>;
  /**
   * Runs `ops` as one transaction. Resolves with one result per op; rejects with the typed error of
   * the op that failed (its `path` is that op's), in which case none of the ops happened.
   */
  multi(ops: readonly MultiOp[]): Promise<MultiResult[]>;
  get(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }>;
  /** The node's stat, or undefined when it does not exist (a watch then waits for its creation). */
  exists(path: string, watcher?: Watcher): Promise<Stat | undefined>;
  getChildren(path: string, watcher?: Watcher): Promise<string[]>;
  /**
   * Stops calling `watcher` for the watches it was given to: its caller gave up waiting, and it
   * must not stay reachable from a long-lived handle. The server's watch stays until it fires.
   * Optional for a Transport of one's own; the library calls it where present.
   */
  unwatch?(watcher: Watcher): void;
  /**
   * Resolves once none of this handle's requests awaits its reply (at once when none does, or when
   * the handle is closed), or after `maxMs`: for a request that can wait, so that it does not
   * delay the replies to urgent ones (the server answers a session's reads after its earlier
   * writes). Optional for a Transport of one's own; without it such a request goes at once.
   */
  whenIdle?(maxMs: number): Promise<void>;
  delete(path: string, version?: number): Promise<void>;
  setData(path: string, data: Buffer, version?: number): Promise<Stat>;
  /** Makes the server we talk to catch up with the ensemble's leader before our next read. */
  sync(path: string): Promise<void>;
  setAcl(path: string, acl: Acl[], version?: number): Promise<void>;
  getAcl(path: string): Promise<{ acl: Acl[]; stat: Stat }>;
  addAuth(scheme: string, auth: string): Promise<void>;
  /** Closes the session (the server deletes its ephemeral nodes at once). Idempotent. */
  close(): void;
}

/** Makes handles: the native client by default, the in-memory one in zk-election/testing. */
export type Transport = (options: HandleOptions) => ZkHandle;
