/**
 * The chaos test's figures: computed from the record, printed whether or not the run passed, and
 * the list of violations the test asserts to be empty.
 */
import { performance } from 'node:perf_hooks';
import type { WriteRecord } from './fenced-resource.js';
import { acceptedInterleavings, claimOverlaps, failovers, leadersThatSurvived, longestSilence, staleAccepted, type FaultRecord } from './invariants.js';
import type { WorkerLine } from './protocol.js';
import { FAULT_KINDS } from './schedule.js';

export interface RunRecord {
  seed: number;
  seconds: number;
  sessionTimeout: number;
  failoverMarginMs: number;
  participants: number;
  workers: number;
  /** performance.now() when the first fault was injected, and when the last one recovered. */
  faultsFrom: number;
  faultsTo: number;
  faults: FaultRecord[];
  writes: readonly WriteRecord[];
  lines: WorkerLine[];
  /** Workers stopped at the end: their exit. */
  exits: Array<{ worker: string; code: number | null; signal: string | null }>;
  /** Workers that exited without being killed or stopped by the test. */
  crashedWorkers: string[];
  /** Every worker's resident set, KiB, once ready and right before the test stopped or killed it (undefined: it had exited). */
  workerRss: Array<{ worker: string; startKiB: number | undefined; endKiB: number | undefined; end: 'stopped' | 'killed' | 'exited' }>;
  leftoverAtExit: number | undefined;
  leftoverAfterWait: number | undefined;
  leftoverWaitMs: number;
  runError: string | undefined;
}

export interface Figures {
  text: string;
  violations: Record<string, unknown[]>;
  summary: Record<string, unknown>;
}

const round = (ms: number): number => Math.round(ms);
const mib = (kib: number | undefined): string => (kib === undefined ? '?' : (kib / 1024).toFixed(1));
const toEpoch = (t: number): number => performance.timeOrigin + t;

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** The fault whose window (injection until the next injection) holds epoch time `at`. */
function faultAt(faults: readonly FaultRecord[], at: number): FaultRecord | undefined {
  let found: FaultRecord | undefined;
  for (const fault of faults) if (toEpoch(fault.injectedAt) <= at) found = fault;
  return found;
}

/** Handle closes (-112 or otherwise) in a worker that was not itself paused or partitioned at the time. */
function handleCloses(record: RunRecord): { own: number; other: Record<string, number> } {
  const closes = record.lines.filter((l): l is Extract<WorkerLine, { event: 'log' }> => l.event === 'log' && /session expired|session handle closed/.test(l.message));
  let own = 0;
  const other: string[] = [];
  for (const line of closes) {
    const fault = faultAt(record.faults, line.at);
    const ownFault = fault && (fault.kind === 'pause-worker' || fault.kind === 'partition-worker') && fault.detail.includes(` ${line.worker} `);
    if (ownFault) own += 1;
    else other.push(fault?.kind ?? 'before any fault');
  }
  return { own, other: countBy(other, (k) => k) };
}

type Lost = Extract<WorkerLine, { event: 'lost' }>;

