/** runAsLeader(): do a piece of work only while leading, with the leadership's signal. */
import { abortReason, onAbort } from '../util/abort.js';
import { Election, type ElectionOptions } from './election.js';
import type { LeadershipLostError } from '../errors.js';
import type { Leadership } from './leadership.js';
import { CANDIDATE_KEYS } from './election-options.js';
import { InvalidArgumentError } from '../errors.js';
import { keysOf, optionalSignal, optionsObject } from '../util/validate.js';

const RUN_AS_LEADER_KEYS = keysOf<RunAsLeaderOptions>()(...CANDIDATE_KEYS, 'drain', 'signal');

export interface RunAsLeaderOptions extends Omit<ElectionOptions, 'requeue'> {
  /**
   * Stops campaigning. If the task is running, its `leadership.signal` aborts (reason `closed`) and
   * our node is deleted at once; once the task settles the promise rejects with code ABORTED.
   */
  signal?: AbortSignal | undefined;
}

/**
 * Campaigns, runs `task` when elected, resigns when it ends and returns its result. If leadership
 * is lost while the task runs, the task sees `leadership.signal` abort; once it settles the
 * candidate requeues (with a fresh session after expiry) and runs the task again in its next term,
 * until the task completes while still leader, or `signal` aborts. A task error thrown while still
 * leader is rethrown, but only after resigning.
 */
export async function runAsLeader<T>(path: string, options: RunAsLeaderOptions, task: (leadership: Leadership) => Promise<T> | T): Promise<T> {
  optionsObject('options', options, RUN_AS_LEADER_KEYS);
  optionalSignal('signal', options.signal);
  if (typeof task !== 'function') throw new InvalidArgumentError('Expected `task` to be a function');
  const { signal, ...electionOptions } = options;
  const election = new Election(path, { ...electionOptions, requeue: true });
  // Abort while the task runs: closing the election ends the term, which aborts the task's signal.
  const detach = signal ? onAbort(signal, () => void election.close()) : () => {};
  try {
    await election.start(signal);
    for (;;) {
      const leadership = await election.waitForLeadership(signal);
      const outcome = await settle(() => task(leadership));
      if (signal?.aborted) throw abortReason(signal);
      // Lost mid-task (not by the task's own resign): the outcome may rest on a stale view; run again next term.
      if (!leadership.isLeader && (leadership.signal.reason as LeadershipLostError).reason !== 'resigned') continue;
      await leadership.resign();
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
  } finally {
    detach();
    await election.close();
  }
}

async function settle<T>(fn: () => Promise<T> | T): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}
