/**
 * A bench worker: holds candidates in its own OS process and obeys the parent over IPC.
 * Usage: forked by bench/workers.ts; not meant to be run by hand.
 * It installs no signal handlers of its own, so that `handleSignals: true` in the library is what
 * decides how it leaves on SIGTERM.
 */
import { hostname } from 'node:os';
import { createHook } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Election, electLeader, listParticipants, Session, type Leadership } from '../lib/index.js';
import { countingTransport, newCounts, type RequestCounts } from '../spec/support/counting-transport.js';
import type { CountersResult, ParticipantsResult, PopulateArgs, Reply, Request, ResignResult, UsageResult } from './protocol.js';
import { EPHEMERAL_SEQUENTIAL, RawClient } from './raw-client.js';
import { closeGroups, groupHandlers } from './group-worker.js';

/**
 * Every live JavaScript timer in this worker, unref'd ones included (the library unrefs all of
 * its timers, and process.getActiveResourcesInfo() lists only ref'd ones).
 */
const liveTimers = new Set<number>();
createHook({
  init(id, type) {
    if (type === 'Timeout') liveTimers.add(id);
  },
  destroy(id) {
    liveTimers.delete(id);
  },
}).enable();

const elections: Election[] = [];
/**
 * Each election's session (one per election, or the shared one), counting its requests through a
 * counting transport: the library itself keeps no counters.
 */
const sessions: Session[] = [];
const counts: RequestCounts[] = [];
/** Requests the bench itself sent on each election's session (the barrier), subtracted from the counts. */
const ownRequests: number[] = [];
let shared: { session: Session; counts: RequestCounts } | undefined;
let sharedOwnRequests = 0;

async function countedSession(connect: string, sessionTimeout?: number): Promise<{ session: Session; counts: RequestCounts }> {
  const counted = newCounts();
  const session = await Session.connect({ connect, transport: countingTransport(counted), ...(sessionTimeout === undefined ? {} : { sessionTimeout }) });
  return { session, counts: counted };
}
const leaderships: Leadership[] = [];
const rawClients: RawClient[] = [];
let rawSessionCount = 0;
const errors: string[] = [];

async function populate(args: PopulateArgs): Promise<{ placed: number }> {
  if (args.shared) shared ??= await countedSession(args.connect);
  const placed: Array<Promise<void>> = [];
  const own = args.shared ? [] : await Promise.all(Array.from({ length: args.count }, () => countedSession(args.connect, args.sessionTimeout)));
  for (let i = 0; i < args.count; i += 1) {
    const mine = shared ?? own[i]!;
    sessions.push(mine.session);
    counts.push(mine.counts);
    const election = new Election(args.path, {
      connect: mine.session,
      id: `${args.idPrefix}-${elections.length}`,
      requeue: args.requeue,
    });
    election.on('error', (error) => errors.push(error.message));
    elections.push(election);
    ownRequests.push(0);
    // start() resolves once the candidate knows its place (waiting with its watch armed, or leading).
    placed.push(election.start());
  }
  await Promise.all(placed);
  return { placed: placed.length };
}

/**
 * One round trip on every session we hold. A session's requests are answered in order, so once
 * this returns, every watch its candidates asked for before it is registered on the server.
 */
async function barrier(args: { path: string }): Promise<void> {
  if (shared) {
    sharedOwnRequests += 1;
    await shared.session.retrying('barrier', (handle) => handle.exists(args.path));
    return;
  }
  await Promise.all(
    elections.map(async (_election, i) => {
      const session = sessions[i];
      if (!session || session.state === 'closed') return;
      ownRequests[i] = (ownRequests[i] ?? 0) + 1;
      await session.retrying('barrier', (handle) => handle.exists(args.path));
    }),
  );
}

function counters(): CountersResult {
  const byOperation: Record<string, number> = {};
  const add = (ops: Record<string, number>): void => {
    for (const [op, count] of Object.entries(ops)) byOperation[op] = (byOperation[op] ?? 0) + count;
  };
  if (shared) {
    const c = shared.counts;
    add(c.byOperation);
    byOperation.exists = (byOperation.exists ?? 0) - sharedOwnRequests;
    return { perCandidate: [], total: c.total - sharedOwnRequests, byOperation };
  }
  const perCandidate = elections.map((election, index) => {
    const c = counts[index] ?? newCounts();
    const mine = ownRequests[index] ?? 0;
    add(c.byOperation);
    byOperation.exists = (byOperation.exists ?? 0) - mine;
    return { index, node: election.node, total: c.total - mine, exists: (c.byOperation.exists ?? 0) - mine, leader: election.isLeader };
  });
  return { perCandidate, total: perCandidate.reduce((sum, c) => sum + c.total, 0), byOperation };
}

async function resign(): Promise<ResignResult> {
  const index = elections.findIndex((election) => election.isLeader);
  const election = elections[index];
  if (!election?.leadership) return { index: -1, node: undefined };
  const node = election.node;
  await election.leadership.resign();
  return { index, node };
}

async function leave(args: { index: number }): Promise<void> {
  await elections[args.index]?.close();
  if (!shared) await sessions[args.index]?.close();
}

