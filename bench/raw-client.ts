/**
 * The bare native client, no library code: the baseline every ratio is taken against. The same
 * addon the library loads (zk-election's build of the `zookeeper` binding, lib/native), driven
 * through its callback API (`a_create`, `aw_get`, `a_get_children`, `a_delete_`) directly, as the
 * library drives it.
 */
import { nativeBinding, type NativeHandle } from '../lib/zk/native-binding.js';
import { within } from './timing.js';

type Callback<T extends unknown[]> = (rc: number, error: string, ...rest: T) => void;
/** What the bench sends: data may be a string (the addon takes both). */
interface BareOps {
  a_create(path: string, data: Buffer | string, flags: number, cb: Callback<[string]>): number;
  aw_get(path: string, watcher: (type: number, state: number, path: string) => void, cb: Callback<[unknown, Buffer | null]>): number;
  a_get_children(path: string, watch: boolean, cb: Callback<[string[]]>): number;
  a_delete_(path: string, version: number, cb: Callback<[]>): number;
}

export const PERSISTENT = 0;
export const EPHEMERAL = 1;
export const EPHEMERAL_SEQUENTIAL = 3;
const NODE_EXISTS = -110;
const DELETED_EVENT = 2;

function settle<T>(resolve: (value: T) => void, reject: (error: Error) => void, what: string) {
  return (rc: number, error: string, value: T): void => {
    if (rc === 0) resolve(value);
    else reject(Object.assign(new Error(`${what}: ${rc} ${error}`), { rc }));
  };
}

export class RawClient {
  private readonly ops: BareOps;

  private constructor(private readonly handle: NativeHandle) {
    this.ops = handle as unknown as BareOps;
  }

  static async connect(connect: string, timeout: number, waitMs = 10_000): Promise<RawClient> {
    const handle = new (nativeBinding())();
    const connected = new Promise<void>((resolve) => {
      handle.emit = (event) => event === 'connect' && resolve();
    });
    handle.init({ connect, timeout, debug_level: 0, host_order_deterministic: false });
    try {
      await within(connected, waitMs, `bare client connect to ${connect}`);
    } catch (error) {
      handle.close();
      throw error;
    }
    return new RawClient(handle);
  }

  create(path: string, data: Buffer | string, flags: number): Promise<string> {
    return new Promise((resolve, reject) => this.ops.a_create(path, data, flags, settle(resolve, reject, `create ${path}`)));
  }

  /** Creates `path` and its ancestors as empty persistent nodes; existing ones are fine. */
  async ensurePath(path: string): Promise<void> {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i += 1) {
      try {
        await this.create(`/${parts.slice(0, i).join('/')}`, '', PERSISTENT);
      } catch (error) {
        if ((error as { rc?: number }).rc !== NODE_EXISTS) throw error;
      }
    }
  }

  delete(path: string): Promise<void> {
    return new Promise((resolve, reject) => this.ops.a_delete_(path, -1, (rc, error) => settle(resolve, reject, `delete ${path}`)(rc, error, undefined)));
  }

  children(path: string): Promise<string[]> {
    return new Promise((resolve, reject) => this.ops.a_get_children(path, false, settle(resolve, reject, `children ${path}`)));
  }

  /**
   * Sets a data watch on `path`. `set` resolves once the server has registered it; `deleted`
   * resolves when the node is deleted (session events, type -1, are ignored).
   */
  watchDeletion(path: string): { set: Promise<void>; deleted: Promise<void> } {
    let onDeleted: () => void = () => {};
    const deleted = new Promise<void>((resolve) => (onDeleted = resolve));
    const set = new Promise<void>((resolve, reject) => {
      const watcher = (type: number): void => {
        if (type === DELETED_EVENT) onDeleted();
      };
      this.ops.aw_get(path, watcher, (rc, error) => settle(resolve, reject, `watch ${path}`)(rc, error, undefined));
    });
    return { set, deleted };
  }

  close(): void {
    this.handle.close();
  }
}
