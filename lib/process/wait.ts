/**
 * The two waiting helpers everything else uses (the CLI, the test kit, the tests): a bounded
 * poll for conditions that have no event to await, and a bounded wait for a promise. Deadlines
 * are on the monotonic clock, so a wall-clock jump cannot stretch or cut a bounded wait.
 */

export interface PollOptions {
  /** Give up after this long, ms. */
  timeoutMs: number;
  /** Time between two looks, ms. @default 50 */
  intervalMs?: number | undefined;
  /** Stops polling at once; the call then resolves false. */
  signal?: AbortSignal | undefined;
}

/**
 * Looks at `predicate` until it holds (true) or `timeoutMs` passes (false). The predicate is
 * always looked at at least once, and once more at the deadline.
 */
export async function pollUntil(predicate: () => boolean | Promise<boolean>, options: PollOptions): Promise<boolean> {
  const deadline = performance.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 50;
  for (;;) {
    if (await predicate()) return true;
    const left = deadline - performance.now();
    if (left <= 0 || options.signal?.aborted) return false;
    await sleep(Math.min(interval, left), options.signal);
  }
}

/** Resolves true when `promise` settles (either way) within `ms`, false otherwise; never rejects. */
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

/** A sleep that ends early (resolving, not rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A monotonic deadline `ms` from now, and what is left of one. */
export function deadlineIn(ms: number): number {
  return performance.now() + ms;
}
export function remaining(deadline: number): number {
  return Math.max(0, deadline - performance.now());
}
