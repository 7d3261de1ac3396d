import { performance } from 'node:perf_hooks';

/**
 * The monotonic clock every lease is measured on. It keeps running while the process is
 * stopped (SIGSTOP) or stalled in a long GC, which is exactly what a lease has to notice;
 * wall-clock time could jump and must never decide leadership.
 */
export function monotonicNow(): number {
  return performance.now();
}
