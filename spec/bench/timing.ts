/** Bounded waits for the bench: every wait has a deadline and says what it was waiting for. */
import { pollUntil } from '../../lib/wait.js';

export const now = (): number => performance.now();

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

/** Polls `condition` every `everyMs` until it holds; throws a BenchTimeoutError after `ms`. */
export async function until(condition: () => boolean, ms: number, what: string, everyMs = 1): Promise<void> {
  if (!(await pollUntil(condition, { timeoutMs: ms, intervalMs: everyMs }))) throw new BenchTimeoutError(`${what}: not reached within ${ms} ms`);
}
