/**
 * The chaos test's processes: worker slots (each worker behind its own fault proxies, so that it
 * can be partitioned alone; a killed worker is replaced by a fresh one in the same slot) and the
 * monitor that lists the election. Every process is tracked by pid (spec/support/processes.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LocalEnsemble } from 'zk-election/testing';
import { startEnsembleProxies, type EnsembleProxies } from '../support/fault-proxy.js';
import { spawnTracked, type ExitInfo, type TrackedProcess } from '../support/processes.js';
import type { ListingLine, MonitorConfig, WorkerConfig, WorkerLine } from './protocol.js';

const WORKER = fileURLToPath(new URL('../../dist/spec/chaos/worker.js', import.meta.url));
const MONITOR = fileURLToPath(new URL('../../dist/spec/chaos/monitor.js', import.meta.url));
const READY_MS = 15_000;
/** How long a preferred participant waits before it takes leadership over (priority changes among the faults). */
const PREFER_AFTER_MS = 1000;
const STOP_GRACE_MS = 20_000;
const LIST_WAIT_MS = 8000;

export interface WorkerHandle {
  readonly name: string;
  readonly slot: number;
  readonly ids: readonly string[];
  readonly proc: TrackedProcess;
  readonly proxies: EnsembleProxies;
  /** Set when the test kill -9'd it. */
  killedByTest: boolean;
  /** Set when the test asked it to stop (SIGTERM). */
  stoppedByTest: boolean;
  /** Its resident set, KiB: once it is ready, and right before the test stops or kills it. */
  readonly rss: { startKiB: number | undefined; endKiB: number | undefined };
}

export interface PoolOptions {
  path: string;
  workers: number;
  participantsPerWorker: number;
  sessionTimeout: number;
  resourcePort: number;
  writeGapMs: [number, number];
  prepareMs: [number, number];
}

export class WorkerPool {
  /** Every worker ever started, in order. */
  readonly all: WorkerHandle[] = [];
  /** The current worker of each slot. */
  readonly current: WorkerHandle[] = [];
  readonly #generations: number[] = [];
  readonly #byId = new Map<string, WorkerHandle>();

  constructor(
    private readonly ensemble: LocalEnsemble,
    private readonly options: PoolOptions,
  ) {}

  async startAll(): Promise<void> {
    for (let slot = 0; slot < this.options.workers; slot += 1) await this.start(slot);
  }

