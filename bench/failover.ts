/**
 * Figures 1 and 2: ZooKeeper's own minimum hand-over (bare client) and the library's graceful
 * failover at N candidates, measured in one run, trial by trial, alternating which goes first.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { dropFront, joinFront, type FrontCandidate } from './front.js';
import { Population } from './population.js';
import { EPHEMERAL_SEQUENTIAL, RawClient } from './raw-client.js';
import { now, within } from './timing.js';

const HANDOVER_MS = 10_000;
const CANDIDATES_PER_WORKER = 250;

/** Two bare sessions: one owns a node, the other watches it with a data watch. */
export class RawPair {
  private constructor(
    private readonly owner: RawClient,
    private readonly watcher: RawClient,
    private readonly parent: string,
  ) {}

  static async open(connect: string, parent: string): Promise<RawPair> {
    const owner = await RawClient.connect(connect, 10_000);
    const watcher = await RawClient.connect(connect, 10_000);
    await owner.ensurePath(parent);
    return new RawPair(owner, watcher, parent);
  }

  /**
   * Delete the node; time until the other session's watch fired (`notified`: one delete plus one
   * notification, the floor of a hand-over that needs no listing) and until its children read
   * returned (`listed`). In `parent`, an election's own node, the read returns as many names as a
   * candidate's listing does. The node goes at the back of the queue, where no candidate watches it.
   */
  async trial(parent = this.parent): Promise<{ notified: number; listed: number }> {
    const node = await this.owner.create(`${parent}/c_${randomBytes(16).toString('hex')}_`, '', EPHEMERAL_SEQUENTIAL);
    const watch = this.watcher.watchDeletion(node);
    await watch.set;
    const start = now();
    let notified = 0;
    const deleted = this.owner.delete(node);
    await within(
      watch.deleted.then(() => {
        notified = now() - start;
        return this.watcher.children(parent);
      }),
      HANDOVER_MS,
      'raw hand-over',
    );
    const listed = now() - start;
    await deleted;
    return { notified, listed };
  }

  close(): void {
    this.owner.close();
    this.watcher.close();
  }
}

export interface FailoverSamples {
  n: number;
  library: number[];
  /** Raw minimum samples taken between the library's, in the same election node (N children): delete, notification, children read. */
  raw: number[];
  /** The same trials up to the notification: one delete plus one notification. */
  notified: number[];
}

/**
 * The election holds N candidates at every trial: the leader and the next `trials` candidates
 * live in this process (so each hand-over is timed on one clock), any others in workers behind
 * them; after each hand-over a new candidate joins at the back to keep N.
 */
export async function gracefulFailover(
  connect: string,
  n: number,
  trials: number,
  raw: RawPair,
  progress: (line: string) => void,
  path = `/bench/failover-${n}`,
): Promise<FailoverSamples> {
  const stop = new AbortController();
  // Every waiting electLeader listens on this one signal: more than Node's default of 10.
  setMaxListeners(0, stop.signal);
  const front: FrontCandidate[] = [];
  let background: Population | undefined;
  const samples: FailoverSamples = { n, library: [], raw: [], notified: [] };
  const rawTrial = async (): Promise<void> => {
    const { notified, listed } = await raw.trial(path);
    samples.raw.push(listed);
    samples.notified.push(notified);
  };
  try {
    const frontSize = Math.min(n, trials + 1);
    for (let i = 0; i < frontSize; i += 1) front.push(await joinFront(path, connect, stop.signal));
    if (n > frontSize) {
      const size = n - frontSize;
      background = await Population.spawn({ connect, path, size, processes: Math.min(4, Math.ceil(size / CANDIDATES_PER_WORKER)), shared: false, requeue: false });
      await background.join();
    }
    progress(`graceful failover N=${n}: ${front.length} timed candidates here, ${n - frontSize} in workers`);
    for (let i = 0; i < trials; i += 1) {
      if (i % 2 === 0) await rawTrial();
      samples.library.push(await handOver(front[i]!, front[i + 1]!));
      if (i % 2 === 1) await rawTrial();
      front.push(await joinFront(path, connect, stop.signal));
    }
  } finally {
    stop.abort();
    await Promise.allSettled(front.map((candidate) => within(dropFront(candidate), 5000, 'drop candidate')));
    await background?.close();
  }
  return samples;
}

/** The leader resigns; time until its successor's electLeader resolves. */
async function handOver(leader: FrontCandidate, successor: FrontCandidate): Promise<number> {
  const leadership = await within(leader.leadership, HANDOVER_MS, 'leader');
  const start = now();
  const resigned = leadership.resign();
  await within(successor.leadership, HANDOVER_MS, 'successor taking over');
  const elapsed = now() - start;
  await resigned;
  await leader.session.close();
  return elapsed;
}
