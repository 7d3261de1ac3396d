/**
 * The sections of issue 13 §3-4 and issue 12's figures: mass failover (11), observer latency (12),
 * step-down time (13), and the server's cost of each operation (14, docs/operations.md "Sizing").
 */
import { MassCluster, type MassExit, type MassTrial } from './mass-failover.js';
import { ObservedElection } from './observers.js';
import { verdictUpTo, type Verdict } from './report.js';
import { serverCapacity, serverCosts, type OperationCost } from './server-cost.js';
import type { Context } from './context.js';
import { formatMs, formatNumber, summarize } from './stats.js';

const ms = (value: number): string => formatMs(value);
/** `1 write`, `2 reads`, `1.04 reads`. */
const counted = (value: number, noun: string): string => `${formatNumber(Math.round(value * 100) / 100)} ${noun}${value === 1 ? '' : 's'}`;
const median = (values: number[]): number => summarize(values).median;

/** Figure 11: for each E, trials of each exit interleaved on one rotating three-process cluster. */
export async function massFailoverSection(ctx: Context): Promise<void> {
  const { sessionTimeout, sizes, targetAt } = ctx.plan.mass;
  for (const { e, sigterm, kill, sessionClose } of sizes) {
    ctx.progress(`mass failover E=${e}: 3 processes joining ${e} elections each`);
    const cluster = await MassCluster.start(ctx.connect, ctx.server, ctx.admin, e, sessionTimeout);
    const trials: Record<MassExit, MassTrial[]> = { sigterm: [], kill: [], 'session-close': [] };
    const wanted: Record<MassExit, number> = { sigterm, kill, 'session-close': sessionClose };
    try {
      for (let round = 0; Object.entries(wanted).some(([exit, n]) => trials[exit as MassExit].length < n); round += 1) {
        for (const exit of ['sigterm', 'kill', 'session-close'] as const) {
          if (trials[exit].length >= wanted[exit]) continue;
          const trial = await cluster.trial(exit);
          trials[exit].push(trial);
          ctx.progress(`mass failover E=${e} ${exit} trial ${trials[exit].length}: every election re-elected after ${ms(trial.total)}${exit === 'kill' ? ` (${ms(trial.afterExpiry)} after the expiry)` : ''}`);
        }
      }
    } finally {
      await cluster.close();
    }
    massRows(ctx, e, sessionTimeout, trials, e === targetAt);
  }
}

function massRows(ctx: Context, e: number, sessionTimeout: number, trials: Record<MassExit, MassTrial[]>, targeted: boolean): void {
  const shape = `E=${e} elections x 3 candidates, 3 processes, one shared session each`;
  const { sigterm, kill } = trials;
  const floor = trials['session-close'];
  if (sigterm.length) sigtermRow(ctx, e, shape, sigterm, targeted);
  if (floor.length) floorRow(ctx, e, shape, floor, sigterm);
  if (kill.length) killRow(ctx, e, shape, sessionTimeout, kill, targeted);
  for (const [exit, list, withTarget] of [['SIGTERM, exit hook', sigterm, true], ['kill -9', kill, true], ['SIGTERM, closeSession only (floor)', floor, false]] as const) {
    if (list.length) costRow(ctx, e, exit, list, targeted && withTarget);
  }
}

/** The median of one timeline mark over the trials. */
const mark = (list: MassTrial[], key: keyof MassTrial['timeline']): string => ms(median(list.map((t) => t.timeline[key])));

/**
 * Figure 11a: SIGTERM to the exit hook (`handleSignals`, no other SIGTERM listener): it closes the
 * shared session first (one closeSession: the server deletes every candidate node of the process),
 * then closes every election (nothing left to send), then re-raises the signal. The target
 * applies at `targeted`.
 */
function sigtermRow(ctx: Context, e: number, shape: string, sigterm: MassTrial[], targeted: boolean): void {
  const summary = summarize(sigterm.map((t) => t.total));
  ctx.report.distribution(
    {
      figure: '11a mass failover: SIGTERM',
      setting: `${shape}, handleSignals: SIGTERM to the leading process, whose exit hook sends one closeSession, then closes every election, then exits -> every election has a new leader`,
      unit: 'ms',
      note: `leaving process, after the closeSession: elections closing ${mark(sigterm, 'firstClosing')} to ${mark(sigterm, 'lastClosing')}, last closed ${mark(sigterm, 'lastClosed')} (no request of their own), exit ${ms(median(sigterm.map((t) => t.exitOrExpiry)))}; successor notified ${mark(sigterm, 'firstNotification')} to ${mark(sigterm, 'lastNotification')} (medians)${interrupted(sigterm)}`,
      ...(targeted ? { target: '<= 1 s after the SIGTERM', met: verdictUpTo(summary, 1000) } : {}),
      extra: { e, timelines: sigterm.map((t) => t.timeline) },
    },
    sigterm.map((t) => t.total),
    ms,
  );
}

