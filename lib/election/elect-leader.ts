/** electLeader(): validate, join, and resolve with a Leadership once we lead. */
import { abortReason, combineSignals } from '../util/abort.js';
import { Election } from './election.js';
import type { Leadership } from './leadership.js';
import { CANDIDATE_KEYS, validateWaitOptions, type CandidateOptions } from './election-options.js';
import { keysOf, optionsObject } from '../util/validate.js';

const ELECT_LEADER_KEYS = keysOf<ElectLeaderOptions>()(...CANDIDATE_KEYS, 'signal', 'timeout');

export interface ElectLeaderOptions extends CandidateOptions {
  /** Withdraws the candidacy while waiting: our node is deleted and the promise rejects with code ABORTED. */
  signal?: AbortSignal | undefined;
  /** How long to wait for leadership, ms; then our node is deleted and it rejects with code TIMEOUT. @default Infinity */
  timeout?: number | undefined;
}

/**
 * Campaigns for leadership of the election at `path` and resolves when this participant leads.
 * The Leadership's `signal` aborts the moment leadership is lost or can no longer be trusted; the
 * first term's end also ends the candidacy (use Election for a candidate that requeues).
 * Leaves no node behind on any exit path it controls.
 */
export async function electLeader(path: string, options: ElectLeaderOptions = {}): Promise<Leadership> {
  optionsObject('options', options, ELECT_LEADER_KEYS);
  const { signal, timeout } = validateWaitOptions(options);
  const { signal: _signal, timeout: _timeout, ...candidate } = options;
  const election = new Election(path, { ...candidate, requeue: false });
  const { signal: until, dispose } = combineSignals([signal], timeout, `no leadership of ${path} within ${timeout} ms`);
  try {
    await election.start(until);
    return await election.waitForLeadership(until);
  } catch (error) {
    await election.close();
    if (until.aborted) throw abortReason(until);
    throw error;
  } finally {
    // Elected or not, `timeout` no longer applies.
    dispose();
  }
}
