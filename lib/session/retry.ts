/**
 * The only importer of p-retry, and the one place where retry defaults are written. Four loops,
 * one engine, each with a policy of its own:
 *
 * - {@link OPERATION_RETRY}: an operation on a session retried through connection loss
 *   (Session.retrying); a user sets it with the `retry` option (of a Session, or of an election
 *   that opens its own session).
 * - {@link REJOIN_RETRY}: an election's start-over after its session expired or its node vanished
 *   (Election.#campaign in lib/election/election.ts); a user sets it with an election's `rejoin` option.
 * - {@link OPEN_RETRY}: a session's opening while handles die before connecting (session-open.ts),
 *   bounded by the session's `connectTimeout`; not an option.
 * - {@link PARENT_RETRY}: a candidate's create when ZooKeeper deleted the election path (an empty
 *   container) or one of its parents between our creates (Candidacy); not an option.
 *
 * What is worth another attempt is decided by the caller's `retryIf`, never by p-retry's defaults.
 */
import pRetry from 'p-retry';
import { InvalidArgumentError, isRetryable } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { describeValue, keysOf, MAX_TIMER_MS, optionsObject } from '../util/validate.js';
import type { ZkHandle } from '../zk/handle.js';

/**
 * Bounded backoff between attempts. Two options take one: `retry` (an operation retried through
 * connection loss, on a Session or an election's own session) and an election's `rejoin` (starting
 * over after the session expired or the candidate node vanished). A field left out keeps its default.
 */
export interface RetryPolicy {
  /** Attempts after the first. @default 10 for `retry`; Infinity for `rejoin` */
  retries?: number | undefined;
  /** First delay, ms. @default 20 for `retry`; 50 for `rejoin` */
  minTimeout?: number | undefined;
  /** Largest delay, ms. @default 1000 for `retry`; 2000 for `rejoin` */
  maxTimeout?: number | undefined;
  /** Total time budget in ms. @default Infinity */
  maxRetryTime?: number | undefined;
}

/** A policy with every field decided: what a loop runs on. */
export type ResolvedRetryPolicy = Readonly<Required<RetryPolicy>>;

/** An operation on a session, retried through connection loss: the `retry` option's defaults. */
export const OPERATION_RETRY: ResolvedRetryPolicy = Object.freeze({ retries: 10, minTimeout: 20, maxTimeout: 1000, maxRetryTime: Infinity });

/** An election's start-over (a new node after an expiry or a deleted node): the `rejoin` option's defaults. */
export const REJOIN_RETRY: ResolvedRetryPolicy = Object.freeze({ retries: Infinity, minTimeout: 50, maxTimeout: 2000, maxRetryTime: Infinity });

/**
 * A session's opening, replacing handles that die before they connect. Its time budget is the
 * session's `connectTimeout`, which replaces `maxRetryTime` here.
 */
export const OPEN_RETRY: ResolvedRetryPolicy = Object.freeze({ retries: Infinity, minTimeout: 50, maxTimeout: 1000, maxRetryTime: Infinity });

/**
 * Creating the parents again after the server deleted one under us (container nodes, issue 20). A
 * container made again is spared by the server until it has had a child, so a walk converges in
 * about as many attempts as the path has levels; the bound is for a path someone keeps deleting.
 */
export const PARENT_RETRY: ResolvedRetryPolicy = Object.freeze({ retries: 5, minTimeout: 10, maxTimeout: 200, maxRetryTime: Infinity });

/** `given` over `defaults`, field by field; a field given as undefined keeps its default. */
export function resolveRetryPolicy(defaults: ResolvedRetryPolicy, given: RetryPolicy | undefined): ResolvedRetryPolicy {
  return {
    retries: given?.retries ?? defaults.retries,
    minTimeout: given?.minTimeout ?? defaults.minTimeout,
    maxTimeout: given?.maxTimeout ?? defaults.maxTimeout,
    maxRetryTime: given?.maxRetryTime ?? defaults.maxRetryTime,
  };
}

const RETRY_KEYS = keysOf<RetryPolicy>()('retries', 'minTimeout', 'maxTimeout', 'maxRetryTime');

/**
 * Checks a `retry` or `rejoin` option up front: known fields only; `retries` a whole number or
 * Infinity; the delays timer-sized (a larger one would fire after 1 ms); the budget also Infinity.
 */
export function validateRetryPolicy(name: string, value: unknown): RetryPolicy | undefined {
  if (value === undefined) return undefined;
  const policy = optionsObject(name, value, RETRY_KEYS);
  const check = (field: keyof RetryPolicy, ok: (n: number) => boolean, what: string): void => {
    const v = policy[field];
    if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v) || !ok(v))) throw new InvalidArgumentError(`Expected \`${name}.${field}\` to be ${what}, got ${describeValue(v)}`);
  };
  check('retries', (n) => n === Infinity || (Number.isInteger(n) && n >= 0), 'a non-negative integer or Infinity');
  check('minTimeout', (n) => n >= 0 && n <= MAX_TIMER_MS, `a number of ms from 0 to ${MAX_TIMER_MS}`);
  check('maxTimeout', (n) => n >= 0 && n <= MAX_TIMER_MS, `a number of ms from 0 to ${MAX_TIMER_MS}`);
  check('maxRetryTime', (n) => n === Infinity || (n >= 0 && n <= MAX_TIMER_MS), `a number of ms from 0 to ${MAX_TIMER_MS}, or Infinity`);
  return policy as RetryPolicy;
}

/** A policy decided by the caller (from one of the constants above) and what the loop needs besides. */
export interface RetryOptions extends Required<Omit<RetryPolicy, 'maxRetryTime'>> {
  /** Total time budget in ms; absent: none. */
  maxRetryTime?: number | undefined;
  /** Ends the retrying: the delay in progress rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
  /** Which failures get another attempt; everything else ends it at once. */
  retryIf: (error: unknown) => boolean;
  /** Runs after a failure that will be retried, before the delay (to tidy up for the next attempt). */
  beforeRetry?: ((error: unknown) => void | Promise<void>) | undefined;
}

/**
 * Runs `operation` until it succeeds, a failure is not worth retrying, or the policy is used up.
 * Note: when `signal` aborts while an attempt runs, the attempt's result is discarded once it
 * settles; an attempt that makes something (a node) must record it before returning.
 */
export function retry<T>(what: string, operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  return pRetry(operation, {
    retries: options.retries,
    minTimeout: options.minTimeout,
    maxTimeout: options.maxTimeout,
    maxRetryTime: options.maxRetryTime ?? Infinity,
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
  host: { live(): ZkHandle | undefined; attach(): Promise<ZkHandle>; policy: ResolvedRetryPolicy; signal: AbortSignal | undefined; logger: Logger },
): Promise<T> {
  const retries = host.policy.retries;
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
