/**
 * Figures 7 and 8: N candidates start together (one session each over a few processes, or one
 * shared session in one process), and what the waiting ones then cost at rest.
 */
import { Population, type Usage } from './population.js';
import { now, sleep } from './timing.js';
import { WorkerProcess } from './workers.js';

const LEADER_TIMERS = 2;

export interface StormSample {
  /** Start -> every candidate had listed the election and knew its place. */
  ms: number;
  /** Requests per candidate, from the library's counters. */
  requestsPerCandidate: number;
  byOperation: Record<string, number>;
  /** Packets the server received per candidate in the same span (includes connects and pings). */
  serverPacketsPerCandidate: number;
}

export const STORM_PROCESSES = 4;

export async function joinStorm(
  connect: string,
  path: string,
  size: number,
  shared: boolean,
  serverReceived: () => Promise<number>,
  idleWindowMs = 0,
): Promise<{ sample: StormSample; population: Population }> {
  const population = await Population.spawn({ connect, path, size, processes: shared ? 1 : STORM_PROCESSES, shared, requeue: true });
  try {
    if (idleWindowMs > 0) await population.measureIdle(idleWindowMs);
    const before = await serverReceived();
    const ms = await population.join();
    const counters = await population.counters();
    // The barrier after the join sent one request per session; it is not the library's.
    const barrierRequests = shared ? population.workers.length : size;
    const after = await serverReceived();
    const byOperation = Object.fromEntries(Object.entries(counters.byOperation).filter(([, count]) => count !== 0));
    return {
      sample: { ms, requestsPerCandidate: counters.total / size, byOperation, serverPacketsPerCandidate: (after - before - barrierRequests) / size },
      population,
    };
  } catch (error) {
    await population.close();
    throw error;
  }
}

/**
 * The same storm with the bare client on one session in one process: create, one children read,
 * one data watch on the predecessor. The floor for the shared-session storm.
 */
export async function rawJoinStorm(connect: string, path: string, size: number): Promise<number> {
  const worker = await WorkerProcess.spawn();
  try {
    const start = now();
    await worker.request('rawStorm', { path, connect, count: size }, 120_000);
    return now() - start;
  } finally {
    await worker.close();
  }
}

export interface FootprintSample {
  rssPerCandidate: number;
  heapPerCandidate: number;
  /** CPU microseconds per second per waiting candidate. */
  cpuMicrosPerSecond: number;
  timersPerCandidate: number;
}

/** Resource use of a settled population, net of the workers' idle baseline (memory, and CPU if measured), per candidate. */
export async function footprint(population: Population, windows: number, windowMs: number): Promise<FootprintSample[]> {
  const baseline = population.baseline!;
  await population.quiet();
  const samples: FootprintSample[] = [];
  for (let i = 0; i < windows; i += 1) {
    const start = await population.usage();
    const startedAt = performance.now();
    await sleep(windowMs);
    const end = await population.usage();
    const seconds = (performance.now() - startedAt) / 1000;
    const memory: Usage = await population.usage(true);
    const n = memory.candidates;
    samples.push({
      rssPerCandidate: (memory.rss - baseline.rss) / n,
      heapPerCandidate: (memory.heapUsed - baseline.heapUsed) / n,
      cpuMicrosPerSecond: ((end.cpuMicros - start.cpuMicros) / seconds - population.idleCpuRate) / n,
      // A leader keeps two timers by design (its lease, its session's keep-alive); the figure is for waiting candidates.
      timersPerCandidate: (memory.timers - baseline.timers - LEADER_TIMERS * memory.leaders) / n,
    });
  }
  return samples;
}