function usage(args: { gc?: boolean }): UsageResult {
  // A collection first makes RSS comparable between snapshots; it costs CPU, so not in CPU windows.
  if (args.gc) (globalThis as { gc?: () => void }).gc?.();
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    cpuMicros: cpu.user + cpu.system,
    timers: liveTimers.size,
    candidates: elections.filter((e) => e.state === 'waiting' || e.state === 'leading').length + rawSessionCount,
    leaders: elections.filter((e) => e.isLeader).length,
  };
}

async function close(): Promise<void> {
  await closeGroups();
  await Promise.allSettled(elections.map((election) => election.close()));
  await Promise.allSettled(sessions.map((session) => session.close()));
  for (const client of rawClients) client.close();
}

/** A leader of its own election (a library candidate), for the SIGTERM and kill -9 figures. */
async function lead(args: { path: string; connect: string; sessionTimeout?: number; handleSignals: boolean }): Promise<{ node: string }> {
  const leadership = await electLeader(args.path, {
    connect: args.connect,
    handleSignals: args.handleSignals,
    timeout: 30_000,
    ...(args.sessionTimeout === undefined ? {} : { sessionTimeout: args.sessionTimeout }),
  });
  leaderships.push(leadership);
  return { node: leadership.node };
}

/** An ephemeral node on a bare session: the raw side of the kill -9 figure. */
async function rawLead(args: { path: string; connect: string; sessionTimeout: number }): Promise<{ node: string }> {
  const client = await RawClient.connect(args.connect, args.sessionTimeout);
  rawClients.push(client);
  const node = await client.create(`${args.path}/c_${randomBytes(16).toString('hex')}_`, '', EPHEMERAL_SEQUENTIAL);
  return { node };
}

/** Bare sessions, each holding one ephemeral node and nothing else: the footprint floor. */
async function rawSessions(args: { path: string; connect: string; count: number }): Promise<{ opened: number }> {
  for (let i = 0; i < args.count; i += 1) {
    const client = await RawClient.connect(args.connect, 10_000);
    rawClients.push(client);
    await client.create(`${args.path}/c_${randomBytes(16).toString('hex')}_`, '', EPHEMERAL_SEQUENTIAL);
    rawSessionCount += 1;
  }
  return { opened: args.count };
}

/**
 * The join storm with the bare client on one session: every "candidate" creates its node, reads
 * the children once and sets a data watch on its predecessor, all at once.
 */
async function rawStorm(args: { path: string; connect: string; count: number }): Promise<{ placed: number }> {
  const client = await RawClient.connect(args.connect, 10_000);
  rawClients.push(client);
  // A payload of the library's size (id, host, pid, startedAt), so that both storms write as much.
  const payload = JSON.stringify({ id: 'bare-storm-candidate', host: hostname(), pid: process.pid, startedAt: new Date().toISOString() });
  const join = async (): Promise<void> => {
    const node = await client.create(`${args.path}/c_${randomBytes(16).toString('hex')}_`, payload, EPHEMERAL_SEQUENTIAL);
    const own = node.slice(node.lastIndexOf('/') + 1);
    const sequence = (name: string): number => Number(name.slice(name.lastIndexOf('_') + 1));
    let predecessor: string | undefined;
    for (const child of await client.children(args.path)) {
      if (sequence(child) < sequence(own) && (predecessor === undefined || sequence(child) > sequence(predecessor))) predecessor = child;
    }
    // Placed once the watch is set, as for the library (a predecessor already gone counts as placed).
    if (predecessor !== undefined) await client.watchDeletion(`${args.path}/${predecessor}`).set.catch(() => {});
  };
  await Promise.all(Array.from({ length: args.count }, join));
  return { placed: args.count };
}

function peakRssKiB(): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) : Number.NaN;
}

async function participants(args: { path: string; connect: string }): Promise<ParticipantsResult> {
  const start = performance.now();
  const list = await listParticipants(args.path, { connect: args.connect });
  return { ms: performance.now() - start, count: list.length, peakRssKiB: peakRssKiB() };
}

const handlers: Record<Request['cmd'], (args: never) => unknown> = {
  populate,
  barrier,
  counters,
  resign,
  leave,
  usage,
  close,
  lead,
  rawLead,
  participants,
  rawSessions,
  rawStorm,
  ...groupHandlers,
};

async function handle(request: Request): Promise<Reply> {
  try {
    const handler = handlers[request.cmd] as (args: Record<string, unknown>) => unknown;
    return { id: request.id, ok: true, result: (await handler(request.args)) ?? null };
  } catch (error) {
    const detail = errors.length > 0 ? ` (election errors: ${errors.slice(0, 3).join('; ')})` : '';
    return { id: request.id, ok: false, error: `${(error as Error).message}${detail}` };
  }
}

process.on('message', (message: Request) => {
  void handle(message).then((reply) => process.send?.(reply));
});
// Started with --no-warnings: a process warning goes to the bench, which reports it once, instead of
// Node printing it to our shared stderr.
process.on('warning', (warning) => process.send?.({ warning: `${warning.name}: ${warning.message}` }));
// The bench went away: nothing to report to any more.
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
