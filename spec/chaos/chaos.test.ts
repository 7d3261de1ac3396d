/**
 * The chaos test: a real 3-server ensemble, participants in several OS processes (each behind its
 * own fault proxies) running runAsLeader and writing to a fenced resource while `isValid()`, and a
 * seeded schedule of faults: kill -9, SIGSTOP and partition of a worker, kill -9 and restart of a
 * ZooKeeper server (the ensemble's own leader among them), loss of quorum. The invariants are
 * checked at the end, each printed as a figure.
 *
 * CHAOS_SECONDS (default 60) sets how long faults are injected, CHAOS_SEED replays a schedule,
 * CHAOS_REPORT=<file> also writes the figures as JSON. The timeline of every run is written to a
 * file in the temporary directory, named in the output.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { killAllTracked } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';
import { injectFault, waitForRecovery, type ChaosContext } from './faults.js';
import { startFencedResource, type FencedResource } from './fenced-resource.js';
import type { FaultRecord } from './invariants.js';
import { computeFigures, type RunRecord } from './report.js';
import { chooseSeed, FaultPlan, Random } from './schedule.js';
import { Monitor, WorkerPool } from './workers.js';

const SECONDS = Number(process.env.CHAOS_SECONDS ?? 60);
const SEED = chooseSeed();
const SESSION_TIMEOUT = 2000;
/**
 * The failover bound is the session timeout plus this margin: ZooKeeper rounds a session's expiry
 * up to its next tick (200 ms), then the successor is notified, lists the election and writes
 * (tens of ms), all on a shared 2-core machine that also runs three JVMs.
 */
const FAILOVER_MARGIN_MS = 1500;
const WORKERS = 3;
const PARTICIPANTS_PER_WORKER = 3;
const RECOVERY_MS = 30_000;
const FIRST_RECOVERY_MS = 60_000;
/** Room for setup, the last fault's recovery and the teardown, past the fault budget. */
const TEST_TIMEOUT_MS = SECONDS * 1000 + 300_000;

const zk = useZooKeeper({ servers: 3, tickTime: 200, maxSessionTimeout: 20_000, beforeAllTimeoutMs: 120_000, logLines: 60 });

let resource: FencedResource | undefined;
let pool: WorkerPool | undefined;
let monitor: Monitor | undefined;
afterAll(async () => {
  await Promise.allSettled([monitor?.stop(), killAllTracked()]);
  await pool?.closeProxies();
  await resource?.close();
}, 60_000);

const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const print = (text: string): void => void process.stderr.write(`${text}\n`);

