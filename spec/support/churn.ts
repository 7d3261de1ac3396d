/**
 * The four churns of issue 20, as a long-lived service runs them, and what a process keeps of
 * them: heap after forced GCs, RSS, descriptors, active handles, and the server's watches and
 * ephemeral nodes (`mntr`). Used by the soak test's child (churn-child.ts), by `npm run bench`
 * (bench/churn.ts) and by the before/after table (bench/leak-table.ts).
 */
import { readdirSync } from 'node:fs';
import { Election, electLeader, observeLeader, type Session } from 'zk-election';
import { fourLetter } from 'zk-election/testing';

export const CHURNS = ['elections', 'requeue', 'elect-leader', 'observers', 'waiting'] as const;
export type ChurnName = (typeof CHURNS)[number];

/** What each churn is, in the words of the table. */
export const CHURN_TITLES: Readonly<Record<ChurnName, string>> = {
  elections: '`new Election(path, { connect: session })`, start, `waitForLeadership`, `close` on one shared Session',
  requeue: 'one `Election` with `requeue: true`, its term resigned each time',
  'elect-leader': '`electLeader(path, { connect })` (own session each), then `resign()`',
  observers: '`observeLeader(path, { connect: session, signal })`, first value, abort',
  waiting: '`new Election(path, { connect: session })` behind a long-lived leader, start (waiting), `close`',
};

export interface ChurnContext {
  /** The connect string, for the churn that opens a session per cycle. */
  connect: string;
  /** The session shared by the other churns. */
  session: Session;
  path: string;
}

/** One churn: set up once, run one cycle at a time, tear down. */
export interface Churn {
  cycle(): Promise<void>;
  close(): Promise<void>;
}

export async function openChurn(name: ChurnName, ctx: ChurnContext): Promise<Churn> {
  const { connect, session, path } = ctx;
  switch (name) {
    case 'elections':
      return {
        async cycle() {
          const election = new Election(path, { connect: session });
          await election.start();
          await election.waitForLeadership();
          await election.close();
        },
        async close() {},
      };
    case 'requeue': {
      const election = new Election(path, { connect: session, requeue: true });
      await election.start();
      let leadership = await election.waitForLeadership();
      return {
        // Resigned, requeued and leading again: between two cycles the election is at rest.
        async cycle() {
          await leadership.resign();
          leadership = await election.waitForLeadership();
        },
        close: () => election.close(),
      };
    }
    case 'elect-leader':
      return {
        async cycle() {
          const leadership = await electLeader(path, { connect });
          await leadership.resign();
        },
        async close() {},
      };
    case 'observers': {
      // Somebody leads, so that every observer reads a leader and leaves a watch on its node.
      const leader = new Election(path, { connect: session, id: 'churn-leader' });
      await leader.start();
      await leader.waitForLeadership();
      return {
        async cycle() {
          const stop = new AbortController();
          const values = observeLeader(path, { connect: session, signal: stop.signal });
          const first = await values.next();
          if (first.done || first.value?.id !== 'churn-leader') throw new Error(`observer saw ${JSON.stringify(first)}`);
          stop.abort();
        },
        close: () => leader.close(),
      };
    }
    case 'waiting': {
      // Not in the table: a candidate that leaves while waiting, its watch on a leader
      // that stays (the shape of a shard manager's elections behind a stable leader).
      const leader = new Election(path, { connect: session, id: 'churn-leader' });
      await leader.start();
      await leader.waitForLeadership();
      return {
        async cycle() {
          const election = new Election(path, { connect: session });
          await election.start();
          if (election.state !== 'waiting') throw new Error(`a second candidate is ${election.state}`);
          await election.close();
        },
        close: () => leader.close(),
      };
    }
  }
}

/** What a process holds at one moment. */
export interface Sample {
  /** Heap used after three forced GCs, bytes. */
  heap: number;
  rss: number;
  /** Open descriptors (/proc/self/fd). */
  fds: number;
  /** process.getActiveResourcesInfo(), counted by type. */
  handles: Record<string, number>;
  /** The server's `zk_watch_count` and `zk_ephemerals_count`. */
  watches: number;
  ephemerals: number;
}

declare const gc: (() => void) | undefined;

/** Three full GCs, a turn of the event loop after each (weak callbacks of native objects run there). */
export async function collect(): Promise<void> {
  if (typeof gc !== 'function') throw new Error('run node with --expose-gc');
  for (let i = 0; i < 3; i += 1) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export function countHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

export function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

export async function serverCounts(port: number): Promise<{ watches: number; ephemerals: number }> {
  const text = await fourLetter(port, 'mntr');
  const value = (key: string): number => Number(new RegExp(`^zk_${key}\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { watches: value('watch_count'), ephemerals: value('ephemerals_count') };
}

export async function sample(port: number): Promise<Sample> {
  await collect();
  const { heapUsed, rss } = process.memoryUsage();
  return { heap: heapUsed, rss, fds: openDescriptors(), handles: countHandles(), ...(await serverCounts(port)) };
}

const total = (handles: Record<string, number>): number => Object.values(handles).reduce((a, b) => a + b, 0);

/**
 * Waits (bounded) until descriptors, handles and the server's counts are no higher than `target`
 * (the sessions an electLeader closed after its resign, an observer's last read): resolves with
 * the last sample either way, so that the caller reports what stayed.
 */
export async function settledSample(port: number, target: Sample | undefined, waitMs: number): Promise<Sample> {
  const deadline = performance.now() + waitMs;
  let previous: Sample | undefined;
  for (;;) {
    const now = await sample(port);
    const settled = target
      ? now.fds <= target.fds && total(now.handles) <= total(target.handles) && now.watches <= target.watches && now.ephemerals <= target.ephemerals
      : previous !== undefined && now.fds === previous.fds && total(now.handles) === total(previous.handles) && now.watches === previous.watches && now.ephemerals === previous.ephemerals;
    if (settled || performance.now() > deadline) return now;
    previous = now;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
