/**
 * The faults of the chaos test, one function per kind, and the bounded wait for recovery after each.
 * Every fault is recorded with the leader the fenced resource saw just before it.
 */
import { performance } from 'node:perf_hooks';
import { isZkElectionError, requestStepDown, TimeoutError } from 'zk-election';
import type { LocalEnsemble, LocalServer } from 'zk-election/testing';
import { waitFor } from '../support/processes.js';
import type { FencedResource } from './fenced-resource.js';
import type { FaultRecord } from './invariants.js';
import type { FaultKind, Random } from './schedule.js';
import type { Monitor, WorkerHandle, WorkerPool } from './workers.js';

const QUORUM_WAIT_MS = 60_000;
/** How often a participant fault picks the leader's own worker rather than another. */
const LEADER_BIAS = 0.75;

export interface ChaosContext {
  ensemble: LocalEnsemble;
  /** The election path. */
  path: string;
  pool: WorkerPool;
  monitor: Monitor;
  resource: FencedResource;
  random: Random;
  sessionTimeout: number;
  /** A line for the timeline. */
  note(text: string): void;
}

type Injected = Omit<FaultRecord, 'n' | 'kind' | 'recoveredAt' | 'leaderToken' | 'leaderId'>;

const now = (): number => performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Injects one fault of `kind` and lifts it; recovery is awaited separately. */
export async function injectFault(n: number, kind: FaultKind, ctx: ChaosContext, zkKills: number): Promise<FaultRecord> {
  const leader = ctx.resource.lastAccepted;
  const base = { n, kind, leaderToken: leader?.token, leaderId: leader?.id, recoveredAt: undefined };
  const leaderWorker = ctx.pool.workerOf(leader?.id);
  switch (kind) {
    case 'kill-worker':
      return { ...base, ...(await killWorker(ctx, pickWorker(ctx, leaderWorker), leaderWorker)) };
    case 'pause-worker':
      return { ...base, ...(await pauseWorker(ctx, pickWorker(ctx, leaderWorker), leaderWorker)) };
    case 'partition-worker':
      return { ...base, ...(await partitionWorker(ctx, pickWorker(ctx, leaderWorker), leaderWorker)) };
    case 'kill-zk-server':
      return { ...base, ...(await killServer(ctx, zkKills === 0)) };
    case 'quorum-loss':
      return { ...base, ...(await loseQuorum(ctx)) };
    case 'handoff':
      return { ...base, ...(await handOff(ctx)) };
    case 'priority-change':
      return { ...base, ...(await changePriorities(ctx, pickWorker(ctx, leaderWorker), leaderWorker)) };
  }
}

function pickWorker(ctx: ChaosContext, leaderWorker: WorkerHandle | undefined): WorkerHandle {
  const live = ctx.pool.current.filter((w) => w.proc.exitInfo === undefined);
  if (leaderWorker && live.includes(leaderWorker) && ctx.random.chance(LEADER_BIAS)) return leaderWorker;
  const others = live.filter((w) => w !== leaderWorker);
  return ctx.random.pick(others.length > 0 ? others : live);
}

/** Longer than the session timeout, so that the server must expire the worker's sessions. */
function holdPastSession(ctx: ChaosContext): number {
  return ctx.sessionTimeout + ctx.random.between(500, 2000);
}

async function killWorker(ctx: ChaosContext, target: WorkerHandle, leaderWorker: WorkerHandle | undefined): Promise<Injected> {
  const injectedAt = now();
  ctx.note(`kill -9 ${target.name} (pid ${target.proc.pid})${target === leaderWorker ? ', the leader\'s worker' : ''}`);
  await ctx.pool.kill9(target);
  const liftedAt = now();
  const replacement = await ctx.pool.replace(target.slot);
  ctx.note(`started ${replacement.name} (pid ${replacement.proc.pid}) in its place`);
  return { detail: `kill -9 ${target.name}`, hitLeader: target === leaderWorker, injectedAt, referenceAt: injectedAt, liftedAt };
}

