/**
 * Finds and loads the native client: zk-election's patched build of the `zookeeper` binding's
 * addon (lib/native), and checks that it is that build before anything uses it. A missing addon
 * (install scripts skipped or failed) or another build (an unpatched one aborts the process after
 * a pause: docs/native-client.md) is a NativeClientError naming the fix, never a connect error
 * and never a silent run on the wrong binding. Loaded on the first handle, not at import.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeClientError } from '../errors.js';
import type { Acl, Stat } from './handle.js';

type Rc = number;
export type NativeWatcher = (type: number, state: number, path: string) => void;
/** The addon's ACL entry: `perm`, where ZkHandle (and the addon's own replies) say `perms`. */
export interface NativeAcl {
  scheme: string;
  auth: string;
  perm: number;
}
export type NativeMultiOp =
  | { type: 'check' | 'delete'; path: string; version: number }
  | { type: 'create'; path: string; data: Buffer; flags: number; acl: NativeAcl[] }
  | { type: 'set'; path: string; data: Buffer; version: number };
export interface NativeMultiResult {
  rc: Rc;
  path?: string;
  stat?: Stat;
}

/**
 * One native handle, as the addon's object has it (not the `zookeeper` package's JavaScript
 * wrapper, which formats every call's arguments for a logger that is off). Every request returns
 * the C client's synchronous return code: non-zero means refused, and no callback comes.
 */
export interface NativeHandle {
  /** Starts connecting; returns an Error (not thrown) when the C client refuses the arguments. */
  init(config: Record<string, unknown>): unknown;
  close(): void;
  /** What the addon calls for 'connect', 'connecting' and 'close' (with the close code). */
  emit: (event: string, self: unknown, data: unknown) => void;
  a_create(path: string, data: Buffer, flags: number, cb: (rc: Rc, error: string, path: string) => void): Rc;
  a_create(path: string, data: Buffer, flags: number, acl: NativeAcl[], cb: (rc: Rc, error: string, path: string) => void): Rc;
  a_multi(ops: NativeMultiOp[], cb: (rc: Rc, error: string, results: NativeMultiResult[]) => void): Rc;
  a_get(path: string, watch: boolean, cb: (rc: Rc, error: string, stat: Stat, data: Buffer | null) => void): Rc;
  aw_get(path: string, watcher: NativeWatcher, cb: (rc: Rc, error: string, stat: Stat, data: Buffer | null) => void): Rc;
  a_exists(path: string, watch: boolean, cb: (rc: Rc, error: string, stat: Stat) => void): Rc;
  aw_exists(path: string, watcher: NativeWatcher, cb: (rc: Rc, error: string, stat: Stat) => void): Rc;
  a_get_children(path: string, watch: boolean, cb: (rc: Rc, error: string, children: string[]) => void): Rc;
  aw_get_children(path: string, watcher: NativeWatcher, cb: (rc: Rc, error: string, children: string[]) => void): Rc;
  a_delete_(path: string, version: number, cb: (rc: Rc, error: string) => void): Rc;
  a_set(path: string, data: Buffer, version: number, cb: (rc: Rc, error: string, stat: Stat) => void): Rc;
  a_sync(path: string, cb: (rc: Rc, error: string) => void): Rc;
  a_get_acl(path: string, cb: (rc: Rc, error: string, acl: Acl[] | null, stat: Stat | null) => void): Rc;
  a_set_acl(path: string, version: number, acl: NativeAcl[], cb: (rc: Rc, error: string) => void): Rc;
  add_auth(scheme: string, auth: string, cb: (rc: Rc, error: string) => void): Rc;
  readonly client_id: string;
  readonly client_password: string;
  readonly timeout: number;
  readonly state: number;
  /** Why the last TLS connection attempt failed; "" when it did not. */
  readonly tls_error: string;
}
export type NativeConstructor = (new () => NativeHandle) & Readonly<Record<string, unknown>>;

/**
 * The constant the addon exports for each patch in lib/native, with the value of the patch's
 * current version. lib/native's build script checks the same list after building (a unit test
 * holds the two equal).
 */
export const PATCH_MARKERS: Readonly<Record<string, string>> = {
  ZK_ELECTION_PATCH: 'owned-poll-descriptor/1',
  ZK_ELECTION_LATENCY_PATCH: 'resolve-once-a-minute+close-without-waiting/1',
  ZK_ELECTION_ACL_MULTI_PATCH: 'create-acl+multi/1',
  ZK_ELECTION_TLS_PATCH: 'init-ssl+ca-only+nonblocking-handshake/1',
  ZK_ELECTION_ACL_COMPLETION_PATCH: 'acl-completion-null/1',
};

const FIX = 'run `npm rebuild zk-election` (pnpm: `pnpm approve-builds`, then `pnpm rebuild zk-election`; see docs/install.md)';

/** Loads the addon at `file` and checks its patch markers; throws NativeClientError otherwise. */
export function loadAddon(file: string): NativeConstructor {
  if (!fs.existsSync(file)) {
    throw new NativeClientError(`zk-election's native client is not built (no ${file}): its install script did not run or failed; ${FIX}`, file);
  }
  const addon: { exports: { ZooKeeper?: NativeConstructor } } = { exports: {} };
  try {
    // Every symbol resolved now (OpenSSL's from the node binary): a missing one is this error, not
    // an abort on the first TLS connect.
    process.dlopen(addon, file, os.constants.dlopen.RTLD_NOW);
  } catch (error) {
    throw new NativeClientError(`zk-election's native client ${file} does not load (${(error as Error).message}); ${FIX}`, file, { cause: error });
  }
  const constructor = addon.exports.ZooKeeper;
  const wrong = Object.entries(PATCH_MARKERS).filter(([name, value]) => constructor?.[name] !== value);
  if (!constructor || wrong.length > 0) {
    const found = wrong.map(([name]) => `${name} = ${JSON.stringify(constructor?.[name])}`).join(', ');
    throw new NativeClientError(`${file} is not zk-election's patched build of the native client (${found}); ${FIX}`, file);
  }
  return constructor;
}

let loaded: NativeConstructor | undefined;
/** The native client, loaded and checked once per process. */
export function nativeBinding(): NativeConstructor {
  loaded ??= loadAddon(addonFile());
  return loaded;
}

/** Where the install builds the addon: zk-election's own native-build/ (lib/native/build.mjs). */
export function addonFile(): string {
  return path.join(packageRoot(), 'native-build', 'build', 'Release', 'zookeeper.node');
}

/** zk-election's own directory: the nearest package.json named zk-election above this file (built, bundled or in the sources). */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'zk-election') return dir;
    if (path.dirname(dir) === dir) throw new NativeClientError(`zk-election's package.json is not above ${from}; ${FIX}`, from);
  }
}
