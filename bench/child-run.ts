/**
 * The bench's one way to run a command to its end (the CLI's figures, lean's node processes):
 * spawned clean (no inherited ZooKeeper sockets, see lib/spawn-clean.ts) in a process group of its
 * own, SIGKILLed with the whole group through stopProcess once past its bound, and killed on the
 * bench's exit while it runs. Long-lived workers are workers.ts's.
 */
import type { ChildProcess } from 'node:child_process';
import { killOnExit } from '../lib/testing/host-exit.js';
import { spawnClean, stopProcess } from '../lib/process/spawn-clean.js';
import { now, within } from './timing.js';

export interface ChildRun {
  /** The spawn call returned -> the child exited and its output closed, ms. */
  wallMs: number;
  stdout: string;
  stderr: string;
}

export interface ChildRunOptions {
  /** The bound: past it the child's group is killed and the run rejects with a BenchTimeoutError. */
  timeoutMs: number;
  /** Names the run in errors. */
  what: string;
  /** Called once the child is spawned (to sample it while it runs); what it returns is called at the end. */
  whileRunning?: (child: ChildProcess) => () => void;
}

/** Runs `file args` to its exit; rejects unless it exits with status 0 (the tail of its stderr then in the message). */
export async function runToExit(file: string, args: readonly string[], options: ChildRunOptions): Promise<ChildRun> {
  const child = spawnClean(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const start = now();
  if (child.pid !== undefined) child.once('exit', killOnExit(child.pid));
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve, reject) => {
    child.once('close', (code, signal) => resolve({ code, signal, at: now() }));
    child.once('error', reject);
  });
  const stopSampling = options.whileRunning?.(child);
  try {
    const { code, signal, at } = await within(closed, options.timeoutMs, options.what).catch(async (error: unknown) => {
      if (child.pid !== undefined) await stopProcess(child.pid, closed, { graceMs: 0, group: true });
      throw error;
    });
    const stderr = Buffer.concat(err).toString('utf8');
    if (code !== 0) throw new Error(`${options.what} exited with ${code ?? signal}: ${stderr.slice(-500)}`);
    return { wallMs: at - start, stdout: Buffer.concat(out).toString('utf8'), stderr };
  } finally {
    stopSampling?.();
  }
}
