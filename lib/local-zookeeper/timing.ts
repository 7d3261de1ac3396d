import { performance } from 'node:perf_hooks';

/**
 * Small timing helpers for the local ensemble. Deadlines are measured on the monotonic
 * clock so that a wall-clock jump cannot stretch or cut a bounded wait.
 */

export function deadlineIn(ms: number): number {
  return performance.now() + ms;
}

export function remaining(deadline: number): number {
  return Math.max(0, deadline - performance.now());
}

/** Resolves true when `promise` settles within `ms`, false otherwise; never rejects. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true, () => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
