/**
 * Figure 14 (issue 13 §4, docs/operations.md "Sizing"): what each operation of the recipe costs the server,
 * from `mntr` snapshots around it. E elections, three candidate processes with one shared
 * session each, and one process of observers (one per election, on one shared session). Every
 * operation runs once in every election between two snapshots; the figures are per operation.
 *
 * The sessions' keep-alives (an `exists /` every third of the session timeout on a session whose
 * leaders hold terms, counted by the candidates' transports) are taken out of the reads; clients'
 * pings stay in (a few per second in all).
 */
import type { LocalServer } from '../lib/testing/index.js';
import { delta, mntr, perOperation, type Mntr, type ServerDelta } from './mntr.js';
import type { GroupCounters, GroupStatus } from './protocol.js';
import { EPHEMERAL, type RawClient } from './raw-client.js';
import { sleep, until, untilQuiet } from './timing.js';
import { WorkerProcess } from './workers.js';

export interface OperationCost {
  operation: string;
  /** How many ran between the snapshots. */
  count: number;
  /** Per operation; `reads` without the keep-alives. */
  server: ServerDelta;
  /** Requests the candidates sent per operation, by kind (observers not included). */
  client: Record<string, number>;
}

export interface IdleCost {
  seconds: number;
  leaders: number;
  sessions: number;
  /** Reads per second the server answered at rest: keep-alives and pings. */
  readsPerSecond: number;
  /** Of those, the keep-alives (counted by the candidates). */
  keepAlivesPerSecond: number;
}

export interface Capacity {
  readsPerSecond: number;
  writesPerSecond: number;
  inFlight: number;
}

const QUIET_MS = 300;
const QUIET_POLL_MS = 50;
const DONE_POLL_MS = 20;
const SETTLE_MS = 60_000;
const IDLE_MS = 3000;
const SESSION_TIMEOUT = 10_000;

interface Member {
  worker: WorkerProcess;
  group: string;
  /** Set once its groupJoin was sent: from then on it has counters. */
  joined: boolean;
}

class CostRun {
  readonly members: Member[] = [];
  observers: WorkerProcess | undefined;

  constructor(
    readonly connect: string,
    readonly server: LocalServer,
    readonly paths: string[],
  ) {}

  /** The counters of every candidate group that joined, by group. */
  async counters(): Promise<Map<string, GroupCounters>> {
    const joined = this.members.filter((m) => m.joined);
    const all = await Promise.all(joined.map(({ worker, group }) => worker.request<GroupCounters>('groupCounters', { group })));
    return new Map(all.map((counters, k) => [joined[k]!.group, counters]));
  }

  status(k: number): Promise<GroupStatus> {
    const { worker, group } = this.members[k]!;
    return worker.request<GroupStatus>('groupStatus', { group });
  }

  /** Until the candidates' requests (keep-alives aside) stop changing for QUIET_MS. */
  async quiet(): Promise<void> {
    const total = (all: Map<string, GroupCounters>): number => [...all.values()].reduce((sum, c) => sum + c.requests.reduce((a, b) => a + b, 0), 0);
    await untilQuiet(() => this.counters(), total, QUIET_MS, SETTLE_MS, QUIET_POLL_MS);
  }

  /** Runs `action` (`count` operations) between two snapshots, once the candidates are quiet again and `done` holds. */
  async measure(operation: string, count: number, action: () => Promise<unknown>, done: () => Promise<boolean>): Promise<OperationCost> {
    await this.quiet();
    const c0 = await this.counters();
    const m0: Mntr = await mntr(this.server);
    await action();
    await until(done, SETTLE_MS, `server cost: ${operation} done`, DONE_POLL_MS);
    await this.quiet();
    const m1 = await mntr(this.server);
    const c1 = await this.counters();
    const client: Record<string, number> = {};
    let keepAlives = 0;
    c1.forEach((after, group) => {
      const before: Pick<GroupCounters, 'byOperation' | 'keepAlives'> = c0.get(group) ?? { byOperation: {}, keepAlives: 0 };
      for (const [op, n] of Object.entries(after.byOperation)) client[op] = (client[op] ?? 0) + n - (before.byOperation[op] ?? 0);
      keepAlives += after.keepAlives - before.keepAlives;
    });
    delete client.exists;
    const server = perOperation(delta(m0, m1), count);
    server.reads -= keepAlives / count;
    for (const op of Object.keys(client)) client[op] = client[op]! / count;
    return { operation, count, server, client };
  }

  async join(): Promise<Member> {
    const worker = await WorkerProcess.spawn();
    const member = { worker, group: `c${this.members.length}`, joined: false };
    this.members.push(member);
    return member;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.members.map(({ worker }) => worker.close()), this.observers?.close()]);
  }
}

