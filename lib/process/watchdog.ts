/**
 * The exit watchdog: a tiny process that cleans up after this one when it dies, however it dies.
 *
 * An 'exit' listener (lib/testing/host-exit.ts) cannot run when the process is killed with
 * SIGKILL (the OOM killer, a crashed or timed-out test worker, `kill -9`), and the kernel's
 * parent-death signal (spawnClean's `dieWithParent`) kills a child but removes no directory. So,
 * as `run`'s group guard does (lib/cli/run/group-guard.ts), a bash loop in a session of its own
 * reads a pipe from us:
 *
 *   pid <pid> <start>   kill this process if we die (<start>: its start time in /proc/<pid>/stat,
 *                       so that a pid the system has since given to another process is left alone)
 *   unpid <pid>         it has exited: forget it
 *   dir <path>          remove this directory if we die, once the processes above are gone
 *   undir <path>        it is gone: forget it
 *
 * When the pipe closes (this process exited, by any means) it SIGKILLs what is still registered,
 * waits for it to go (at most 10 s), removes the directories, and exits. One watchdog per process,
 * started on first use, never holding the event loop open.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { BASH, spawnClean } from './spawn-clean.js';

const WATCHDOG = `
declare -A start dirs
while IFS= read -r line; do
  word=\${line%% *} arg=\${line#* }
  case $word in
    pid) start[\${arg%% *}]=\${arg#* };;
    unpid) unset 'start[$arg]';;
    dir) dirs[$arg]=1;;
    undir) unset 'dirs[$arg]';;
  esac
done
ours() {
  local stat fields
  stat=$(< "/proc/$1/stat") || return 1
  fields=(\${stat##*) })
  [ "\${fields[19]}" = "$2" ]
}
for pid in "\${!start[@]}"; do ours "$pid" "\${start[$pid]}" && kill -KILL "$pid"; done
for ((i = 0; i < 100; i++)); do
  left=
  for pid in "\${!start[@]}"; do ours "$pid" "\${start[$pid]}" && left=1; done
  [ -z "$left" ] && break
  sleep 0.1
done
for dir in "\${!dirs[@]}"; do rm -rf -- "$dir"; done
`;

/** Whether watchdogs run here: Linux with bash and /proc. */
export const canWatch = existsSync(BASH) && existsSync('/proc/self/stat');

export interface Watchdog {
  /** Kill `pid` if this process dies first; call the result once it has exited. */
  killOnDeath(pid: number): () => void;
  /** Remove `dir` if this process dies first; call the result once it is gone. */
  removeOnDeath(dir: string): () => void;
}

/** A process's start time, field 22 of /proc/<pid>/stat (after the name, which may hold spaces). */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Starts a watchdog; undefined where {@link canWatch} is false. */
export function startWatchdog(): Watchdog | undefined {
  if (!canWatch) return undefined;
  // Only PATH from our environment: a BASH_ENV would have bash run a startup file first.
  const env = process.env.PATH === undefined ? {} : { PATH: process.env.PATH };
  const child: ChildProcess = spawnClean(BASH, ['--norc', '-c', WATCHDOG, 'zk-election-watchdog'], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env });
  // Neither the process nor its pipe may keep us alive: it is there for when we are gone.
  child.unref();
  const stdin = child.stdin as (NodeJS.WritableStream & { unref?: (() => void) | undefined; on(event: 'error', listener: () => void): void }) | null;
  stdin?.unref?.();
  // A watchdog that died (someone killed it) fails our writes with EPIPE: nothing to do then.
  stdin?.on('error', () => {});
  child.on('error', () => {});
  const send = (line: string): void => {
    // Newlines would split a line in two: no path we make has one, and one that does is not ours to remove.
    if (!line.includes('\n')) stdin?.write(`${line}\n`);
  };
  return {
    killOnDeath(pid) {
      const start = startTime(pid);
      if (start === undefined) return () => {};
      send(`pid ${pid} ${start}`);
      return () => send(`unpid ${pid}`);
    },
    removeOnDeath(dir) {
      send(`dir ${dir}`);
      return () => send(`undir ${dir}`);
    },
  };
}
