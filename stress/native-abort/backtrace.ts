/**
 * The native backtrace of a victim that died of a signal, read from its core file with gdb.
 *
 * Victims run with RLIMIT_CORE unlimited in a directory of their own. Where the kernel's
 * core_pattern is a plain name (`core`, as on this project's machines), the core lands in that
 * directory; where it pipes to a helper (systemd-coredump, apport), no file appears and we say so.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const GDB_TIMEOUT_MS = 180_000;

export interface Backtrace {
  /** The core file read, or undefined when none was written. */
  core: string | undefined;
  /** gdb's whole output (or why there is none). */
  text: string;
  /** The frames of the crashing thread, one line each. */
  frames: string[];
}

/** The core file a process of `pid` left in `dir`: `core` or `core.<pid>`. */
export function findCore(dir: string, pid: number): string | undefined {
  for (const name of [`core.${pid}`, 'core']) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

export function corePattern(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
  } catch {
    return '(unreadable)';
  }
}

/** Runs gdb in batch mode on `executable` and `core`: the crashing thread's frames, then the same with locals. */
export async function readBacktrace(executable: string, dir: string, pid: number): Promise<Backtrace> {
  const core = findCore(dir, pid);
  if (!core) return { core, text: `no core file in ${dir} (core_pattern: ${corePattern()})`, frames: [] };
  const args = ['-batch', '-nx', '-ex', 'set pagination off', '-ex', 'bt 40', '-ex', 'echo ----- with locals -----\\n', '-ex', 'bt full 14', executable, core];
  const text = await new Promise<string>((resolve) => {
    execFile('gdb', args, { timeout: GDB_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve(error && !stdout ? `gdb failed: ${error.message}\n${stderr}` : `${stdout}${stderr ? `\n(gdb stderr)\n${stderr}` : ''}`);
    });
  });
  const firstTrace = text.split('----- with locals -----')[0] ?? '';
  // gdb prints the innermost frame once on loading the core, then again in the backtrace.
  const frames = [...new Set(firstTrace.split('\n').filter((line) => /^#\d+\s/.test(line)))];
  return { core, text, frames };
}
