/**
 * Figures 5 and 6: a leader process that leaves on SIGTERM (the library's `handleSignals`), and
 * one that is killed with SIGKILL, where only the session timeout can hand over.
 */
import { dropFront, joinFront, type FrontCandidate } from './front.js';
import { RawClient } from './raw-client.js';
import { now, within } from './timing.js';
import { WorkerProcess } from './workers.js';

export interface SigtermSample {
  /** SIGTERM sent -> successor's electLeader resolved. */
  handover: number;
  /** SIGTERM sent -> the leader's process exited. */
  exit: number;
}

export async function leaveOnSigterm(connect: string, trials: number): Promise<SigtermSample[]> {
  const samples: SigtermSample[] = [];
  for (let i = 0; i < trials; i += 1) {
    const path = `/bench/sigterm/trial-${i}`;
    const stop = new AbortController();
    const worker = await WorkerProcess.spawn();
    let successor: FrontCandidate | undefined;
    try {
      await worker.request('lead', { path, connect, handleSignals: true });
      successor = await joinFront(path, connect, stop.signal);
      const start = now();
      const exited = worker.exited.then(() => now() - start);
      worker.kill('SIGTERM');
      await within(successor.leadership, 30_000, 'successor after SIGTERM');
      const handover = now() - start;
      samples.push({ handover, exit: await within(exited, 10_000, 'leader process exit after SIGTERM') });
    } finally {
      stop.abort();
      if (successor) await dropFront(successor);
      await worker.close();
    }
  }
  return samples;
}

export interface CrashSamples {
  sessionTimeout: number;
  /** kill -9 -> the library successor's electLeader resolved. */
  library: number[];
  /** kill -9 -> a bare session's watch on the dead session's node fired and its children read returned. */
  raw: number[];
}

interface CrashPair {
  worker: WorkerProcess;
  successor: FrontCandidate;
  rawDeleted: Promise<void>;
  rawPath: string;
}

/**
 * Each round kills `pairs` worker processes at once; each held a library leader and a bare
 * ephemeral node, both on sessions with the given timeout: the two sides die at the same instant.
 */
export async function crashFailover(connect: string, sessionTimeout: number, rounds: number, pairs: number, watcher: RawClient): Promise<CrashSamples> {
  const samples: CrashSamples = { sessionTimeout, library: [], raw: [] };
  for (let round = 0; round < rounds; round += 1) {
    const stop = new AbortController();
    const workers = await WorkerProcess.spawnMany(pairs);
    const prepared: CrashPair[] = [];
    try {
      for (const [k, worker] of workers.entries()) prepared.push(await preparePair(connect, sessionTimeout, `${round}-${k}`, worker, watcher, stop.signal));
      const start = now();
      for (const { worker } of prepared) worker.kill('SIGKILL');
      const bound = 3 * sessionTimeout + 5000;
      await Promise.all(
        prepared.map(async ({ successor, rawDeleted, rawPath }) => {
          const library = within(successor.leadership, bound, 'successor after kill -9').then(() => now() - start);
          const raw = within(rawDeleted.then(() => watcher.children(rawPath)), bound, 'raw watch after kill -9').then(() => now() - start);
          samples.library.push(await library);
          samples.raw.push(await raw);
        }),
      );
    } finally {
      stop.abort();
      await Promise.allSettled(prepared.map(({ successor }) => dropFront(successor)));
      await Promise.allSettled(workers.map((worker) => worker.close()));
    }
  }
  return samples;
}

async function preparePair(connect: string, sessionTimeout: number, name: string, worker: WorkerProcess, watcher: RawClient, stop: AbortSignal): Promise<CrashPair> {
  const libPath = `/bench/crash-${sessionTimeout}/lib-${name}`;
  const rawPath = `/bench/crash-${sessionTimeout}/raw-${name}`;
  await watcher.ensurePath(rawPath);
  await worker.request('lead', { path: libPath, connect, sessionTimeout, handleSignals: false });
  const { node } = await worker.request<{ node: string }>('rawLead', { path: rawPath, connect, sessionTimeout });
  const successor = await joinFront(libPath, connect, stop);
  const watch = watcher.watchDeletion(node);
  await watch.set;
  return { worker, successor, rawDeleted: watch.deleted, rawPath };
}
