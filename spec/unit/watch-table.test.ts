/**
 * The native client's watch table (lib/zk/watch-table.ts), which stands in for the binding's
 * watcher functions (they leak every callback, issue 20): its registrations and events follow the
 * C client's tables, each watcher is called once and is out of the table before it runs, and a
 * watcher given up or a closed handle leaves nothing behind.
 */
import type { WatchEvent } from 'zk-election';
import { registeredKind, WatchTable, type WatchKind } from '../../lib/zk/watch-table.js';

function recorder(): { events: WatchEvent[]; watcher: (event: WatchEvent) => void } {
  const events: WatchEvent[] = [];
  return { events, watcher: (event) => void events.push(event) };
}

test('what a reply registers: getData and getChildren only when OK, exists also on NO_NODE (a watch for the creation)', () => {
  expect([registeredKind('get', 0), registeredKind('get', -101), registeredKind('get', -4)]).toEqual(['data', undefined, undefined]);
  expect([registeredKind('exists', 0), registeredKind('exists', -101), registeredKind('exists', -4)]).toEqual(['data', 'exist', undefined]);
  expect([registeredKind('getChildren', 0), registeredKind('getChildren', -101), registeredKind('getChildren', -112)]).toEqual(['child', undefined, undefined]);
});

test.each([
  ['created', ['data', 'exist']],
  ['changed', ['data', 'exist']],
  ['child', ['child']],
  ['deleted', ['data', 'exist', 'child']],
] as Array<[WatchEvent['type'], WatchKind[]]>)('a %s event fires the %j watchers of its path, once, and no other', (type, fired) => {
  const table = new WatchTable();
  const byKind = { data: recorder(), exist: recorder(), child: recorder() };
  const elsewhere = recorder();
  for (const [kind, { watcher }] of Object.entries(byKind)) table.add(kind as keyof typeof byKind, '/a', watcher);
  table.add('data', '/b', elsewhere.watcher);
  table.fire(type, '/a');
  table.fire(type, '/a');
  const calls = Object.fromEntries(Object.entries(byKind).map(([kind, r]) => [kind, r.events.length]));
  expect(calls).toEqual({ data: fired.includes('data') ? 1 : 0, exist: fired.includes('exist') ? 1 : 0, child: fired.includes('child') ? 1 : 0 });
  expect(elsewhere.events).toEqual([]);
  expect(table.size).toBe(1 + 3 - fired.length);
});

test('a watcher in two tables of one path is called once by an event that fires both; it is out of the table before it runs', () => {
  const table = new WatchTable();
  let sizeWhileRunning = -1;
  let calls = 0;
  const watcher = (): void => {
    calls += 1;
    sizeWhileRunning = table.size;
    // A watcher re-arming itself from inside its call (Candidacy's own-node watch does) is kept for the next event.
    table.add('data', '/a', watcher);
  };
  table.add('data', '/a', watcher);
  table.add('child', '/a', watcher);
  table.fire('deleted', '/a');
  expect({ calls, sizeWhileRunning, after: table.size }).toEqual({ calls: 1, sizeWhileRunning: 0, after: 1 });
});

test('unwatch drops a watcher from every table and path, and leaves the others; clear drops all', () => {
  const table = new WatchTable();
  const gone = recorder();
  const kept = recorder();
  table.add('data', '/a', gone.watcher);
  table.add('child', '/b', gone.watcher);
  table.add('exist', '/c', gone.watcher);
  table.add('data', '/a', kept.watcher);
  table.remove(gone.watcher);
  expect(table.size).toBe(1);
  for (const path of ['/a', '/b', '/c']) table.fire('deleted', path);
  expect({ gone: gone.events, kept: kept.events }).toEqual({ gone: [], kept: [{ type: 'deleted', path: '/a' }] });
  table.add('data', '/a', kept.watcher);
  table.clear();
  table.fire('deleted', '/a');
  expect({ size: table.size, kept: kept.events.length }).toEqual({ size: 0, kept: 1 });
});
