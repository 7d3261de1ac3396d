/**
 * Spawning children without our ZooKeeper sockets.
 *
 * The `zookeeper` binding's C client opens its sockets without close-on-exec, so every child
 * process spawned while a session is open inherits that session's socket. When the parent later
 * closes the session, the kernel keeps the connection's open file description alive in the child,
 * epoll keeps reporting it to the parent's event loop, and the parent spins in the kernel while
 * new connections stall (seen here: a Session.connect timing out after 10 s, 6 s of system CPU).
 * A child holding a leader's socket could also keep that connection half-alive after the leader
 * process dies. So children start through bash, which closes every descriptor above the ones
 * `stdio` asks for before it execs the real program.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { settlesWithin } from './wait.js';

export const BASH = '/bin/bash';
const CLOSE_INHERITED = 'keep=$1; shift; for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt "$keep" ]; then { eval "exec $n>&-"; } 2>/dev/null; fi; done; exec "$@"';

/** Whether this platform lets us close inherited descriptors (Linux: bash and /proc). */
const canClean = existsSync(BASH) && existsSync('/proc/self/fd');
/** util-linux's setpriv sets the parent-death signal (prctl PR_SET_PDEATHSIG), then execs. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => existsSync(file));

export interface SpawnCleanOptions extends SpawnOptions {
  /**
   * A signal the child gets from the kernel the moment this process dies, even by SIGKILL, where
   * the platform allows (Linux with util-linux's setpriv); see {@link canTieToParent}.
   */
  dieWithParent?: NodeJS.Signals | undefined;
}

/** Whether `dieWithParent` takes effect here. */
export const canTieToParent = canClean && SETPRIV !== undefined;

/**
 * spawn(), minus inherited descriptors above those `options.stdio` names. Where that cannot be
 * done (no /proc), a plain spawn. A command that is not found exits with status 127, as in a shell.
 */
export function spawnClean(file: string, args: readonly string[], options: SpawnCleanOptions = {}): ChildProcess {
  const { dieWithParent, ...spawnOptions } = options;
  if (!canClean) return spawn(file, args, spawnOptions);
  const stdio = spawnOptions.stdio;
  const keep = Array.isArray(stdio) ? Math.max(2, stdio.length - 1) : 2;
  // setpriv runs after bash has closed the descriptors and execs the command in the same process,
  // whose parent is still us: the pid we hold is the command's, and the death signal is ours.
  const command = dieWithParent && SETPRIV ? [SETPRIV, '--pdeathsig', dieWithParent.replace(/^SIG/, ''), '--', file, ...args] : [file, ...args];
  // --norc: Debian's bash reads ~/.bashrc when its stdin is a socket (as for sshd), which a pipe from
  // Node is; no user's startup file belongs in between.
  return spawn(BASH, ['--norc', '-c', CLOSE_INHERITED, 'spawn-clean', String(keep), ...command], spawnOptions);
}

/**
 * Sends `signal` to process group `pgid` (0 only probes). False once the group has no member left
 * (ESRCH); any other failure (EPERM) throws.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

export interface StopProcessOptions {
  /** The polite signal. @default 'SIGTERM' */
  signal?: NodeJS.Signals | undefined;
  /** How long the process may take to exit before SIGKILL, ms; 0 sends SIGKILL at once. */
  graceMs: number;
  /** Signal its process group as well (a detached child leads one): what it started stops too. */
  group?: boolean | undefined;
  /** Send SIGCONT after the polite signal: a stopped process acts on it only once it runs. */
  resume?: boolean | undefined;
  /** How long to wait for the exit after SIGKILL, ms. @default 10000 */
  killWaitMs?: number | undefined;
}

/**
 * The one "stop a process" of the project (servers, the demo's participants, test processes):
 * the polite signal, up to `graceMs` for `exited` to settle, then SIGKILL (to the group too with
 * `group`), and up to `killWaitMs` more. Resolves true once it exited, false if it outlived even
 * SIGKILL (stuck in the kernel). `run`'s command is stopped by lib/cli/leased-command.ts instead:
 * its deadlines come from the lease, not from a fixed grace.
 */
export async function stopProcess(pid: number, exited: Promise<unknown>, options: StopProcessOptions): Promise<boolean> {
  // Exited and reaped already: its pid may be someone else's by now, so no signal at all.
  if (await settlesWithin(exited, 0)) return true;
  const send = (signal: NodeJS.Signals): void => {
    if (options.group) signalGroup(pid, signal);
    try {
      process.kill(pid, signal);
    } catch (error) {
      // ESRCH: it exited meanwhile; its exit is on its way.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  if (options.graceMs > 0) {
    send(options.signal ?? 'SIGTERM');
    if (options.resume) send('SIGCONT');
    if (await settlesWithin(exited, options.graceMs)) return true;
  }
  send('SIGKILL');
  return settlesWithin(exited, options.killWaitMs ?? 10_000);
}
