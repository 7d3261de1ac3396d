import fs from 'node:fs';
import vm from 'node:vm';
import { startWatchdog, type Watchdog } from '../process/watchdog.js';

/**
 * The last line of defence against orphaned servers: when the host process exits, every pid
 * registered here gets SIGKILL and every registered directory is removed. An 'exit' listener
 * may only do synchronous work; `process.kill` and `fs.rmSync` are. A process killed with SIGKILL
 * runs no listener: the exit watchdog (lib/process/watchdog.ts), told of the same pids and
 * directories, does the same from outside.
 *
 * Two details make this hold in a test runner too. Jest gives each test file a copy of
 * `process` whose 'exit' event never fires, so the listener goes on the host's own process
 * object, which code compiled by `vm.runInThisContext` still sees. And every test file loads
 * its own copy of this module, so the registry lives on that host object under a registered
 * symbol: one registry and one listener per process, however many copies of the module exist.
 */

const REGISTRY = Symbol.for('zk-election.cleanup-on-exit');

interface Registry {
  pids: Set<number>;
  dirs: Set<string>;
  /** For a death no 'exit' listener sees (SIGKILL): started on first use; undefined where none can run. */
  watchdog: Watchdog | undefined;
}

type HostProcess = NodeJS.Process & { [REGISTRY]?: Registry | undefined };

function hostProcess(): HostProcess {
  try {
    const candidate: unknown = vm.runInThisContext('process');
    if (typeof candidate === 'object' && candidate !== null && 'on' in candidate) return candidate as HostProcess;
  } catch {
    // Some sandboxes forbid vm; the global process is then the best there is.
  }
  return process as HostProcess;
}

function registry(): Registry {
  const host = hostProcess();
  let found = host[REGISTRY];
  if (!found) {
    const created: Registry = { pids: new Set(), dirs: new Set(), watchdog: startWatchdog() };
    host[REGISTRY] = created;
    host.on('exit', () => cleanUpNow(host, created));
    found = created;
  }
  return found;
}

function cleanUpNow(host: NodeJS.Process, { pids, dirs }: Registry): void {
  for (const pid of pids) {
    try {
      host.kill(pid, 'SIGKILL');
    } catch {
      // Already gone (ESRCH): nothing left to clean up.
    }
  }
  for (const dir of dirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: a leftover directory in the temp dir is harmless.
    }
  }
  pids.clear();
  dirs.clear();
}

/** Registers `pid` to be SIGKILLed if the host process exits first; call the result once it has exited. */
export function killOnExit(pid: number): () => void {
  const { pids, watchdog } = registry();
  pids.add(pid);
  const forget = watchdog?.killOnDeath(pid);
  return () => {
    pids.delete(pid);
    forget?.();
  };
}

/** Registers a directory to be removed if the host process exits first; call the result once it is gone. */
export function removeOnExit(dir: string): () => void {
  const { dirs, watchdog } = registry();
  dirs.add(dir);
  const forget = watchdog?.removeOnDeath(dir);
  return () => {
    dirs.delete(dir);
    forget?.();
  };
}