/** Everything the figures are made of, computed once. */
function analyse(record: RunRecord) {
  const { writes, faults, lines } = record;
  const bound = record.sessionTimeout + record.failoverMarginMs;
  const overs = failovers(faults, writes);
  const badExits = record.exits.filter((e) => e.code !== 0);
  const recoveries = faults.flatMap((f) => (f.recoveredAt === undefined ? [] : [f.recoveredAt - f.liftedAt]));
  return {
    bound,
    accepted: writes.filter((w) => w.accepted).length,
    fencedOff: writes.filter((w) => !w.accepted).length,
    lostInTransit: lines.filter((l) => l.event === 'write' && l.outcome === 'failed').length,
    stale: staleAccepted(writes),
    claims: claimOverlaps(writes),
    arrivals: acceptedInterleavings(writes),
    overs,
    worst: overs.reduce<(typeof overs)[number] | undefined>((w, f) => (!w || f.fromReferenceMs > w.fromReferenceMs ? f : w), undefined),
    overBound: overs.filter((f) => f.fromReferenceMs > bound),
    survivors: leadersThatSurvived(faults, writes),
    silence: longestSilence(writes, record.faultsFrom, record.faultsTo),
    recoveries,
    unrecovered: faults.filter((f) => f.recoveredAt === undefined),
    errors: lines.filter((l) => l.event === 'error'),
    badExits,
    lingering: lines.filter((l) => l.event === 'lingering').map((l) => l.worker),
    lostByReason: countBy(lines.filter((l): l is Lost => l.event === 'lost'), (l) => l.reason),
    validAtLoss: lines.filter((l): l is Lost => l.event === 'lost' && l.validAtLoss).length,
    elected: lines.filter((l) => l.event === 'elected').length,
    closes: handleCloses(record),
    buried: lines.filter((l) => l.event === 'log' && /closed the previous session/.test(l.message)).length,
  };
}
type Analysis = ReturnType<typeof analyse>;

function faultLines(record: RunRecord, a: Analysis): string[] {
  return FAULT_KINDS.map((kind) => {
    const ofKind = record.faults.filter((f) => f.kind === kind);
    const fo = a.overs.filter((f) => f.fault.kind === kind);
    const worst = fo.length ? `, worst ${round(Math.max(...fo.map((f) => f.fromReferenceMs)))} ms` : '';
    return `    ${kind.padEnd(17)} ${String(ofKind.length).padStart(3)} injected, ${ofKind.filter((f) => f.hitLeader).length} on the leader('s worker), ${fo.length} failovers${worst}`;
  });
}

function text(record: RunRecord, a: Analysis): string {
  const worst = a.worst
    ? `${round(a.worst.fromReferenceMs)} ms (fault #${a.worst.fault.n} ${a.worst.fault.detail}; ${round(a.worst.fromInjectionMs)} ms from injection)`
    : 'n/a';
  return [
    `chaos figures — seed ${record.seed} (replay: CHAOS_SEED=${record.seed}), ${record.seconds} s of faults, ` +
      `${record.participants} participants in ${record.workers} worker processes, session timeout ${record.sessionTimeout} ms`,
    `  faults injected: ${record.faults.length}`,
    ...faultLines(record, a),
    `  writes: ${a.accepted} accepted, ${a.fencedOff} fenced off (lower token, arrived late), ${a.lostInTransit} lost in transit; ${a.claims.tokens} leadership terms wrote`,
    `  stale writes accepted: ${a.stale.length}`,
    `  overlapping leadership intervals (claim times, every write): ${a.claims.overlaps.length}; smallest gap between two terms: ${round(a.claims.minGapMs)} ms`,
    `  interleaved tokens among accepted writes (arrival order): ${a.arrivals.overlaps.length}; smallest gap: ${round(a.arrivals.minGapMs)} ms`,
    `  failovers: ${a.overs.length}; worst ${worst}; bound: session timeout ${record.sessionTimeout} + margin ${record.failoverMarginMs} = ${a.bound} ms; over the bound: ${a.overBound.length}`,
    `  longest time without an accepted write: ${round(a.silence.ms)} ms`,
    `  recoveries: ${a.recoveries.length}/${record.faults.length}, worst ${a.recoveries.length ? round(Math.max(...a.recoveries)) : 0} ms after the fault was lifted; not recovered: ${a.unrecovered.length}`,
    `  leadership: ${a.elected} terms began; losses by reason ${JSON.stringify(a.lostByReason)}; valid at the moment of loss: ${a.validAtLoss}`,
    `  session handles closed: ${a.closes.own} in a worker during its own pause/partition (real expiry), others by fault window ${JSON.stringify(a.closes.other)}; ` +
      `old sessions closed on the server after a handle close: ${a.buried}`,
    `  leftover candidate nodes: ${record.leftoverAtExit ?? '?'} right after every worker exited, ${record.leftoverAfterWait ?? '?'} after ${record.leftoverWaitMs} ms`,
    `  worker crashes: ${record.crashedWorkers.length}; error lines (unhandled rejection, uncaught exception, runAsLeader failure): ${a.errors.length}; ` +
      `exits after SIGTERM: ${record.exits.length - a.badExits.length}/${record.exits.length} with code 0; lingering after runAsLeader settled: ${a.lingering.length}`,
    `  worker RSS, start -> end (MiB): ${record.workerRss.map((w) => `${w.worker} ${mib(w.startKiB)} -> ${mib(w.endKiB)} (${w.end})`).join(', ')}`,
    ...(record.runError ? [`  the run itself failed: ${record.runError}`] : []),
  ].join('\n');
}

