/**
 * Spawning children without our ZooKeeper sockets.
 *
 * The `zookeeper` binding's C client opens its sockets without close-on-exec, so every child
 * process spawned while a session is open inherits that session's socket. When the parent later
 * closes the session, the kernel keeps the connection's open file description alive in the child,
 * epoll keeps reporting it to the parent's event loop, and the parent spins in the kernel while
 * new connections stall (seen here: a Session.connect timing out after 10 s, 6 s of system CPU).
 * So children start through bash, which closes every descriptor above stdio (and above the IPC
 * channel, fd 3, when there is one) before it execs the real program.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

const CLOSE_INHERITED = 'keep=$1; shift; for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt "$keep" ]; then { eval "exec $n>&-"; } 2>/dev/null; fi; done; exec "$@"';

/** `stdio` as for spawn(); with four entries the fourth must be 'ipc'. */
export function spawnClean(file: string, args: readonly string[], stdio: StdioOptions): ChildProcess {
  const keep = Array.isArray(stdio) && stdio.length > 3 ? 3 : 2;
  return spawn('/bin/bash', ['-c', CLOSE_INHERITED, 'spawn-clean', String(keep), file, ...args], { stdio });
}
