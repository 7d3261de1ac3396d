/**
 * A handle's watchers, kept in JavaScript beside the C client's own tables, for the native client
 * (native-client.ts). The binding's watcher functions (`aw_get` and the like) wrap each watcher in
 * a persistent callback that it never frees, fired or not: every watcher, with everything its
 * closure reaches (a candidacy, its election, the session, the native handle itself), stayed in
 * the heap for the life of the process (issue 20). So the native client asks the C client for its
 * default watcher instead (`a_get(path, true)`: no allocation per watch; the binding emits the
 * event on the handle) and keeps the watchers here, mirroring the C client's rules:
 *
 *   - registration, once the reply is in: getData OK -> data; exists OK -> data, NO_NODE -> exist;
 *     getChildren OK -> child; any other reply registers nothing;
 *   - an event takes its watchers out and calls them once: created and changed fire data and
 *     exist, child fires child, deleted fires all three.
 *
 * One C registration per path and table serves any number of watchers here (the C client keeps the
 * default watcher once per path and table), and `unwatch` drops a watcher whose caller gave up: the
 * server's watch then stays until it fires, costing one notification and nothing in this process.
 */
import type { Watcher, WatchEventType } from './handle.js';

export type WatchKind = 'data' | 'exist' | 'child';

const FIRED_BY: Readonly<Record<WatchEventType, readonly WatchKind[]>> = {
  created: ['data', 'exist'],
  changed: ['data', 'exist'],
  child: ['child'],
  deleted: ['data', 'exist', 'child'],
};

/** What a reply registered, by operation and return code (see the rules above). */
export function registeredKind(operation: 'get' | 'exists' | 'getChildren', rc: number): WatchKind | undefined {
  if (operation === 'get') return rc === 0 ? 'data' : undefined;
  if (operation === 'getChildren') return rc === 0 ? 'child' : undefined;
  return rc === 0 ? 'data' : rc === -101 ? 'exist' : undefined;
}

export class WatchTable {
  readonly #tables: Record<WatchKind, Map<string, Set<Watcher>>> = { data: new Map(), exist: new Map(), child: new Map() };

  /** Watchers waiting, all tables together. */
  get size(): number {
    let n = 0;
    for (const table of Object.values(this.#tables)) for (const set of table.values()) n += set.size;
    return n;
  }

  add(kind: WatchKind, path: string, watcher: Watcher): void {
    const table = this.#tables[kind];
    const set = table.get(path);
    if (set) set.add(watcher);
    else table.set(path, new Set([watcher]));
  }

  /** Calls, once, every watcher the event fires; each is out of the table before it runs. */
  fire(type: WatchEventType, path: string): void {
    const due = new Set<Watcher>();
    for (const kind of FIRED_BY[type]) {
      const set = this.#tables[kind].get(path);
      if (!set) continue;
      this.#tables[kind].delete(path);
      for (const watcher of set) due.add(watcher);
    }
    for (const watcher of due) watcher({ type, path });
  }

  /** Drops `watcher` wherever it waits: it will not be called. */
  remove(watcher: Watcher): void {
    for (const table of Object.values(this.#tables)) {
      for (const [path, set] of table) {
        if (set.delete(watcher) && set.size === 0) table.delete(path);
      }
    }
  }

  /** The handle is gone: no watcher will ever be called. */
  clear(): void {
    for (const table of Object.values(this.#tables)) table.clear();
  }
}
