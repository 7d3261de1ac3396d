/**
 * Figures 12 and 13 (issue 12): how soon observers (observeLeader) see a new leader, and how long
 * a step-down takes. Three candidates of one election, each on its own session, live in one
 * worker process; ten observers, each on its own session, in another; the operator asking for a
 * step-down is the bench itself (library) or a fresh `zk-election step-down` process (CLI).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requestStepDown, Session } from '../lib/index.js';
import { runToExit } from './child-run.js';
import type { GroupStatus, ObservedValue } from './protocol.js';
import { hrNow, until } from './timing.js';
import { WorkerProcess } from './workers.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'cli', 'main.js');
const CHANGE_MS = 15_000;
const CLI_MS = 60_000;
const CANDIDATES = 3;
const POLL_MS = 2;

export interface ObserverSamples {
  /** The leader's resign() called -> each observer yielded the new leader (one sample per observer and change). */
  latencies: number[];
  /** The leader's resign() called -> the successor's `elected`. */
  elected: number[];
  /** Values an observer yielded beyond one per change (0 expected). */
  extraValues: number;
}

export interface StepDownSamples {
  /** requestStepDown() called -> resolved with the next leader, on the bench's open session. */
  library: number[];
  /** requestStepDown() called -> the successor's `elected`. */
  elected: number[];
  /** `zk-election step-down <path>` spawned -> exited 0 (node start and connect included). */
  cli: number[];
}

/** Three candidates in one worker and, once asked, observers in another; closed together. */
export class ObservedElection {
  #observers: WorkerProcess | undefined;

  private constructor(
    readonly connect: string,
    readonly path: string,
    readonly candidates: WorkerProcess,
  ) {}

  static async start(connect: string, path: string): Promise<ObservedElection> {
    const candidates = await WorkerProcess.spawn();
    const election = new ObservedElection(connect, path, candidates);
    try {
      await candidates.request('groupJoin', { group: 'cand', connect, paths: Array.from({ length: CANDIDATES }, () => path), shared: false });
    } catch (error) {
      await election.close();
      throw error;
    }
    return election;
  }

  status(): Promise<GroupStatus> {
    return this.candidates.request<GroupStatus>('groupStatus', { group: 'cand' });
  }

  /** Resolves with the time of the next `elected` after `since` among the candidates. */
  async electedAfter(since: number): Promise<number> {
    let elected = Number.NaN;
    await until(
      async () => {
        const status = await this.status();
        elected = status.lastElectedAt;
        return status.leading === 1 && elected > since;
      },
      CHANGE_MS,
      `a new leader of ${this.path}`,
      POLL_MS,
    );
    return elected;
  }

  /** Leader changes by resign() (the old leader requeues at the back), seen by `count` observers. */
  async observerLatency(count: number, changes: number, warmup: number): Promise<ObserverSamples> {
    this.#observers ??= await WorkerProcess.spawn();
    const observers = this.#observers;
    await observers.request('observe', { group: 'obs', connect: this.connect, paths: Array.from({ length: count }, () => this.path), shared: false });
    const samples: ObserverSamples = { latencies: [], elected: [], extraValues: 0 };
    for (let i = 0; i < warmup + changes; i += 1) {
      const before = await observers.request<ObservedValue[]>('observed', { group: 'obs' });
      const { at } = await this.candidates.request<{ at: number }>('groupResign', { group: 'cand', indices: Array.from({ length: CANDIDATES }, (_, k) => k) });
      const after = await this.#allMoved(observers, before);
      const elected = await this.electedAfter(at);
      if (i < warmup) continue;
      samples.latencies.push(...after.map((o) => o.at - at));
      samples.elected.push(elected - at);
      samples.extraValues += after.reduce((sum, o, k) => sum + Math.max(0, o.values - before[k]!.values - 1), 0);
    }
    await observers.request('observeStop', { group: 'obs' });
    return samples;
  }

  /** Waits until every observer's value names another node than before; returns their values. */
  async #allMoved(observers: WorkerProcess, before: ObservedValue[]): Promise<ObservedValue[]> {
    let now: ObservedValue[] = [];
    await until(
      async () => (now = await observers.request<ObservedValue[]>('observed', { group: 'obs' })).every((o, k) => o.node !== undefined && o.node !== before[k]?.node),
      CHANGE_MS,
      `every observer of ${this.path} seeing a new leader`,
      POLL_MS,
    );
    return now;
  }

  /** Step-downs through the library on an open session, then through the CLI in a fresh process. */
  async stepDowns(libraryTrials: number, cliTrials: number): Promise<StepDownSamples> {
    const samples: StepDownSamples = { library: [], elected: [], cli: [] };
    const session = await Session.connect({ connect: this.connect });
    try {
      for (let i = 0; i < libraryTrials; i += 1) {
        await this.electedAfter(-Infinity);
        const start = hrNow();
        await requestStepDown(this.path, { connect: session, timeout: CHANGE_MS });
        samples.library.push(hrNow() - start);
        samples.elected.push((await this.electedAfter(start)) - start);
      }
    } finally {
      await session.close();
    }
    for (let i = 0; i < cliTrials; i += 1) {
      await this.electedAfter(-Infinity);
      samples.cli.push(await this.#cliStepDown());
    }
    return samples;
  }

  async #cliStepDown(): Promise<number> {
    const args = [CLI, 'step-down', this.path, '--connect', this.connect, '--timeout', String(CHANGE_MS)];
    return (await runToExit(process.execPath, args, { timeoutMs: CLI_MS, what: 'zk-election step-down' })).wallMs;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.candidates.close(), this.#observers?.close()]);
  }
}
