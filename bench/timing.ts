/** Bounded waits for the bench: every wait has a deadline and says what it was waiting for. */
import { pollUntil } from '../lib/process/wait.js';

export const now = (): number => performance.now();

/**
 * Monotonic ms on process.hrtime (CLOCK_MONOTONIC): the same clock in every process of the
 * machine, so the bench compares a time taken in a worker with one taken in another process.
 */
export const hrNow = (): number => Number(process.hrtime.bigint()) / 1e6;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class BenchTimeoutError extends Error {
  override name = 'BenchTimeoutError';
}

/** Rejects with a BenchTimeoutError naming `what` when `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BenchTimeoutError(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Polls `condition` every `everyMs` until it holds; throws a BenchTimeoutError after `ms`. `what`
 * names what was awaited; as a function it is read at the timeout, so it can tell the last state seen.
 */
export async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string | (() => string), everyMs = 1): Promise<void> {
  if (await pollUntil(condition, { timeoutMs: ms, intervalMs: everyMs })) return;
  throw new BenchTimeoutError(`${typeof what === 'string' ? what : what()}: not reached within ${ms} ms`);
}

/**
 * Reads `read` every `everyMs` until `count` of it has not changed for `quietMs`, and returns the
 * last reading. A settling pause, not a condition: after `ms` it stops waiting without an error
 * and returns the last reading all the same.
 */
export async function untilQuiet<T>(read: () => Promise<T>, count: (reading: T) => number, quietMs: number, ms: number, everyMs = 50): Promise<T> {
  let last = await read();
  let stableSince = now();
  const deadline = stableSince + ms;
  while (now() - stableSince < quietMs && now() < deadline) {
    await sleep(everyMs);
    const next = await read();
    if (count(next) !== count(last)) stableSince = now();
    last = next;
  }
  return last;
}
