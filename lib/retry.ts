import pRetry from 'p-retry';
import { isRetryable } from './errors.js';
import type { Logger } from './logger.js';

/** Bounded backoff for one operation; only what {@link isRetryable} allows is retried. */
export interface RetryPolicy {
  /** @default 5 */
  retries?: number;
  /** @default 50 */
  minTimeout?: number;
  /** @default 2000 */
  maxTimeout?: number;
  /** Total time budget in ms. @default Infinity */
  maxRetryTime?: number;
}

export const DEFAULT_RETRY: Required<RetryPolicy> = { retries: 5, minTimeout: 50, maxTimeout: 2000, maxRetryTime: Infinity };

/**
 * Runs `operation`, retrying connection loss and operation timeouts (kazoo's allow-list) with
 * exponential backoff. Everything else, and an aborted `signal`, ends it at once.
 */
export async function withRetry<T>(
  what: string,
  operation: (attempt: number) => Promise<T>,
  options: RetryPolicy & { signal?: AbortSignal; logger?: Logger; retryIf?: (error: unknown) => boolean } = {},
): Promise<T> {
  const retryIf = options.retryIf ?? isRetryable;
  return pRetry(operation, {
    retries: options.retries ?? DEFAULT_RETRY.retries,
    minTimeout: options.minTimeout ?? DEFAULT_RETRY.minTimeout,
    maxTimeout: options.maxTimeout ?? DEFAULT_RETRY.maxTimeout,
    maxRetryTime: options.maxRetryTime ?? DEFAULT_RETRY.maxRetryTime,
    randomize: true,
    signal: options.signal,
    shouldRetry: ({ error }) => retryIf(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      options.logger?.debug(`${what} failed, ${retriesLeft} retries left`, { attempt: attemptNumber, error: error.message });
    },
  });
}
