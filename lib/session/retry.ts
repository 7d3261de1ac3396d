/**
 * The only importer of p-retry. Three uses, one shape: an operation on a session retried through
 * connection loss (Session.retrying), a campaign's start-over after its session expired or its
 * node vanished (Election.#campaign in lib/election/election.ts), and a session's opening while handles die before connecting
 * (session-open.ts). What is worth another attempt is decided by the caller's `retryIf`, never by
 * p-retry's defaults.
 */
import pRetry from 'p-retry';
import { isRetryable } from '../errors.js';
import type { Logger } from '../util/logger.js';
import type { ZkHandle } from '../zk/handle.js';

/** Bounded backoff between attempts. */
export interface RetryPolicy {
  /** Attempts after the first. @default 10 for an operation on a session (SessionOptions.retry); Infinity for an election's start-over */
  retries?: number;
  /** First delay, ms. @default 20 for an operation on a session; 50 for an election's start-over */
  minTimeout?: number;
  /** Largest delay, ms. @default 1000 for an operation on a session; 2000 for an election's start-over */
  maxTimeout?: number;
  /** Total time budget in ms. @default Infinity */
  maxRetryTime?: number;
}

export const DEFAULT_RETRY: Required<RetryPolicy> = { retries: 5, minTimeout: 50, maxTimeout: 2000, maxRetryTime: Infinity };

export interface RetryOptions extends RetryPolicy {
  /** Ends the retrying: the delay in progress rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
  /** Which failures get another attempt; everything else ends it at once. */
  retryIf: (error: unknown) => boolean;
  /** Runs after a failure that will be retried, before the delay (to tidy up for the next attempt). */
  beforeRetry?: (error: unknown) => void | Promise<void>;
}

/**
 * Runs `operation` until it succeeds, a failure is not worth retrying, or the policy is used up.
 * Note: when `signal` aborts while an attempt runs, the attempt's result is discarded once it
 * settles; an attempt that makes something (a node) must record it before returning.
 */
export function retry<T>(what: string, operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  return pRetry(operation, {
    retries: options.retries ?? DEFAULT_RETRY.retries,
    minTimeout: options.minTimeout ?? DEFAULT_RETRY.minTimeout,
    maxTimeout: options.maxTimeout ?? DEFAULT_RETRY.maxTimeout,
    maxRetryTime: options.maxRetryTime ?? DEFAULT_RETRY.maxRetryTime,
    randomize: true,
    // Ref'd: a backoff is work in progress that someone awaits (an election rejoining while the
    // ensemble is unreachable may have nothing else keeping the process alive; unref'd, the
    // process would simply end there, with its top-level await unsettled).
    unref: false,
    ...(options.signal ? { signal: options.signal } : {}),
    shouldRetry: ({ error }) => options.retryIf(error),
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
      if (!options.retryIf(error) || retriesLeft <= 0) return;
      options.logger?.debug(`${what} failed, retrying`, { attempt: attemptNumber, retriesLeft, error: error.message });
      await options.beforeRetry?.(error);
    },
  });
}

/**
 * Session.retrying's engine: one attempt at once on the connected handle (the usual case, with
 * none of the backoff machinery; the request is sent before this returns), then, for a failure
 * worth retrying (connection loss), p-retry with one attempt used, waiting through `attach` for a
 * connected handle before each further attempt. `attach` rejects when the session is gone.
 */
export function retryOnHandle<T>(
  what: string,
  operation: (handle: ZkHandle) => Promise<T>,
  host: { live(): ZkHandle | undefined; attach(): Promise<ZkHandle>; policy: RetryPolicy; signal: AbortSignal | undefined; logger: Logger },
): Promise<T> {
  const retries = host.policy.retries ?? DEFAULT_RETRY.retries;
  const backoff = (left: number): Promise<T> =>
    retry(
      what,
      () => {
        const live = host.live();
        return live ? operation(live) : host.attach().then(operation);
      },
      { ...host.policy, retries: left, signal: host.signal, logger: host.logger, retryIf: isRetryable },
    );
  const live = host.live();
  if (!live || host.signal?.aborted) return backoff(retries);
  let first: Promise<T>;
  try {
    first = operation(live);
  } catch (error) {
    first = Promise.reject(error);
  }
  return first.catch((error: unknown) => {
    if (!isRetryable(error) || retries < 1) throw error;
    host.logger.debug(`${what} failed, retrying`, { error: (error as Error).message });
    return backoff(retries - 1);
  });
}
