import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import readline from 'node:readline';
import { TimeoutError } from 'zk-election';
import { killOnExit } from '../../lib/testing/host-exit.js';
import { spawnClean, stopProcess } from '../../lib/process/spawn-clean.js';
import { pollUntil } from '../../lib/process/wait.js';

/**
 * Child processes for chaos tests (candidates in their own processes, the CLI), tracked by
 * pid: `killAllTracked()` in an afterAll, and SIGKILL from the host's 'exit' hook for a run
 * that ends without it. Every wait here is bounded.
 */

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TrackedProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** stdout lines so far. */
  readonly lines: readonly string[];
  /** stderr lines so far, for failure messages. */
  readonly errorLines: readonly string[];
  /** Set once the process exited. */
  readonly exitInfo: ExitInfo | undefined;
  /**
   * The first stdout line matching `re`, counting lines already read: it resolves at once when
   * an earlier line matched. Pass `fromLine` (e.g. `lines.length`) to consider only lines from
   * that index on, to wait for the next occurrence of a line seen before.
   */
  waitForLine(re: RegExp, timeoutMs: number, fromLine?: number): Promise<string>;
  waitForExit(timeoutMs: number): Promise<ExitInfo>;
  /** Like waitForExit, and until stdout and stderr were read to the end: every line is in. */
  waitForClose(timeoutMs: number): Promise<ExitInfo>;
  /** Sends `signal`, then SIGKILL if it has not exited after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExitInfo>;
  kill9(): Promise<ExitInfo>;
  pause(): void;
  resume(): void;
}

export interface SpawnTrackedOptions extends Omit<SpawnOptions, 'stdio' | 'detached'> {
  /** 'pipe' to write to the child's stdin. @default 'ignore' */
  stdin?: 'pipe' | 'ignore';
}

const KILL_WAIT_MS = 10_000;
const tracked = new Set<Tracked>();

function describeTail(lines: readonly string[]): string {
  return lines.slice(-20).join('\n');
}

class Tracked implements TrackedProcess {
  readonly lines: string[] = [];
  readonly errorLines: string[] = [];
  exitInfo: ExitInfo | undefined;
  private readonly exited: Promise<ExitInfo>;
  /** After exit and after stdout and stderr were read to the end: no more lines will come. */
  private readonly closed: Promise<ExitInfo>;
  private readonly lineListeners = new Set<(line: string) => void>();

