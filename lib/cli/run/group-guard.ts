/**
 * The group guard: a tiny process that kills a process group by a deadline, on its own.
 *
 * `zk-election run` must never let its command outlive the lease, also when `run` itself cannot
 * act: killed (kill -9, the OOM killer) or frozen (SIGSTOP, a debugger, a stuck event loop). So the
 * command's group is watched by a second process, a bash loop in a session of its own with no
 * ZooKeeper connection, that only reads a pipe from `run`:
 *
 *   deadline <cs>   the group must be dead by then: centiseconds on the guard clock (below).
 *                   Sent before the command starts, and again on every renewal of the lease.
 *   group <pgid>    the group to kill; sent right after the command was spawned.
 *   dismiss         the group has stopped: exit without a signal.
 *
 * The guard SIGKILLs the group and exits when the deadline passes without a renewal, when the pipe
 * closes without `dismiss` (`run` died), or on a line it does not understand: in doubt, it kills
 * early, never late. A deadline that passed before the group was named kills the group as soon as
 * it is named. Once it has fired it takes no renewal.
 *
 * The guard clock is /proc/uptime (CLOCK_BOOTTIME, 10 ms steps), which both processes can read:
 * bash has no monotonic clock of its own, and its `read -t` waits a relative time. Deadlines are
 * absolute on that clock, so a line delivered late (a slow pipe, `run` frozen between computing a
 * deadline and writing it) can never stretch the guard's wait, only shorten it. Every conversion
 * rounds towards earlier: `run` reads the boot clock before the monotonic one, the guard takes one
 * step (10 ms) off for /proc/uptime's truncation. CLOCK_BOOTTIME also runs through a suspend of the
 * host, which CLOCK_MONOTONIC (performance.now()) does not: after a resume the guard fires at once.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { monotonicNow } from '../../util/clock.js';
import { BASH, canTieToParent, spawnClean } from '../../process/spawn-clean.js';

const UPTIME = '/proc/uptime';

const GUARD = `
pgid= deadline= expired=
fire() { [ -z "$pgid" ] || kill -KILL -- "-$pgid" 2>/dev/null; exit 0; }
expire() { expired=1; [ -z "$pgid" ] || fire; }
while :; do
  wait=
  if [ -n "$deadline" ] && [ -z "$expired" ]; then
    read -r up _ < ${UPTIME}
    up=\${up/./}
    case $up in ""|*[!0-9]*) expire; continue;; esac
    left=$(( deadline - 10#$up - 1 ))
    if [ "$left" -le 0 ]; then expire; continue; fi
    wait=$(( left / 100 )).$(( left % 100 / 10 ))$(( left % 10 ))
  fi
  if [ -n "$wait" ]; then read -r -t "$wait" word arg; else read -r word arg; fi
  status=$?
  [ "$status" -gt 128 ] && continue
  [ "$status" -eq 0 ] || fire
  case $word:$arg in
    dismiss:) exit 0;;
    group:|group:*[!0-9]*|deadline:|deadline:*[!0-9]*) fire;;
    group:*) pgid=$arg; [ -z "$expired" ] || fire;;
    deadline:*) [ -n "$expired" ] || deadline=$((10#$arg));;
    *) fire;;
  esac
done
`;

const GUARD_ENV: NodeJS.ProcessEnv = Object.freeze({ PATH: '/usr/bin:/bin', LC_ALL: 'C' });

/** Whether guards run here: Linux with bash, /proc and util-linux's setpriv (see canTieToParent). */
export const canGuard = canTieToParent && existsSync(UPTIME);

export interface GroupGuard {
  /**
   * The moment, on the monotonic clock (`performance.now()`), by which the group must be dead.
   * Call before `watch()` and again on every renewal; the guard fires when it passes.
   */
  deadline(at: number): void;
  /** The process group to kill; call once, right after spawning its leader. */
  watch(pgid: number): void;
  /** The group has stopped (or never started): the guard exits without a signal. Idempotent. */
  dismiss(): void;
  /**
   * Settles when the guard process has gone: `fired` is true when it went without being dismissed,
   * having killed the group (deadline passed, a bad line) or lost its pipe.
   */
  readonly gone: Promise<{ fired: boolean }>;
}

/**
 * Reads the guard clock: centiseconds of CLOCK_BOOTTIME, as /proc/uptime shows it (truncated).
 * @internal
 */
function guardClockNow(): number {
  const match = /^(\d+)\.(\d\d)\s/.exec(readFileSync(UPTIME, 'utf8'));
  if (!match) throw new Error(`unexpected ${UPTIME} contents`);
  return Number(match[1]) * 100 + Number(match[2]);
}

/**
 * A monotonic deadline on the guard clock. The boot clock is read first: were this process
 * stopped between the two reads, the monotonic reading would be later and the result earlier.
 * @internal
 */
function toGuardClock(at: number): number {
  const boot = guardClockNow();
  const left = at - monotonicNow();
  return Math.max(0, boot + Math.floor(left / 10));
}

/** A guard, running, not yet watching a group; undefined where {@link canGuard} is false. */
export function openGroupGuard(): GroupGuard | undefined {
  if (!canGuard) return undefined;
  // An environment of its own: the guard needs nothing of ours (bash builtins only), least of all credentials.
  const guard: ChildProcess = spawnClean(BASH, ['--norc', '-c', GUARD, 'zk-election-guard'], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env: GUARD_ENV });
  let dismissed = false;
  const gone = new Promise<{ fired: boolean }>((resolve) => {
    // A guard that failed to start counts as fired: the command must not run unguarded. (`on`, not
    // `once`: a second 'error' without a listener would crash us.)
    guard.on('error', () => resolve({ fired: !dismissed }));
    guard.once('exit', () => resolve({ fired: !dismissed }));
  });
  // A write to a guard that has gone fails with EPIPE; `gone` reports that.
  guard.stdin?.on('error', () => {});
  guard.unref();
  const send = (line: string): void => {
    if (!dismissed) guard.stdin?.write(`${line}\n`);
  };
  return {
    deadline: (at) => send(`deadline ${toGuardClock(at)}`),
    watch: (pgid) => send(`group ${pgid}`),
    dismiss: () => {
      if (dismissed) return;
      dismissed = true;
      guard.stdin?.end('dismiss\n');
    },
    gone,
  };
}
