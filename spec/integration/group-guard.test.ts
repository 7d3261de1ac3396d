/**
 * The group guard (lib/group-guard.ts) on its own, without `run` or ZooKeeper: it kills the group
 * it watches when the deadline passes without a renewal, and leaves it alone when renewed or
 * dismissed. Real processes; each group is a `sleep` in a group of its own, killed by pgid after.
 */
import { monotonicNow } from '../../lib/util/clock.js';
import { openGroupGuard, type GroupGuard } from '../../lib/cli/run/group-guard.js';
import { signalGroup, spawnClean } from '../../lib/process/spawn-clean.js';
import { killOnExit } from '../../lib/testing/host-exit.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { settleWithin, waitFor } from '../support/processes.js';

const groups: number[] = [];
afterEach(() => {
  for (const pgid of groups.splice(0)) signalGroup(pgid, 'SIGKILL');
});

/** A process group of one `sleep`, its pgid. */
function group(): number {
  const child = spawnClean('sleep', ['1000'], { stdio: 'ignore', detached: true });
  if (child.pid === undefined) throw new Error('sleep did not start');
  const forget = killOnExit(child.pid);
  child.once('exit', forget);
  groups.push(child.pid);
  return child.pid;
}

function guard(): GroupGuard {
  const opened = openGroupGuard();
  if (!opened) throw new Error('no group guard on this platform: it needs Linux, bash, /proc/uptime and setpriv');
  return opened;
}

test('without a renewal the guard kills the group at its deadline, then exits', async () => {
  const g = guard();
  g.deadline(monotonicNow() + 300);
  const pgid = group();
  g.watch(pgid);
  await waitFor(() => !signalGroup(pgid, 0), { timeoutMs: 10_000, message: 'the guard to kill the group' });
  expect(await settleWithin(g.gone, 5000)).toEqual({ fired: true });
});

test('renewed, the group outlives the first deadline; dismissed, the guard exits without a signal', async () => {
  const g = guard();
  const first = monotonicNow() + 2000;
  g.deadline(first);
  const pgid = group();
  g.watch(pgid);
  while (monotonicNow() < first + 1000) {
    g.deadline(monotonicNow() + 2000);
    await sleep(100);
  }
  expect(signalGroup(pgid, 0)).toBe(true);
  g.dismiss();
  expect(await settleWithin(g.gone, 5000)).toEqual({ fired: false });
  expect(signalGroup(pgid, 0)).toBe(true);
});

test('a deadline that passed before the group was named kills the group as soon as it is named', async () => {
  const g = guard();
  g.deadline(monotonicNow() - 1000);
  // No wait is needed for the guard to find its deadline past before it learns of the group: its
  // loop handles one line per turn and looks at the deadline before it reads the next line, so the
  // deadline line has expired it (with no group to kill yet) whenever the group line arrives.
  const pgid = group();
  g.watch(pgid);
  await waitFor(() => !signalGroup(pgid, 0), { timeoutMs: 10_000, message: 'the guard to kill the group it was told of late' });
  expect(await settleWithin(g.gone, 5000)).toEqual({ fired: true });
});