async function pauseWorker(ctx: ChaosContext, target: WorkerHandle, leaderWorker: WorkerHandle | undefined): Promise<Injected> {
  const hold = holdPastSession(ctx);
  const injectedAt = now();
  ctx.note(`SIGSTOP ${target.name} for ${hold} ms${target === leaderWorker ? ', the leader\'s worker' : ''}`);
  target.proc.pause();
  await sleep(hold - (now() - injectedAt));
  target.proc.resume();
  const liftedAt = now();
  ctx.note(`SIGCONT ${target.name}`);
  return { detail: `SIGSTOP ${target.name} ${hold} ms`, hitLeader: target === leaderWorker, injectedAt, referenceAt: injectedAt, liftedAt };
}

async function partitionWorker(ctx: ChaosContext, target: WorkerHandle, leaderWorker: WorkerHandle | undefined): Promise<Injected> {
  const hold = holdPastSession(ctx);
  const injectedAt = now();
  ctx.note(`partition ${target.name} from ZooKeeper for ${hold} ms${target === leaderWorker ? ', the leader\'s worker' : ''}`);
  target.proxies.blackholeAll();
  await sleep(hold - (now() - injectedAt));
  target.proxies.restoreAll();
  const liftedAt = now();
  ctx.note(`healed ${target.name}`);
  return { detail: `partition ${target.name} ${hold} ms`, hitLeader: target === leaderWorker, injectedAt, referenceAt: injectedAt, liftedAt };
}

/** kill -9 of one server (the ensemble's leader on the first kill, then either), and a restart. */
async function killServer(ctx: ChaosContext, leaderFirst: boolean): Promise<Injected> {
  const zkLeader = await ctx.ensemble.leader();
  const running = ctx.ensemble.servers.filter((s) => s.running);
  const target = zkLeader && (leaderFirst || ctx.random.chance(0.5)) ? zkLeader : ctx.random.pick(running.filter((s) => s !== zkLeader));
  const down = ctx.random.between(500, 3000);
  const role = target === zkLeader ? 'leader' : 'follower';
  const injectedAt = now();
  ctx.note(`kill -9 ZooKeeper server ${target.id} (${role}), down for ${down} ms`);
  await target.kill();
  await ctx.ensemble.waitForQuorum(QUORUM_WAIT_MS);
  const referenceAt = now();
  ctx.note(`ensemble serving without server ${target.id} after ${Math.round(referenceAt - injectedAt)} ms`);
  await sleep(down - (now() - injectedAt));
  await restart(ctx, [target]);
  return { detail: `kill -9 zk${target.id} (${role}) ${down} ms`, hitLeader: target === zkLeader, injectedAt, referenceAt, liftedAt: now() };
}

/** Two servers stopped for a few seconds: no quorum. The bound counts from quorum regained. */
async function loseQuorum(ctx: ChaosContext): Promise<Injected> {
  const targets = ctx.random.shuffle(ctx.ensemble.servers).slice(0, 2);
  const hold = ctx.random.between(2000, 5000);
  const injectedAt = now();
  ctx.note(`stop ZooKeeper servers ${targets.map((s) => s.id).join(' and ')}: no quorum for ${hold} ms`);
  await Promise.all(targets.map((s) => s.stop()));
  await sleep(hold - (now() - injectedAt));
  await restart(ctx, targets);
  const back = now();
  ctx.note(`quorum regained after ${Math.round(back - injectedAt)} ms`);
  return { detail: `quorum loss ${hold} ms (zk${targets.map((s) => s.id).join('+zk')})`, hitLeader: true, injectedAt, referenceAt: back, liftedAt: back };
}

