/**
 * Enumerating await points: a scenario runs against an in-memory ZooKeeper that delivers one
 * event at a time (a request's reply, a watch event, a connection event). Every delivery is a
 * point where the library resumes from an await, so "a fault at every await point" is: run the
 * scenario once to count its deliveries K, then for k = 0..K run it again from scratch, deliver k
 * events, inject the fault, let everything settle, and check the invariants.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { ManualClock, MemoryZooKeeper } from 'zk-election/testing';
import type { Session } from 'zk-election';
import { pollUntil } from '../../lib/process/wait.js';

/** Small backoffs: the library's real timers (p-retry's delays) must not slow the enumeration down. */
export const FAST_RETRY = { minTimeout: 1, maxTimeout: 2 };

export interface World {
  memory: MemoryZooKeeper;
  clock: ManualClock;
  /** Sessions of the scenario's other participants: their nodes are allowed to remain. */
  others: Session[];
}

/** A promise whose outcome the checks can read without awaiting it. */
export interface Tracked {
  readonly name: string;
  /** The promise itself, to chain on. */
  readonly promise: Promise<unknown>;
  readonly settled: boolean;
  readonly outcome: { ok: true } | { ok: false; error: unknown } | undefined;
}

export function track(name: string, promise: Promise<unknown>): Tracked {
  const entry: { name: string; promise: Promise<unknown>; settled: boolean; outcome: Tracked['outcome'] } = { name, promise, settled: false, outcome: undefined };
  promise.then(
    () => Object.assign(entry, { settled: true, outcome: { ok: true } }),
    (error: unknown) => Object.assign(entry, { settled: true, outcome: { ok: false, error } }),
  );
  return entry;
}

export function newWorld(): World {
  return { memory: new MemoryZooKeeper({ autoStep: false }), clock: new ManualClock(), others: [] };
}

/** A connected session on the world's server, driven by stepping until it connects. */
export async function openSession(world: World, sessionTimeout = 4000): Promise<Session> {
  const session = world.memory.session({ sessionTimeout, clock: world.clock, retry: FAST_RETRY });
  const connecting = track('connect', session.connected());
  await runUntil(world, () => connecting.settled);
  return session;
}

/** Delivers events (and lets real timers run) until `done` holds; bounded. Returns the deliveries made. */
export async function runUntil(world: World, done: () => boolean, limit = 2000): Promise<number> {
  let steps = 0;
  for (let idle = 0; !done(); ) {
    if (steps > limit || idle > 500) throw new Error(`runUntil: not done after ${steps} deliveries (pending: ${world.memory.pendingLabels.join(', ')})`);
    await nextMacrotask();
    if (done()) break;
    if (world.memory.step()) {
      steps += 1;
      idle = 0;
    } else {
      idle += 1;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  return steps;
}

/**
 * Delivers `k` events, settling microtasks after each, and returns how many it delivered. When
 * nothing is deliverable a real timer (a FAST_RETRY backoff) may be about to queue more, so it
 * looks again every millisecond until something is, for at most `idleMs`: fewer than `k` only
 * when nothing became deliverable in that time.
 */
export async function deliver(world: World, k: number, idleMs = 1000): Promise<number> {
  let delivered = 0;
  while (delivered < k) {
    await nextMacrotask();
    if (!world.memory.step() && !(await pollUntil(() => world.memory.step(), { timeoutMs: idleMs, intervalMs: 1 }))) break;
    delivered += 1;
  }
  await nextMacrotask();
  return delivered;
}

/** Ephemeral nodes under `path` that belong to none of the world's other sessions (a persistent, foreign child is nobody's). */
export function leftovers(world: World, path: string): string[] {
  const allowed = new Set(['0', ...world.others.map((s) => s.sessionId)]);
  return world.memory.children(path).filter((child) => !allowed.has(world.memory.owner(`${path}/${child}`) ?? ''));
}
