/**
 * The invariants of the chaos test, as pure functions of what was recorded: the fenced resource's
 * writes and the faults. Each returns a figure and the examples that break it, never just a boolean.
 */
import type { WriteRecord } from './fenced-resource.js';
import type { FaultKind } from './schedule.js';

export interface FaultRecord {
  n: number;
  kind: FaultKind;
  /** Worker name or ZooKeeper server, with how long it lasted. */
  detail: string;
  /** The leader as the resource last saw it before the fault. */
  leaderToken: bigint | undefined;
  leaderId: string | undefined;
  /** The fault hit the leader's worker, or the ensemble's own leader. */
  hitLeader: boolean;
  /** performance.now() in the test process. */
  injectedAt: number;
  /** From when a new leader can be asked for: injection, or ZooKeeper serving again after it. */
  referenceAt: number;
  liftedAt: number;
  recoveredAt: number | undefined;
}

/** Writes accepted although a higher token had been accepted before them. Zero by the fencing rule; checked from the record. */
export function staleAccepted(writes: readonly WriteRecord[]): WriteRecord[] {
  let highest = -1n;
  const stale: WriteRecord[] = [];
  for (const write of writes) {
    if (!write.accepted) continue;
    if (write.token < highest) stale.push(write);
    else highest = write.token;
  }
  return stale;
}

export interface TokenInterval {
  token: bigint;
  id: string;
  first: number;
  last: number;
}

function intervals(writes: readonly WriteRecord[], time: (w: WriteRecord) => number): TokenInterval[] {
  const byToken = new Map<bigint, TokenInterval>();
  for (const write of writes) {
    const t = time(write);
    const interval = byToken.get(write.token);
    if (!interval) byToken.set(write.token, { token: write.token, id: write.id, first: t, last: t });
    else {
      interval.first = Math.min(interval.first, t);
      interval.last = Math.max(interval.last, t);
    }
  }
  return [...byToken.values()];
}

export interface OverlapReport {
  /** Pairs of different tokens whose intervals overlap. */
  overlaps: Array<{ earlier: TokenInterval; later: TokenInterval; byMs: number }>;
  /** Smallest gap between one token's last time and a later token's first (negative: overlap). */
  minGapMs: number;
  tokens: number;
}

/** Sorted by `first`, each interval against every earlier one that is still open. */
function overlapsOf(list: TokenInterval[]): OverlapReport {
  const sorted = [...list].sort((a, b) => a.first - b.first);
  const overlaps: OverlapReport['overlaps'] = [];
  let minGapMs = Infinity;
  for (const [i, later] of sorted.entries()) {
    for (const earlier of sorted.slice(0, i)) {
      const gap = later.first - earlier.last;
      if (gap < minGapMs) minGapMs = gap;
      if (gap <= 0) overlaps.push({ earlier, later, byMs: -gap });
    }
  }
  return { overlaps, minGapMs, tokens: sorted.length };
}

/**
 * Leadership intervals claimed valid, by the writers' claim times (every write, accepted or fenced
 * off, since each was made while its writer saw `isValid()` true): no two tokens may overlap.
 */
export function claimOverlaps(writes: readonly WriteRecord[]): OverlapReport {
  return overlapsOf(intervals(writes, (w) => w.claimAt));
}

/**
 * Accepted writes by arrival: once a higher token has written, a lower one never writes again, and
 * the per-token intervals [first, last] do not overlap.
 */
export function acceptedInterleavings(writes: readonly WriteRecord[]): OverlapReport {
  return overlapsOf(intervals(writes.filter((w) => w.accepted), (w) => w.arrival));
}

export interface Failover {
  fault: FaultRecord;
  newToken: bigint;
  newId: string;
  /** First accepted write of a higher token, after the fault's reference time. */
  fromReferenceMs: number;
  fromInjectionMs: number;
}

/**
 * Faults after which a higher token took over (the fault removed the leader, or caused its loss),
 * measured until the first accepted write of the new token, before the next fault.
 */
export function failovers(faults: readonly FaultRecord[], writes: readonly WriteRecord[]): Failover[] {
  const found: Failover[] = [];
  for (const [i, fault] of faults.entries()) {
    if (fault.leaderToken === undefined) continue;
    const until = faults[i + 1]?.injectedAt ?? Infinity;
    const next = writes.find((w) => w.accepted && w.arrival > fault.injectedAt && w.arrival < until && w.token > fault.leaderToken!);
    if (!next) continue;
    found.push({
      fault,
      newToken: next.token,
      newId: next.id,
      fromReferenceMs: next.arrival - fault.referenceAt,
      fromInjectionMs: next.arrival - fault.injectedAt,
    });
  }
  return found;
}

/** Faults that hit the leader's worker (kill, pause, partition) but after which the same token kept writing. */
export function leadersThatSurvived(faults: readonly FaultRecord[], writes: readonly WriteRecord[]): FaultRecord[] {
  return faults.filter((fault, i) => {
    if (!fault.hitLeader || fault.leaderToken === undefined) return false;
    if (!['kill-worker', 'pause-worker', 'partition-worker'].includes(fault.kind)) return false;
    const until = faults[i + 1]?.injectedAt ?? Infinity;
    return writes.some((w) => w.accepted && w.token === fault.leaderToken && w.arrival > fault.liftedAt + 1000 && w.arrival < until);
  });
}

/** The longest stretch without an accepted write, and when it started. */
export function longestSilence(writes: readonly WriteRecord[], from: number, to: number): { ms: number; startedAt: number } {
  let last = from;
  let worst = { ms: 0, startedAt: from };
  for (const write of writes) {
    if (!write.accepted || write.arrival < from) continue;
    if (write.arrival - last > worst.ms) worst = { ms: write.arrival - last, startedAt: last };
    last = write.arrival;
  }
  if (to - last > worst.ms) worst = { ms: to - last, startedAt: last };
  return worst;
}
