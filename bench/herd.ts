/**
 * Figures 3 and 4: who does ZooKeeper work when a waiting candidate in the middle leaves, and
 * when the leader changes; and the watches the server holds for an election (`wchc`).
 */
import { othersWorking, type Population } from './population.js';

export interface HerdSample {
  /** Candidates other than the one that left or resigned which sent any request. */
  others: number;
  /** Requests those candidates sent in all. */
  requests: number;
}

/** A waiting candidate in the middle of the queue leaves (closes its election). */
export async function middleDepartures(population: Population, trials: number): Promise<HerdSample[]> {
  const samples: HerdSample[] = [];
  for (let i = 0; i < trials; i += 1) {
    samples.push(
      await othersWorking(population, async () => {
        const order = await population.order();
        const middle = order[Math.floor(order.length / 2)];
        if (middle === undefined || order.length < 3) throw new Error('too few candidates for a middle departure');
        await population.leave(middle);
        return middle;
      }),
    );
  }
  return samples;
}

/** The leader resigns (and rejoins at the back): how many others wake up. */
export async function leaderChanges(population: Population, trials: number): Promise<HerdSample[]> {
  const samples: HerdSample[] = [];
  for (let i = 0; i < trials; i += 1) samples.push(await othersWorking(population, () => population.resignLeader()));
  return samples;
}

export interface WatchCount {
  /** Watches on the election's candidate nodes (one per waiting candidate expected). */
  onCandidates: number;
  /** Watches on the election node itself (none expected: nobody watches the children list). */
  onParent: number;
  /** Sessions holding any watch under the election. */
  sessions: number;
}

/**
 * Parses `wchc` (watches by session): a session id line (`0x...`), then one indented line per
 * watched path, data and child watches alike.
 */
export function countWatches(wchc: string, parent: string): WatchCount {
  const count: WatchCount = { onCandidates: 0, onParent: 0, sessions: 0 };
  let sessionCounted = true;
  for (const line of wchc.split('\n')) {
    if (/^0x[0-9a-f]+/i.test(line)) {
      sessionCounted = false;
      continue;
    }
    const path = line.trim();
    const mine = path === parent || path.startsWith(`${parent}/`);
    if (!mine) continue;
    if (path === parent) count.onParent += 1;
    else count.onCandidates += 1;
    if (!sessionCounted) {
      count.sessions += 1;
      sessionCounted = true;
    }
  }
  return count;
}