/**
 * Figure 11a's floor: SIGTERM to a handler of the bench's that runs before the exit hook and only
 * closes the shared session (the same one closeSession), then exits. The hook's row differs from
 * this one by the hook's own work: closing every election after the session, and its exit.
 */
function floorRow(ctx: Context, e: number, shape: string, floor: MassTrial[], sigterm: MassTrial[]): void {
  const times = (pick: (t: MassTrial) => number): string => (median(sigterm.map(pick)) / median(floor.map(pick))).toFixed(2);
  const ratio = sigterm.length ? `; with the exit hook: ${times((t) => t.total)} x this, exit ${times((t) => t.exitOrExpiry)} x (medians; the hook's overhead)` : '';
  ctx.report.distribution(
    {
      figure: '11a mass failover, floor',
      setting: `${shape}: SIGTERM to a handler without the exit hook that sends the same one closeSession, then exits -> every election has a new leader`,
      unit: 'ms',
      note: `leaving process exit ${ms(median(floor.map((t) => t.exitOrExpiry)))}; successor notified ${mark(floor, 'firstNotification')} to ${mark(floor, 'lastNotification')} (medians)${ratio}${interrupted(floor)}`,
      extra: { e, timelines: floor.map((t) => t.timeline) },
    },
    floor.map((t) => t.total),
    ms,
  );
}

/** Figure 11b: kill -9, timed from the server's expiry of the session (the library's share). */
function killRow(ctx: Context, e: number, shape: string, sessionTimeout: number, kill: MassTrial[], targeted: boolean): void {
  const summary = summarize(kill.map((t) => t.afterExpiry));
  ctx.report.distribution(
    {
      figure: '11b mass failover: kill -9',
      setting: `${shape}, T = ${sessionTimeout} ms: the server's expiry of the killed process's session -> every election has a new leader`,
      unit: 'ms',
      note: `kill -> expiry ${ms(median(kill.map((t) => t.exitOrExpiry)))}, kill -> all re-elected ${ms(median(kill.map((t) => t.total)))}; successor notified ${mark(kill, 'firstNotification')} to ${mark(kill, 'lastNotification')} after the kill (medians)${interrupted(kill)}`,
      ...(targeted ? { target: '< 1 s after the expiry', met: verdictUpTo(summary, 1000) } : {}),
      extra: { e, sessionTimeout, timelines: kill.map((t) => t.timeline), total: kill.map((t) => t.total) },
    },
    kill.map((t) => t.afterExpiry),
    ms,
  );
}

/** Figure 11c: what the server and the surviving candidates did per election, medians over the trials. */
function costRow(ctx: Context, e: number, exit: string, list: MassTrial[], targeted: boolean): void {
  const per = (pick: (t: MassTrial) => number, noun: string): string => counted(median(list.map(pick)) / e, noun);
  const woken = list.flatMap((t) => t.woken);
  // The successor, and the third by the new leader's announcement (one listing, one read each):
  // two woken per election at most, whatever E; a herd would be more.
  const herdFree = woken.every((w) => w >= 1 && w <= 2) && list.every((t) => t.thirdRequests <= 2 * e);
  const ops = Object.entries(list[0]?.successorOps ?? {}).map(([op, n]) => `${op} ${formatNumber(n / e)}`).join(', ');
  const met: Verdict = herdFree ? 'yes' : 'no';
  ctx.report.single({
    figure: '11c mass failover: cost per election',
    setting: `E=${e}, ${exit}: server requests and watch notifications per election`,
    unit: 'per election',
    trials: list.length,
    value: `${per((t) => t.server.writes, 'write')}, ${per((t) => t.server.reads - t.keepAlives, 'read')}, ${per((t) => t.server.notifications, 'notification')}`,
    note: `woken candidates per election: ${Math.min(...woken)} to ${Math.max(...woken)}; successor sent ${ops || 'nothing'} per election, the third process ${formatNumber(median(list.map((t) => t.thirdRequests)))} requests in all; the sessions' keep-alives (exists /) left out of the reads, pings kept`,
    ...(targeted ? { target: 'at most two woken candidates per election (the successor; the third by the announcement, 2 requests), no herd', met } : {}),
    extra: { e, exit, trials: list.map(({ server, keepAlives, thirdRequests, successorOps, successorNotifications, thirdNotifications }) => ({ server, keepAlives, thirdRequests, successorOps, successorNotifications, thirdNotifications })), herdFree },
  });
}

function interrupted(list: MassTrial[]): string {
  const n = list.filter((t) => t.interruptions > 0).length;
  return n ? `; ${n} trial(s) saw a surviving session suspended` : '';
}

