/**
 * A population: many library candidates of one election spread over worker processes, with one
 * session each or one shared session per worker. The bench uses it for the join storm, the herd
 * figures and the footprint.
 */
import type { CountersResult, ResignResult, UsageResult } from './protocol.js';
import { now, sleep } from './timing.js';
import { WorkerProcess } from './workers.js';

export interface PopulationOptions {
  connect: string;
  path: string;
  size: number;
  processes: number;
  shared: boolean;
  requeue?: boolean;
  /** Bare sessions holding one ephemeral node each, no library: the floor for the footprint. */
  bare?: boolean;
}

export interface CandidateCount {
  total: number;
  exists: number;
  leader: boolean;
}

/** A candidate, named by where it lives: stable across requeues, unlike its node. */
export type CandidateKey = `${number}:${number}`;

/** The population's usage: every worker's figures summed. */
export type Usage = UsageResult;

const JOIN_MS = 120_000;
const IDLE_SETTLE_MS = 1500;

export class Population {
  /** Resource use of the workers once started, before any candidate joined. */
  baseline: Usage | undefined;
  /** CPU microseconds per second the idle workers used before any candidate joined (see measureIdle). */
  idleCpuRate = 0;

  private constructor(
    readonly options: PopulationOptions,
    readonly workers: WorkerProcess[],
  ) {}

  /** Starts the workers (untimed), measures their idle footprint, then returns; join() is the timed part. */
  static async spawn(options: PopulationOptions): Promise<Population> {
    const population = new Population(options, await WorkerProcess.spawnMany(options.processes));
    population.baseline = await population.usage(true);
    return population;
  }

  /** Measures the workers' own CPU use and memory at rest, before join(), so that footprint() can subtract them. */
  async measureIdle(windowMs: number): Promise<void> {
    // Let the start-up (module loading, the first collections, JIT) die down first.
    await sleep(IDLE_SETTLE_MS);
    const start = await this.usage();
    const startedAt = now();
    await sleep(windowMs);
    this.idleCpuRate = ((await this.usage()).cpuMicros - start.cpuMicros) / ((now() - startedAt) / 1000);
    // A settled process is also the better memory baseline than one just started.
    this.baseline = await this.usage(true);
  }

  /**
   * All candidates start at once: resolves with the time until the last one knew its place
   * (its first listing of the election), then makes sure every watch is registered.
   */
  async join(): Promise<number> {
    const { connect, path, size, shared, requeue = true, bare = false } = this.options;
    const share = (i: number): number => Math.floor(size / this.workers.length) + (i < size % this.workers.length ? 1 : 0);
    const start = now();
    await Promise.all(
      this.workers.map((worker, i) =>
        bare
          ? worker.request('rawSessions', { path, connect, count: share(i) }, JOIN_MS)
          : worker.request('populate', { path, connect, count: share(i), shared, requeue, idPrefix: `w${i}` }, JOIN_MS),
      ),
    );
    const elapsed = now() - start;
    if (!bare) await this.barrier();
    return elapsed;
  }

  barrier(): Promise<unknown> {
    return Promise.all(this.workers.map((worker) => worker.request('barrier', { path: this.options.path })));
  }

  async counters(): Promise<{ perCandidate: Map<CandidateKey, CandidateCount>; total: number; byOperation: Record<string, number> }> {
    const results = await Promise.all(this.workers.map((worker) => worker.request<CountersResult>('counters')));
    const perCandidate = new Map<CandidateKey, CandidateCount>();
    const byOperation: Record<string, number> = {};
    let total = 0;
    results.forEach((result, w) => {
      for (const c of result.perCandidate) perCandidate.set(`${w}:${c.index}`, { total: c.total, exists: c.exists, leader: c.leader });
      for (const [op, count] of Object.entries(result.byOperation)) byOperation[op] = (byOperation[op] ?? 0) + count;
      total += result.total;
    });
    return { perCandidate, total, byOperation };
  }

  /** Candidates in election order (lowest sequence first). */
  async order(): Promise<CandidateKey[]> {
    const results = await Promise.all(this.workers.map((worker) => worker.request<CountersResult>('counters')));
    const nodes: Array<{ key: CandidateKey; sequence: number }> = [];
    results.forEach((result, w) => {
      for (const c of result.perCandidate) {
        if (c.node) nodes.push({ key: `${w}:${c.index}`, sequence: Number(c.node.slice(c.node.lastIndexOf('_') + 1)) });
      }
    });
    return nodes.sort((a, b) => a.sequence - b.sequence).map((n) => n.key);
  }

  /** The leader resigns (and, with requeue, rejoins at the back). */
  async resignLeader(): Promise<CandidateKey> {
    const results = await Promise.all(this.workers.map((worker) => worker.request<ResignResult>('resign')));
    const w = results.findIndex((r) => r.index >= 0);
    if (w < 0) throw new Error(`no leader among the ${this.options.size} candidates of ${this.options.path}`);
    return `${w}:${results[w]!.index}`;
  }

  async leave(key: CandidateKey): Promise<void> {
    const [w, index] = key.split(':').map(Number) as [number, number];
    await this.workers[w]!.request('leave', { index });
  }

  /** Summed over the workers; `gc` collects garbage first (for RSS, not inside a CPU window). */
  async usage(gc = false): Promise<Usage> {
    const results = await Promise.all(this.workers.map((worker) => worker.request<UsageResult>('usage', { gc })));
    const sum = (pick: (u: UsageResult) => number): number => results.reduce((total, u) => total + pick(u), 0);
    return { rss: sum((u) => u.rss), heapUsed: sum((u) => u.heapUsed), cpuMicros: sum((u) => u.cpuMicros), timers: sum((u) => u.timers), candidates: sum((u) => u.candidates), leaders: sum((u) => u.leaders) };
  }

  /** Polls the request counters until nothing changed for `quietMs` (bounded by `maxMs`). */
  async quiet(quietMs = 250, maxMs = 5000): Promise<void> {
    const deadline = now() + maxMs;
    let last = (await this.counters()).total;
    let stableSince = now();
    while (now() - stableSince < quietMs && now() < deadline) {
      await sleep(50);
      const total = (await this.counters()).total;
      if (total !== last) {
        last = total;
        stableSince = now();
      }
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((worker) => worker.close()));
  }
}

/**
 * How many candidates other than `actor` sent any request to ZooKeeper while `action` ran and
 * the population settled, and how many requests they sent in all. The keep-alive of a leader's
 * session (an `exists /` every third of the session timeout while it holds a term) is not a
 * consequence of the action and is left out; any other request by the leader counts.
 */
export async function othersWorking(population: Population, action: () => Promise<CandidateKey>): Promise<{ others: number; requests: number }> {
  await population.quiet();
  const before = (await population.counters()).perCandidate;
  const actor = await action();
  await population.quiet();
  const after = (await population.counters()).perCandidate;
  let others = 0;
  let requests = 0;
  for (const [key, count] of after) {
    const previous = before.get(key);
    if (key === actor || !previous) continue;
    const keepAlives = previous.leader ? count.exists - previous.exists : 0;
    const delta = count.total - previous.total - keepAlives;
    if (delta > 0) {
      others += 1;
      requests += delta;
    }
  }
  return { others, requests };
}