/** An operator's `step-down --to`: to a random waiting participant (or the leader, a no-op). */
async function handOff(ctx: ChaosContext): Promise<Injected> {
  const ids = await ctx.monitor.list();
  const target = ctx.random.pick(ids.length > 0 ? ids : ['nobody']);
  const injectedAt = now();
  ctx.note(`hand leadership to ${target}`);
  const outcome = await requestStepDown(ctx.path, { connect: ctx.ensemble.connectString, to: target, timeout: 20_000 }).then(
    ({ previous, next }) => `${previous.id} -> ${next.id}`,
    (error: unknown) => {
      // A normal succession instead (the target or the leader left meanwhile), or nobody to hand to.
      if (isZkElectionError(error, 'HANDOFF_TARGET_GONE', 'HANDOFF_INTERRUPTED', 'NO_PARTICIPANT', 'NO_LEADER')) return error.code;
      throw error;
    },
  );
  const liftedAt = now();
  ctx.note(`handoff to ${target}: ${outcome} after ${Math.round(liftedAt - injectedAt)} ms`);
  return { detail: `handoff to ${target}: ${outcome}`, hitLeader: ids[0] !== target, injectedAt, referenceAt: injectedAt, liftedAt };
}

/** A worker restarted (gracefully) with new priorities for its participants: leadership may move to a preferred one once it has settled. */
async function changePriorities(ctx: ChaosContext, target: WorkerHandle, leaderWorker: WorkerHandle | undefined): Promise<Injected> {
  const priorities = target.ids.map(() => ctx.random.pick([0, 0, 1, 2]));
  const injectedAt = now();
  ctx.note(`restart ${target.name} with priorities ${priorities.join(',')}${target === leaderWorker ? ', the leader\'s worker' : ''}`);
  const replacement = await ctx.pool.restart(target, priorities);
  const liftedAt = now();
  ctx.note(`started ${replacement.name} (pid ${replacement.proc.pid}) in its place`);
  return { detail: `priorities ${target.name} -> ${replacement.name} ${priorities.join(',')}`, hitLeader: target === leaderWorker, injectedAt, referenceAt: injectedAt, liftedAt };
}

async function restart(ctx: ChaosContext, servers: LocalServer[]): Promise<void> {
  await Promise.all(servers.map((s) => s.start()));
  await ctx.ensemble.waitForQuorum(QUORUM_WAIT_MS);
  ctx.note(`ZooKeeper server${servers.length > 1 ? 's' : ''} ${servers.map((s) => s.id).join(' and ')} serving again`);
}

export interface RecoveryOutcome {
  recoveredAt: number | undefined;
  /** Workers that exited on their own during the wait (and were replaced). */
  crashed: WorkerHandle[];
  lastProblem: string;
}

/**
 * Waits (bounded) until every live participant is in the election exactly once and some leader
 * has written after `since`; replaces workers that died on their own.
 */
export async function waitForRecovery(ctx: ChaosContext, since: number, timeoutMs: number): Promise<RecoveryOutcome> {
  const crashed: WorkerHandle[] = [];
  let lastProblem = '';
  const recovered = async (): Promise<boolean> => {
    for (const worker of ctx.pool.crashed()) {
      const stderr = worker.proc.errorLines.slice(-30).join('\n    ');
      ctx.note(`worker ${worker.name} exited on its own (${JSON.stringify(worker.proc.exitInfo)}); replacing it; its last stderr lines:\n    ${stderr || '(none)'}`);
      crashed.push(worker);
      await ctx.pool.replace(worker.slot);
    }
    const last = ctx.resource.lastAccepted;
    if (!last || last.arrival <= since) return problem('no write accepted since the fault was lifted');
    let ids: string[];
    try {
      ids = await ctx.monitor.list();
    } catch (error) {
      return problem((error as Error).message);
    }
    const expected = ctx.pool.expectedIds();
    const same = ids.length === expected.length && expected.every((id) => ids.includes(id));
    return same || problem(`participants listed ${JSON.stringify(ids)}, expected ${JSON.stringify(expected)}`);
  };
  function problem(text: string): false {
    lastProblem = text;
    return false;
  }
  try {
    await waitFor(recovered, { timeoutMs, intervalMs: 250, message: 'recovery' });
    return { recoveredAt: now(), crashed, lastProblem };
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    ctx.note(`NOT RECOVERED within ${timeoutMs} ms: ${lastProblem}`);
    return { recoveredAt: undefined, crashed, lastProblem };
  }
}
