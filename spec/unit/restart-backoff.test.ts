/** When `run` restarts its command, and when it hands the term on: pure arithmetic, no timers. */
import { HAND_ON_AFTER, QUICK_RUN_MS, RestartBackoff } from '../../lib/cli/run/restart-backoff.js';

test('quick exits double the delay up to the cap; a hand-on after 5 in one term; a long run resets it', () => {
  const backoff = new RestartBackoff(1000, 30_000);
  const term = {};
  expect(backoff.delayMs).toBe(0);
  const plans = Array.from({ length: HAND_ON_AFTER }, () => backoff.exited(15, term));
  expect(plans.map((p) => p.delayMs)).toEqual([1000, 2000, 4000, 8000, 16_000]);
  expect(plans.map((p) => p.handOn)).toEqual([false, false, false, false, true]);
  // The next term (ours again, alone in the election) keeps the delay growing, capped, and gives 5 more tries.
  const next = {};
  expect(backoff.exited(15, next)).toEqual({ quickExits: 6, delayMs: 30_000, handOn: false });
  for (let i = 0; i < 3; i += 1) backoff.exited(15, next);
  expect(backoff.exited(15, next).handOn).toBe(true);
  // A run of 10 s or more is no failure: restart at once, and count from 0 again.
  expect(backoff.exited(QUICK_RUN_MS, next)).toEqual({ quickExits: 0, delayMs: 0, handOn: false });
  expect(backoff.exited(15, next)).toEqual({ quickExits: 1, delayMs: 1000, handOn: false });
});

test('only a start after an exit of its own is a restart', () => {
  const backoff = new RestartBackoff(100, 100);
  expect(backoff.starting()).toBe(false);
  backoff.exited(5, {});
  expect([backoff.starting(), backoff.starting()]).toEqual([true, false]);
  backoff.exited(5, {});
  backoff.stopped();
  expect(backoff.starting()).toBe(false);
  expect(backoff.restarts).toBe(1);
});