/** Joins, leader changes (without and with observers), a departure in the middle, and the cost at rest. */
export async function serverCosts(connect: string, server: LocalServer, admin: RawClient, e: number): Promise<{ operations: OperationCost[]; idle: IdleCost }> {
  const paths = Array.from({ length: e }, (_, i) => `/bench/cost-${e}/e${i}`);
  for (const path of paths) await admin.ensurePath(path);
  const run = new CostRun(connect, server, paths);
  const operations: OperationCost[] = [];
  try {
    const [a, b, c] = [await run.join(), await run.join(), await run.join()];
    const all = Array.from({ length: e }, (_, i) => i);
    const join = (m: Member): Promise<unknown> => {
      m.joined = true;
      return m.worker.request('groupJoin', { group: m.group, connect, paths, shared: true, sessionTimeout: SESSION_TIMEOUT }, SETTLE_MS);
    };
    const leading = (k: number) => async (): Promise<boolean> => (await run.status(k)).leading === e;
    const waiting = (k: number) => async (): Promise<boolean> => (await run.status(k)).waiting === e;
    operations.push(await run.measure('join, first candidate (leads)', e, () => join(a), leading(0)));
    operations.push(await run.measure('join behind a leader', e, () => join(b), waiting(1)));
    operations.push(await run.measure('join behind a waiting candidate', e, () => join(c), waiting(2)));
    const resign = (m: Member): Promise<unknown> => m.worker.request('groupResign', { group: m.group, indices: all });
    operations.push(await run.measure('leader change: resign and requeue', e, () => resign(a), async () => (await leading(1)()) && (await waiting(0)())));
    run.observers = await WorkerProcess.spawn();
    const observers = run.observers;
    operations.push(await run.measure('observer starts (one per election, shared session)', e, () => observers.request('observe', { group: 'obs', connect, paths, shared: true }, SETTLE_MS), async () => true));
    operations.push(await run.measure('leader change with one observer', e, () => resign(b), async () => (await leading(2)()) && (await waiting(1)())));
    // Now c leads, a waits behind it, b at the back: a leaves from the middle.
    operations.push(await run.measure('waiting candidate leaves from the middle', e, () => a.worker.request('groupLeave', { group: a.group, indices: all }), async () => true));
    const idle = await idleCost(run, e);
    await observers.request('observeStop', { group: 'obs' });
    return { operations, idle };
  } finally {
    await run.close();
  }
}

/** Reads per second at rest with every election led from one process. */
async function idleCost(run: CostRun, leaders: number): Promise<IdleCost> {
  await run.quiet();
  const c0 = await run.counters();
  const m0 = await mntr(run.server);
  const start = performance.now();
  await sleep(IDLE_MS);
  const m1 = await mntr(run.server);
  const seconds = (performance.now() - start) / 1000;
  const c1 = await run.counters();
  const sum = (all: Map<string, GroupCounters>): number => [...all.values()].reduce((total, c) => total + c.keepAlives, 0);
  const d = delta(m0, m1);
  // Candidate processes and the observers' shared session; the bench's admin session pings too.
  return { seconds, leaders, sessions: run.members.length + 2, readsPerSecond: d.reads / seconds, keepAlivesPerSecond: (sum(c1) - sum(c0)) / seconds };
}

/**
 * This machine's server, saturated from one bare session with `inFlight` requests outstanding:
 * reads (getChildren of a small node) and writes (creates, then deletes, of ephemeral nodes).
 */
export async function serverCapacity(admin: RawClient, reads: number, writes: number, inFlight = 500): Promise<Capacity> {
  const root = '/bench/capacity';
  await admin.ensurePath(root);
  const pipeline = async (count: number, op: (i: number) => Promise<unknown>): Promise<number> => {
    const start = performance.now();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < count) await op(next++);
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    return count / ((performance.now() - start) / 1000);
  };
  // A first pass of each, discarded: the server's JIT compiles the paths we time.
  const warmup = Math.min(reads, writes, 2000);
  await pipeline(warmup, () => admin.children(root));
  await pipeline(warmup, (i) => admin.create(`${root}/w${i}`, '', EPHEMERAL));
  await pipeline(warmup, (i) => admin.delete(`${root}/w${i}`));
  const readsPerSecond = await pipeline(reads, () => admin.children(root));
  const creates = await pipeline(writes, (i) => admin.create(`${root}/n${i}`, '', EPHEMERAL));
  const deletes = await pipeline(writes, (i) => admin.delete(`${root}/n${i}`));
  return { readsPerSecond, writesPerSecond: (2 * writes) / (writes / creates + writes / deletes), inFlight };
}
