/** runAsLeader(): do a piece of work only while leading, with the leadership's signal. */
import { Election, type ElectionOptions } from './election.js';
import type { Leadership } from './leadership.js';

export interface RunAsLeaderOptions extends Omit<ElectionOptions, 'requeue'> {
  /** Stops campaigning; the task's leadership is resigned and the promise rejects with code ABORTED. */
  signal?: AbortSignal;
}

/**
 * Campaigns, runs `task` when elected, resigns when it ends and returns its result. If leadership
 * is lost while the task runs, the task sees `leadership.signal` abort; once it settles the
 * candidate requeues (with a fresh session after expiry) and runs the task again in its next term,
 * until the task completes while still leader, or `signal` aborts. A task error thrown while still
 * leader is rethrown, but only after resigning.
 */
export async function runAsLeader<T>(path: string, options: RunAsLeaderOptions, task: (leadership: Leadership) => Promise<T> | T): Promise<T> {
  const { signal, ...electionOptions } = options;
  const election = new Election(path, { ...electionOptions, requeue: true });
  try {
    await election.start(signal);
    for (;;) {
      const leadership = await election.waitForLeadership(signal);
      const outcome = await settle(() => task(leadership));
      // Lost mid-task: the result (or error) may rest on a stale view; run again next term.
      if (!leadership.isLeader && leadership.signal.reason !== undefined && !(signal?.aborted ?? false)) {
        const reason = (leadership.signal.reason as { reason?: string }).reason;
        if (reason !== 'resigned') continue;
      }
      await leadership.resign();
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
  } finally {
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