test(`chaos: ${SECONDS} s of faults; no stale write, no overlapping leaders, failover within the bound, no ghost, no crash`, async () => {
  if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new RangeError(`CHAOS_SECONDS must be a positive number, got ${process.env.CHAOS_SECONDS}`);
  print(`chaos: seed ${SEED} (replay with CHAOS_SEED=${SEED}), ${SECONDS} s of faults`);
  const electionPath = uniquePath('chaos');
  const random = new Random(SEED);
  const plan = new FaultPlan(random);
  const started = now();
  const timeline: Array<{ t: number; text: string }> = [];
  const note = (text: string): void => void timeline.push({ t: now(), text });

  resource = await startFencedResource();
  monitor = await Monitor.start({ connect: zk.connectString, path: electionPath });
  pool = new WorkerPool(zk.ensemble, {
    path: electionPath,
    workers: WORKERS,
    participantsPerWorker: PARTICIPANTS_PER_WORKER,
    sessionTimeout: SESSION_TIMEOUT,
    resourcePort: resource.port,
    writeGapMs: [20, 50],
    prepareMs: [0, 10],
  });
  const ctx: ChaosContext = { ensemble: zk.ensemble, path: electionPath, pool, monitor, resource, random, sessionTimeout: SESSION_TIMEOUT, note };
  const faults: FaultRecord[] = [];
  const crashedWorkers: string[] = [];
  let runError: string | undefined;
  let faultsFrom = now();

  try {
    await pool.startAll();
    const first = await waitForRecovery(ctx, 0, FIRST_RECOVERY_MS);
    if (first.recoveredAt === undefined) throw new Error(`the election never settled before the first fault: ${first.lastProblem}`);
    faultsFrom = now();
    let zkKills = 0;
    while (now() - faultsFrom < SECONDS * 1000) {
      const kind = plan.next();
      const fault = await injectFault(faults.length + 1, kind, ctx, zkKills);
      if (kind === 'kill-zk-server') zkKills += 1;
      const recovery = await waitForRecovery(ctx, fault.liftedAt, RECOVERY_MS);
      crashedWorkers.push(...recovery.crashed.map((w) => w.name));
      faults.push({ ...fault, recoveredAt: recovery.recoveredAt });
      note(recovery.recoveredAt === undefined ? `fault #${fault.n} not recovered` : `recovered from fault #${fault.n} in ${Math.round(recovery.recoveredAt - fault.liftedAt)} ms`);
      await sleep(random.between(1000, 2500));
    }
  } catch (error) {
    runError = error instanceof Error ? error.stack ?? error.message : String(error);
    note(`run failed: ${runError}`);
  }
  const faultsTo = now();

  // The end: every worker stops gracefully, and then no candidate node may remain.
  const stopped = await pool.stopAll();
  note('every worker exited');
  crashedWorkers.push(...pool.crashed().map((w) => w.name));
  const leftover = await leftoverNodes(monitor);

  const record: RunRecord = {
    seed: SEED,
    seconds: SECONDS,
    sessionTimeout: SESSION_TIMEOUT,
    failoverMarginMs: FAILOVER_MARGIN_MS,
    participants: WORKERS * PARTICIPANTS_PER_WORKER,
    workers: WORKERS,
    faultsFrom,
    faultsTo,
    faults,
    writes: resource.writes,
    lines: pool.lines(),
    exits: stopped.map(({ worker, exit }) => ({ worker: worker.name, code: exit.code, signal: exit.signal })),
    crashedWorkers,
    workerRss: pool.all.map((w) => ({ worker: w.name, ...w.rss, end: w.stoppedByTest ? 'stopped' : w.killedByTest ? 'killed' : 'exited' })),
    ...leftover,
    runError,
  };
  const figures = computeFigures(record);
  const timelineFile = writeTimeline(record, timeline, started);
  print(`${figures.text}\n  timeline: ${timelineFile}`);
  if (process.env.CHAOS_REPORT) fs.writeFileSync(process.env.CHAOS_REPORT, `${JSON.stringify({ ...figures.summary, violations: figures.violations }, null, 2)}\n`);

  const none = Object.fromEntries(Object.keys(figures.violations).map((key) => [key, []]));
  expect(figures.violations).toEqual(none);
}, TEST_TIMEOUT_MS);

/** Candidate nodes right after every worker exited, and after waiting out one session timeout more. */
async function leftoverNodes(monitor: Monitor): Promise<Pick<RunRecord, 'leftoverAtExit' | 'leftoverAfterWait' | 'leftoverWaitMs'>> {
  const count = async (): Promise<number | undefined> => {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      try {
        return (await monitor.list()).length;
      } catch {
        await sleep(500);
      }
    }
    return undefined;
  };
  const leftoverAtExit = await count();
  const leftoverWaitMs = SESSION_TIMEOUT + 2000;
  const deadline = now() + leftoverWaitMs;
  let leftoverAfterWait = leftoverAtExit;
  while (leftoverAfterWait !== 0 && now() < deadline) {
    await sleep(250);
    leftoverAfterWait = await count();
  }
  return { leftoverAtExit, leftoverAfterWait, leftoverWaitMs };
}

/** Faults and the workers' leadership and session events, in order, to a file in the temporary directory. */
function writeTimeline(record: RunRecord, notes: Array<{ t: number; text: string }>, started: number): string {
  const origin = performance.timeOrigin + started;
  const rows = [
    ...notes.map((n) => ({ t: n.t - started, text: `TEST   ${n.text}` })),
    ...record.lines
      .filter((l) => l.event !== 'write' || l.outcome !== 'accepted')
      .map((l) => ({ t: l.at - origin, text: `${l.worker.padEnd(6)} ${JSON.stringify(l)}` })),
  ].sort((a, b) => a.t - b.t);
  const file = path.join(os.tmpdir(), `zk-election-chaos-${record.seed}-${Date.now()}.log`);
  fs.writeFileSync(file, rows.map((r) => `${(r.t / 1000).toFixed(3).padStart(9)}  ${r.text}`).join('\n') + '\n');
  return file;
}
