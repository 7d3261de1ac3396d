/** The chaos test's checkers on made-up records: each must see the violation it exists for. */
import type { WriteRecord } from './fenced-resource.js';
import { acceptedInterleavings, claimOverlaps, failovers, leadersThatSurvived, longestSilence, staleAccepted, type FaultRecord } from './invariants.js';
import { FaultPlan, FAULT_KINDS, Random } from './schedule.js';

const write = (token: number, arrival: number, accepted = true, claimAt = arrival): WriteRecord => ({
  token: BigInt(token),
  id: `p${token}`,
  claimAt,
  arrival,
  accepted,
});

const fault = (fields: Partial<FaultRecord>): FaultRecord => ({
  n: 1,
  kind: 'kill-worker',
  detail: 'kill -9 w0.1',
  leaderToken: 1n,
  leaderId: 'p1',
  hitLeader: true,
  injectedAt: 100,
  referenceAt: 100,
  liftedAt: 110,
  recoveredAt: 3000,
  ...fields,
});

test('a lower token accepted after a higher one is a stale write', () => {
  expect(staleAccepted([write(1, 1), write(2, 2), write(1, 3, false), write(2, 4)])).toEqual([]);
  expect(staleAccepted([write(1, 1), write(2, 2), write(1, 3)]).map((w) => w.arrival)).toEqual([3]);
});

test('claim intervals of two tokens must not overlap, whether the late write was accepted or fenced off', () => {
  const clean = claimOverlaps([write(1, 1), write(1, 5), write(2, 8), write(2, 9)]);
  expect(clean).toMatchObject({ overlaps: [], minGapMs: 3, tokens: 2 });
  // Token 1 claimed at 10 (and arrived late, refused), after token 2 had begun at 8.
  const late = claimOverlaps([write(1, 1), write(2, 8), write(1, 12, false, 10), write(2, 13)]);
  expect(late.overlaps).toHaveLength(1);
  expect(late.overlaps[0]).toMatchObject({ byMs: 2 });
  expect(late.minGapMs).toBe(-2);
});

test('accepted writes of two tokens must not interleave by arrival', () => {
  expect(acceptedInterleavings([write(1, 1), write(2, 2), write(1, 3, false)]).overlaps).toEqual([]);
  expect(acceptedInterleavings([write(1, 1), write(2, 2), write(1, 3)]).overlaps).toHaveLength(1);
});

test('a failover is the first accepted write of a higher token after the fault, before the next fault', () => {
  const writes = [write(1, 50), write(1, 90), write(1, 150, false), write(3, 2100), write(3, 2200)];
  const [only, ...rest] = failovers([fault({}), fault({ n: 2, injectedAt: 5000, leaderToken: 3n })], writes);
  expect(rest).toEqual([]);
  expect(only).toMatchObject({ newToken: 3n, fromReferenceMs: 2000, fromInjectionMs: 2000 });
  // No higher token before the next fault: no failover for that fault.
  expect(failovers([fault({}), fault({ n: 2, injectedAt: 1000 })], writes).map((f) => f.fault.n)).toEqual([2]);
});

test("a leader whose worker was killed, paused or partitioned must not keep writing", () => {
  expect(leadersThatSurvived([fault({ kind: 'pause-worker' })], [write(1, 50), write(1, 2000)])).toHaveLength(1);
  expect(leadersThatSurvived([fault({ kind: 'pause-worker' })], [write(1, 50), write(2, 2000)])).toEqual([]);
  expect(leadersThatSurvived([fault({ kind: 'kill-zk-server' })], [write(1, 50), write(1, 2000)])).toEqual([]);
});

test('the longest silence counts from the start and up to the end', () => {
  expect(longestSilence([write(1, 10), write(1, 20), write(2, 400), write(1, 405, false)], 0, 500)).toEqual({ ms: 380, startedAt: 20 });
  expect(longestSilence([], 0, 500)).toEqual({ ms: 500, startedAt: 0 });
});

test('the schedule replays from its seed and meets every fault kind in each round', () => {
  const kinds = FAULT_KINDS.length;
  const draw = (seed: number): string[] => {
    const plan = new FaultPlan(new Random(seed));
    return Array.from({ length: 2 * kinds }, () => plan.next());
  };
  expect(draw(42)).toEqual(draw(42));
  expect(new Set(draw(42).slice(0, kinds))).toEqual(new Set(FAULT_KINDS));
  expect(new Set(draw(7).slice(kinds))).toEqual(new Set(FAULT_KINDS));
});