  /** A fresh worker in `slot`, behind fresh proxies; resolves once it runs. `priorities` by participant index. */
  async start(slot: number, priorities: number[] = []): Promise<WorkerHandle> {
    const generation = (this.#generations[slot] ?? 0) + 1;
    this.#generations[slot] = generation;
    const name = `w${slot}.${generation}`;
    const ids = Array.from({ length: this.options.participantsPerWorker }, (_, k) => `${name}-p${k}`);
    const proxies = await startEnsembleProxies(this.ensemble);
    const config: WorkerConfig = {
      worker: name,
      connect: proxies.connectString,
      path: this.options.path,
      ids,
      sessionTimeout: this.options.sessionTimeout,
      resourcePort: this.options.resourcePort,
      writeGapMs: this.options.writeGapMs,
      prepareMs: this.options.prepareMs,
      priorities: Object.fromEntries(ids.map((id, k) => [id, priorities[k] ?? 0])),
      preferAfterMs: PREFER_AFTER_MS,
    };
    const proc = await spawnTracked(process.execPath, [WORKER, JSON.stringify(config)]);
    const handle: WorkerHandle = { name, slot, ids, proc, proxies, killedByTest: false, stoppedByTest: false, rss: { startKiB: undefined, endKiB: undefined } };
    this.all.push(handle);
    this.current[slot] = handle;
    for (const id of ids) this.#byId.set(id, handle);
    await proc.waitForLine(/"event":"ready"/, READY_MS);
    handle.rss.startKiB = residentKiB(proc.pid);
    return handle;
  }

  workerOf(id: string | undefined): WorkerHandle | undefined {
    return id === undefined ? undefined : this.#byId.get(id);
  }

  /** Ids of the participants that should be in the election now. */
  expectedIds(): string[] {
    return this.current.filter((w) => w.proc.exitInfo === undefined).flatMap((w) => w.ids);
  }

  /** Current workers that exited without the test killing or stopping them. */
  crashed(): WorkerHandle[] {
    return this.current.filter((w) => w.proc.exitInfo !== undefined && !w.killedByTest && !w.stoppedByTest);
  }

  async kill9(worker: WorkerHandle): Promise<void> {
    worker.killedByTest = true;
    if (worker.proc.exitInfo === undefined) worker.rss.endKiB = residentKiB(worker.proc.pid);
    await worker.proc.kill9();
  }

  /** Replaces a dead worker of `slot`; its proxies go with it. */
  async replace(slot: number): Promise<WorkerHandle> {
    const old = this.current[slot];
    if (old) {
      if (old.proc.exitInfo === undefined) await this.kill9(old);
      await old.proxies.close();
    }
    return this.start(slot);
  }

  /** Restarts a live worker gracefully (SIGTERM: it resigns) with new priorities for its participants. */
  async restart(worker: WorkerHandle, priorities: number[]): Promise<WorkerHandle> {
    worker.stoppedByTest = true;
    await worker.proc.stop('SIGTERM', STOP_GRACE_MS);
    await worker.proxies.close();
    return this.start(worker.slot, priorities);
  }

  /** SIGTERM (and SIGCONT) to every live worker, in parallel; SIGKILL after a grace period. */
  async stopAll(): Promise<Array<{ worker: WorkerHandle; exit: ExitInfo }>> {
    const live = this.current.filter((w) => w.proc.exitInfo === undefined);
    for (const worker of live) {
      worker.stoppedByTest = true;
      worker.rss.endKiB = residentKiB(worker.proc.pid);
    }
    return Promise.all(live.map(async (worker) => ({ worker, exit: await worker.proc.stop('SIGTERM', STOP_GRACE_MS) })));
  }

  async closeProxies(): Promise<void> {
    await Promise.allSettled(this.all.map((w) => w.proxies.close()));
  }

  /** Every JSON line of every worker, with the worker's name. */
  lines(): WorkerLine[] {
    return this.all.flatMap((w) => w.proc.lines.flatMap((line) => parseLine(line)));
  }
}

/** VmRSS of a live process, KiB; undefined once it is gone. */
function residentKiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function parseLine(line: string): WorkerLine[] {
  try {
    const parsed = JSON.parse(line) as WorkerLine;
    return typeof parsed === 'object' && parsed !== null && 'event' in parsed ? [parsed] : [];
  } catch {
    return [{ event: 'error', worker: '?', kind: 'garbled-line', message: line.slice(0, 200), at: 0 }];
  }
}

/** The monitor process: lists the election's participants on request. */
export class Monitor {
  #n = 0;

  private constructor(readonly proc: TrackedProcess) {}

  static async start(config: MonitorConfig): Promise<Monitor> {
    const proc = await spawnTracked(process.execPath, [MONITOR, JSON.stringify(config)], { stdin: 'pipe' });
    // A write after the monitor died would emit EPIPE on stdin; list() then times out instead.
    proc.child.stdin?.on('error', () => {});
    await proc.waitForLine(/"event":"ready"/, READY_MS);
    return new Monitor(proc);
  }

  /** Participant ids in election order; throws when ZooKeeper did not answer in time. */
  async list(): Promise<string[]> {
    const n = (this.#n += 1);
    this.proc.child.stdin?.write(`list ${n}\n`);
    const reply = JSON.parse(await this.proc.waitForLine(new RegExp(`"event":"listing","n":${n}[,}]`), LIST_WAIT_MS)) as ListingLine;
    if (reply.ids === undefined) throw new Error(`listing failed: ${reply.error ?? 'no ids'}`);
    return reply.ids;
  }

  async stop(): Promise<void> {
    this.proc.child.stdin?.end();
    await this.proc.stop('SIGTERM', 5000);
  }
}