  constructor(
    readonly child: ChildProcess,
    readonly pid: number,
  ) {
    const untrack = killOnExit(pid);
    if (child.stdout) readline.createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    if (child.stderr) readline.createInterface({ input: child.stderr }).on('line', (line) => this.errorLines.push(line));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        untrack();
        tracked.delete(this);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
    this.closed = new Promise((resolve) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }));
    });
  }

  private onLine(line: string): void {
    this.lines.push(line);
    for (const listener of this.lineListeners) listener(line);
  }

  waitForLine(re: RegExp, timeoutMs: number, fromLine = 0): Promise<string> {
    const earlier = this.lines.slice(fromLine).find((line) => re.test(line));
    if (earlier !== undefined) return Promise.resolve(earlier);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.lineListeners.delete(listener);
      };
      const listener = (line: string): void => {
        if (!re.test(line)) return;
        done();
        resolve(line);
      };
      const timer = setTimeout(() => {
        done();
        reject(new TimeoutError(`pid ${this.pid}: no line matching ${re} within ${timeoutMs} ms; last lines:\n${this.tail()}`));
      }, timeoutMs);
      this.lineListeners.add(listener);
      void this.closed.then((exit) => {
        if (!this.lineListeners.has(listener)) return;
        done();
        reject(new Error(`pid ${this.pid} exited (${exit.code ?? exit.signal}) before a line matched ${re}; last lines:\n${this.tail()}`));
      });
    });
  }

  private tail(): string {
    return `stdout:\n${describeTail(this.lines)}\nstderr:\n${describeTail(this.errorLines)}`;
  }

  async waitForExit(timeoutMs: number): Promise<ExitInfo> {
    const exit = await settleWithin(this.exited, timeoutMs);
    if (exit) return exit;
    throw new TimeoutError(`pid ${this.pid} did not exit within ${timeoutMs} ms; last lines:\n${this.tail()}`);
  }

  async waitForClose(timeoutMs: number): Promise<ExitInfo> {
    const closed = await settleWithin(this.closed, timeoutMs);
    if (closed) return closed;
    throw new TimeoutError(`pid ${this.pid}: stdout and stderr not closed within ${timeoutMs} ms; last lines:\n${this.tail()}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    // A paused process acts on a catchable signal only once it runs again.
    await stopProcess(this.pid, this.exited, { signal, graceMs: signal === 'SIGKILL' ? 0 : graceMs, resume: true, killWaitMs: KILL_WAIT_MS });
    return this.waitForExit(KILL_WAIT_MS);
  }

  kill9(): Promise<ExitInfo> {
    if (this.exitInfo) return Promise.resolve(this.exitInfo);
    return this.stop('SIGKILL', 0);
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.exitInfo) return;
    try {
      process.kill(this.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

/** The promise's value if it settles within `ms`, else undefined. */
export async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Spawns a child (not detached, stdout and stderr piped into lines) and resolves once it runs. */
export async function spawnTracked(command: string, args: readonly string[], options: SpawnTrackedOptions = {}): Promise<TrackedProcess> {
  const { stdin = 'ignore', ...spawnOptions } = options;
  // Without our open sessions' sockets (see lib/spawn-clean.ts).
  const child = spawnClean(command, args, { ...spawnOptions, stdio: [stdin, 'pipe', 'pipe'], detached: false });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  if (child.pid === undefined) throw new Error(`${command} started without a pid`);
  const proc = new Tracked(child, child.pid);
  tracked.add(proc);
  return proc;
}

/** SIGKILLs every tracked process still running and waits for them to exit; for an afterAll. */
export async function killAllTracked(): Promise<void> {
  await Promise.all([...tracked].map((proc) => proc.kill9()));
}

export interface WaitForOptions {
  timeoutMs: number;
  /** @default 50 */
  intervalMs?: number;
  /** What was awaited, for the TimeoutError. */
  message: string;
}

/**
 * Polls `predicate` until it holds, for conditions that have no event to await. Throws a
 * TimeoutError naming `message` after `timeoutMs`; an error thrown by the predicate propagates.
 */
export async function waitFor(predicate: () => boolean | Promise<boolean>, options: WaitForOptions): Promise<void> {
  const { timeoutMs, intervalMs = 50, message } = options;
  if (!(await pollUntil(predicate, { timeoutMs, intervalMs }))) throw new TimeoutError(`${message} (still not true after ${timeoutMs} ms)`);
}

/** The arguments of the next `name` event; rejects on an 'error' event or after `timeoutMs`. */
export function onceEvent(emitter: EventEmitter, name: string | symbol, timeoutMs: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      emitter.off(name, onEvent);
      if (name !== 'error') emitter.off('error', onError);
    };
    const onEvent = (...args: unknown[]): void => {
      cleanup();
      resolve(args);
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new TimeoutError(`no '${String(name)}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    emitter.on(name, onEvent);
    if (name !== 'error') emitter.on('error', onError);
  });
}

/** Resolves with `signal.reason` once it aborts; rejects with a TimeoutError after `timeoutMs`. */
export function abortedWithin(signal: AbortSignal, timeoutMs: number): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      reject(new TimeoutError(`signal not aborted within ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Whether `pid` still runs: only ESRCH means gone (EPERM means it exists, under another user), and
 * a zombie (exited, not yet reaped by whoever inherited it) counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  const stat = procStat(pid);
  return stat === undefined ? true : stat.state !== 'Z';
}

/** State and parent from /proc/<pid>/stat; undefined if it cannot be read (gone, or no /proc). */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return state === undefined || ppid === undefined ? undefined : { state, ppid: Number(ppid) };
}

/** Every live process below `pid` (children, grandchildren, ...), read from /proc. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (!stat || stat.state === 'Z') continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(Number(entry));
    children.set(stat.ppid, siblings);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