/** Figures 12 and 13 on one election of three candidates. */
export async function observerSection(ctx: Context): Promise<void> {
  const { observers, changes, warmup, stepDownLibrary, stepDownCli } = ctx.plan.observers;
  const path = '/bench/observe';
  await ctx.admin.ensurePath(path);
  const election = await ObservedElection.start(ctx.connect, path);
  try {
    ctx.progress(`observer latency: ${observers} observers, ${changes} leader changes (+${warmup} warm-up)`);
    const seen = await election.observerLatency(observers, changes, warmup);
    ctx.report.distribution(
      {
        figure: '12 observer latency',
        setting: `${observers} observers (observeLeader, own sessions, 1 process), 3 candidates: the leader's resign() -> each observer has the new leader`,
        unit: 'ms',
        note: `${changes} changes x ${observers} observers; the successor was elected after ${ms(median(seen.elected))} (median); ${seen.extraValues} values beyond one per change`,
        extra: { elected: seen.elected, extraValues: seen.extraValues },
      },
      seen.latencies,
      ms,
    );
    ctx.progress(`step-down: ${stepDownLibrary} through the library, ${stepDownCli} through the CLI`);
    const steps = await election.stepDowns(stepDownLibrary, stepDownCli);
    ctx.report.distribution(
      { figure: '13 step-down: library', setting: 'requestStepDown() on an open session, 3 candidates -> resolves with the next leader', unit: 'ms', note: `the successor was elected after ${ms(median(steps.elected))} (median)`, extra: { elected: steps.elected } },
      steps.library,
      ms,
    );
    if (steps.cli.length) {
      ctx.report.distribution({ figure: '13 step-down: CLI', setting: 'zk-election step-down <path>: spawn -> exit 0', unit: 'ms', note: 'a fresh process: node start, import, connect, request, wait for the next leader' }, steps.cli, ms);
    }
  } finally {
    await election.close();
  }
}

/** Figure 14: the server's cost of each operation, at rest, and this machine's server saturated. */
export async function serverCostSection(ctx: Context): Promise<void> {
  const { elections, capacityReads, capacityWrites } = ctx.plan.cost;
  ctx.progress(`server cost per operation: each operation once in each of ${elections} elections, mntr around it`);
  const { operations, idle } = await serverCosts(ctx.connect, ctx.server, ctx.admin, elections);
  for (const op of operations) operationRow(ctx, op);
  ctx.report.single({
    figure: '14 server cost at rest',
    setting: `${idle.leaders} leaders on one session, T = 10 s, ${idle.sessions} sessions open`,
    unit: 'reads/s',
    trials: 1,
    value: `${formatNumber(idle.keepAlivesPerSecond / idle.leaders, 3)} reads/s per leader`,
    note: `${formatNumber(idle.readsPerSecond, 1)} reads/s in all over ${formatNumber(idle.seconds, 1)} s: keep-alives (exists / every T/3, one per session whose leaders hold terms) ${formatNumber(idle.keepAlivesPerSecond, 2)}/s, pings the rest; waiting candidates and observers send nothing`,
    extra: { ...idle },
  });
  ctx.progress(`server capacity on this machine: ${capacityReads} reads, ${capacityWrites} creates and deletes`);
  const capacity = await serverCapacity(ctx.admin, capacityReads, capacityWrites);
  ctx.report.single({
    figure: '14 server capacity (this machine)',
    setting: `one bare session, ${capacity.inFlight} requests in flight: getChildren; create and delete`,
    unit: 'requests/s',
    trials: 1,
    value: `${Math.round(capacity.readsPerSecond)} reads/s, ${Math.round(capacity.writesPerSecond)} writes/s`,
    note: 'standalone on loopback, fsync on, on the shared 2 cores: an anchor, not a production figure',
    extra: { ...capacity },
  });
}

function operationRow(ctx: Context, op: OperationCost): void {
  const s = op.server;
  const n = (value: number): string => formatNumber(Math.round(value * 100) / 100);
  const signed = (value: number): string => `${value > 0 ? '+' : ''}${n(value)}`;
  const client = Object.entries(op.client).filter(([, count]) => count > 0).map(([kind, count]) => `${kind} ${n(count)}`).join(', ');
  ctx.report.single({
    figure: '14 server cost per operation',
    setting: op.operation,
    unit: 'per operation',
    trials: op.count,
    value: `${counted(s.writes, 'write')} + ${counted(s.reads, 'read')}`,
    note: `${counted(s.notifications, 'notification')}, watches ${signed(s.watches)}, znodes ${signed(s.znodes)}, data ${signed(s.dataBytes)} B; candidates sent ${client || 'nothing'}`,
    extra: { server: s, client: op.client, count: op.count },
  });
}