function violations(record: RunRecord, a: Analysis): Record<string, unknown[]> {
  const leftoverOk = record.leftoverAfterWait === 0 && record.leftoverAtExit === 0;
  return {
    staleWritesAccepted: a.stale.map(describeWrite),
    overlappingClaimedIntervals: a.claims.overlaps.slice(0, 10).map(describeOverlap),
    interleavedAcceptedTokens: a.arrivals.overlaps.slice(0, 10).map(describeOverlap),
    failoversOverBound: a.overBound.map((f) => `fault #${f.fault.n} ${f.fault.detail}: ${round(f.fromReferenceMs)} ms > ${a.bound} ms`),
    leadersNotReplaced: a.survivors.map((f) => `fault #${f.n} ${f.detail}: token ${f.leaderToken} kept writing`),
    notRecovered: a.unrecovered.map((f) => `fault #${f.n} ${f.detail}`),
    leftoverNodes: leftoverOk ? [] : [`${record.leftoverAtExit} at exit, ${record.leftoverAfterWait} after ${record.leftoverWaitMs} ms`],
    workerCrashes: record.crashedWorkers,
    workerErrors: a.errors.slice(0, 10).map((e) => JSON.stringify(e)),
    badExits: a.badExits.map((e) => JSON.stringify(e)),
    runError: record.runError ? [record.runError] : [],
  };
}

function summary(record: RunRecord, a: Analysis): Record<string, unknown> {
  return {
    seed: record.seed,
    seconds: record.seconds,
    faults: countBy(record.faults, (f) => f.kind),
    faultsOnLeader: record.faults.filter((f) => f.hitLeader).length,
    writesAccepted: a.accepted,
    writesFencedOff: a.fencedOff,
    staleWritesAccepted: a.stale.length,
    claimOverlaps: a.claims.overlaps.length,
    minGapBetweenTermsMs: round(a.claims.minGapMs),
    failovers: a.overs.length,
    worstFailoverMs: a.worst ? round(a.worst.fromReferenceMs) : undefined,
    failoverBoundMs: a.bound,
    longestSilenceMs: round(a.silence.ms),
    lostByReason: a.lostByReason,
    handleClosesOutsideOwnFault: a.closes.other,
    leftoverAtExit: record.leftoverAtExit,
    leftoverAfterWait: record.leftoverAfterWait,
    crashes: record.crashedWorkers.length,
    errorLines: a.errors.length,
    lingering: a.lingering.length,
    workerRss: record.workerRss,
  };
}

export function computeFigures(record: RunRecord): Figures {
  const a = analyse(record);
  return { text: text(record, a), violations: violations(record, a), summary: summary(record, a) };
}

function describeWrite(w: WriteRecord): string {
  return `token ${w.token} by ${w.id} at ${round(w.arrival)} ms`;
}

function describeOverlap(o: { earlier: { token: bigint; id: string; first: number; last: number }; later: { token: bigint; id: string; first: number; last: number }; byMs: number }): string {
  return `token ${o.earlier.token} (${o.earlier.id}) until ${o.earlier.last.toFixed(1)} overlaps token ${o.later.token} (${o.later.id}) from ${o.later.first.toFixed(1)} by ${o.byMs.toFixed(1)} ms`;
}
