/** Parent side of the bench workers: fork, request over IPC with a deadline, and clean up by pid. */
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command, Reply } from './protocol.js';
import { killOnExit } from '../lib/testing/host-exit.js';
import { spawnClean } from '../lib/process/spawn-clean.js';
import { within } from './timing.js';

const WORKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'worker.js');
const READY_MS = 20_000;
const EXIT_MS = 5_000;

/** Every worker still alive, so that Ctrl-C can kill them (process exit is covered by killOnExit). */
const live = new Set<ChildProcess>();

let onWarning: (warning: string) => void = () => {};

/** Receives process warnings raised in any worker (the workers print nothing themselves). */
export function onWorkerWarning(listener: (warning: string) => void): void {
  onWarning = listener;
}

export function killAllWorkers(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

export class WorkerProcess {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #nextId = 1;
  #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        for (const { reject } of this.#pending.values()) reject(new Error(`worker ${child.pid} exited (${code ?? signal})`));
        this.#pending.clear();
        resolve({ code, signal });
      });
    });
    child.on('message', (message: Reply | { warning: string }) => {
      if ('warning' in message) return onWarning(message.warning);
      const pending = this.#pending.get(message.id);
      if (!pending) return;
      this.#pending.delete(message.id);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(new Error(`worker ${child.pid}: ${message.error}`));
    });
  }

  static async spawn(): Promise<WorkerProcess> {
    // Not fork(): a forked child would inherit our ZooKeeper sockets (see spawn-clean.ts).
    const child = spawnClean(process.execPath, ['--expose-gc', '--no-warnings', WORKER_SCRIPT], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    live.add(child);
    if (child.pid !== undefined) child.once('exit', killOnExit(child.pid));
    const worker = new WorkerProcess(child);
    const ready = new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
    });
    await within(ready, READY_MS, 'worker start');
    return worker;
  }

  static spawnMany(count: number): Promise<WorkerProcess[]> {
    return Promise.all(Array.from({ length: count }, () => WorkerProcess.spawn()));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  request<T>(cmd: Command, args: object = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#nextId++;
    const reply = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ id, cmd, args });
    });
    return within(reply, timeoutMs, `worker ${this.pid} ${cmd}`);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Asks the worker to close its sessions, then ends it; SIGKILL if it does not go in time. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.request('close', {}, EXIT_MS).catch(() => {});
    if (this.child.connected) this.child.disconnect();
    try {
      await within(this.exited, EXIT_MS, `worker ${this.pid} exit`);
    } catch {
      this.kill('SIGKILL');
      await this.exited;
    }
  }
}
