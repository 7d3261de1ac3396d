/**
 * The monotonic clock every lease and every timer of a term is measured on. It keeps running
 * while the process is stopped (SIGSTOP) or stalled in a long GC, which is exactly what a lease
 * has to notice; wall-clock time could jump and must never decide leadership.
 *
 * Injectable (SessionOptions.clock) so that lease arithmetic runs deterministically in unit tests
 * against zk-election/testing's ManualClock; the system clock is the default everywhere.
 */

/** An opaque timer handle of a Clock. */
export type ClockTimer = { readonly __clockTimer?: never } | NodeJS.Timeout;

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` once after `ms`; never keeps the process alive on its own. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
}

export function monotonicNow(): number {
  return performance.now();
}

export const systemClock: Clock = {
  now: monotonicNow,
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout(timer) {
    if (timer !== undefined) clearTimeout(timer as NodeJS.Timeout);
  },
};
