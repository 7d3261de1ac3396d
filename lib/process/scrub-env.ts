/**
 * Taking secrets out of what other processes of the same user can read about this one.
 *
 * `delete process.env.X` removes a variable from what this process and its children see, but not
 * from /proc/PID/environ: that file shows the environment block the kernel wrote at exec time, and
 * unsetenv() only drops the pointer to it. So the bytes are also overwritten where they lie,
 * through /proc/self/mem (a process may write its own memory), between the `env_start` and
 * `env_end` addresses /proc/self/stat gives. Command-line arguments are in the same place for
 * /proc/PID/cmdline and `ps`: process.title overwrites them (libuv writes the title over argv and
 * clears the rest). Linux only; elsewhere, and where /proc/self/mem is not writable (a hardened
 * kernel), the variables are still deleted and the result says the bytes were not overwritten.
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';

/**
 * Removes `names` from process.env and overwrites their entries in the exec-time environment
 * block. `scrubbed` is false when one of them was present and its bytes could not be overwritten.
 */
export function scrubEnvironment(names: readonly string[]): { removed: string[]; scrubbed: boolean } {
  const removed = names.filter((name) => process.env[name] !== undefined);
  for (const name of removed) delete process.env[name];
  if (removed.length === 0) return { removed, scrubbed: true };
  try {
    overwriteEnvironBlock(removed);
    return { removed, scrubbed: true };
  } catch {
    return { removed, scrubbed: false };
  }
}

function overwriteEnvironBlock(names: readonly string[]): void {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name (which may hold spaces and parentheses) start at field 3;
  // env_start and env_end are fields 50 and 51 (Linux 3.5 and later).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[50 - 3]);
  const end = Number(fields[51 - 3]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start || end - start > 1 << 24) throw new Error('no environment block');
  const fd = openSync('/proc/self/mem', 'r+');
  try {
    const block = Buffer.alloc(end - start);
    readSync(fd, block, 0, block.length, start);
    for (let at = 0; at < block.length; ) {
      const next = block.indexOf(0, at);
      const stop = next === -1 ? block.length : next;
      const entry = block.toString('latin1', at, stop);
      if (names.some((name) => entry.startsWith(`${name}=`))) writeSync(fd, Buffer.alloc(stop - at), 0, stop - at, start + at);
      at = stop + 1;
    }
    // Read back: a write that was silently dropped must not pass for a scrub.
    const after = Buffer.alloc(end - start);
    readSync(fd, after, 0, after.length, start);
    if (names.some((name) => after.includes(`\0${name}=`) || after.subarray(0, name.length + 1).toString('latin1') === `${name}=`)) throw new Error('not overwritten');
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces the value of each of `flags` (`--auth VALUE`, `--auth=VALUE`) in what `ps` and
 * /proc/PID/cmdline show of this process with `***`, through process.title. False when no flag
 * was there (the title is left alone).
 */
export function hideArguments(argv: readonly string[], flags: readonly string[]): boolean {
  let hidden = false;
  const own = argv.indexOf('--');
  const shown = argv.map((arg, i) => {
    // After `--` come the arguments of `run`'s command: not ours to read or hide.
    if (own !== -1 && i > own) return arg;
    const previous = argv[i - 1];
    if (previous !== undefined && flags.includes(previous)) return (hidden = true), '***';
    const flag = flags.find((f) => arg.startsWith(`${f}=`));
    return flag ? ((hidden = true), `${flag}=***`) : arg;
  });
  if (hidden) process.title = shown.join(' ');
  return hidden;
}
