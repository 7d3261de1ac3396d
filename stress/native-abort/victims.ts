/**
 * The victim processes of the native-abort stress run: one slot each, paused past the session
 * timeout and resumed in a loop of its own. A victim that dies on its own is reported (its stderr
 * written to a file) and replaced by a fresh one in the same slot.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sleep } from '../../lib/process/wait.js';
import type { Random } from '../../spec/chaos/schedule.js';
import { spawnTracked, type TrackedProcess } from '../../spec/support/processes.js';
import type { VictimConfig, VictimStats } from './protocol.js';

const READY_MS = 30_000;
const STOP_GRACE_MS = 15_000;
/** How long after a victim's exit its stderr pipe may take to close (all its lines read), ms. */
const CLOSE_MS = 5000;
/** How long a victim runs between two pauses, ms. */
const RUN_MS: [number, number] = [700, 2500];
/** How far past the session timeout a pause lasts, ms. */
const PAST_TIMEOUT_MS: [number, number] = [200, 1500];
/** Sets an unlimited core size, then execs the victim: a crash leaves a core in its directory. */
const WITH_CORES = 'ulimit -c unlimited 2>/dev/null; exec "$0" "$@"';
/**
 * A victim whose resident memory passes this is aborted (SIGABRT, so that it leaves a core).
 * uv_poll_start on an uninitialised handle is undefined behaviour: it crashed at once in every case
 * seen here, but it could as well corrupt the loop and run on; this keeps such a victim from eating
 * a shared machine, and counts it.
 */
const RSS_LIMIT_BYTES = 1024 ** 3;
const PAGE_BYTES = 4096;

export interface Death {
  name: string;
  pid: number;
  dir: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Cycles of every victim so far when this death was noticed. */
  cycle: number;
  /** Cycles this victim went through. */
  victimCycles: number;
  msSinceResume: number;
  /** Set when the watchdog aborted it for its memory: its resident size then, bytes. */
  runawayRss?: number;
  stderrFile: string;
  stderrTail: string[];
}

export interface VictimsOptions {
  script: string;
  /** Each victim works in `<dir>/<name>`. */
  dir: string;
  victim: Omit<VictimConfig, 'name'>;
  random: Random;
  onDeath(death: Death): Promise<void>;
}

interface Victim {
  name: string;
  dir: string;
  proc: TrackedProcess;
  cycles: number;
  resumedAt: number;
  stopping: boolean;
  runawayRss?: number;
}

export class Victims {
  cycles = 0;
  serverFaults = 0;
  readonly #slots: Victim[] = [];
  readonly #retired: Victim[] = [];
  readonly #generations: number[] = [];

  readonly #watchdog = setInterval(() => this.#watch(), 1000);

  constructor(private readonly options: VictimsOptions) {}

  async startAll(count: number): Promise<void> {
    for (let slot = 0; slot < count; slot += 1) this.#slots[slot] = await this.#start(slot);
  }

  /** Every slot's pause loop, until `enough()`. */
  async run(enough: () => boolean): Promise<void> {
    await Promise.all(this.#slots.map((_, slot) => this.#loop(slot, enough)));
  }

  /** SIGTERM to every victim (SIGKILL after a grace period). */
  async stopAll(): Promise<void> {
    clearInterval(this.#watchdog);
    await Promise.all(this.#slots.map(async (victim) => {
      victim.stopping = true;
      await victim.proc.stop('SIGTERM', STOP_GRACE_MS);
    }));
  }

  /** The victims' session counters, summed over every victim that ever ran. */
  totals(): VictimStats {
    const sum: VictimStats = { connected: 0, suspended: 0, expired: 0, buried: 0, churned: 0, errors: 0 };
    for (const victim of [...this.#retired, ...this.#slots]) {
      const last = lastStats(victim.proc);
      if (!last) continue;
      for (const key of Object.keys(sum) as Array<keyof VictimStats>) sum[key] += last[key];
    }
    return sum;
  }

  /** Aborts a victim that is running away with memory (see RSS_LIMIT_BYTES). */
  #watch(): void {
    for (const victim of this.#slots) {
      if (!victim || victim.proc.exitInfo || victim.runawayRss !== undefined) continue;
      const rss = residentBytes(victim.proc.pid);
      if (rss === undefined || rss < RSS_LIMIT_BYTES) continue;
      victim.runawayRss = rss;
      process.kill(victim.proc.pid, 'SIGABRT');
      process.kill(victim.proc.pid, 'SIGCONT');
    }
  }

  async #start(slot: number): Promise<Victim> {
    const generation = (this.#generations[slot] ?? 0) + 1;
    this.#generations[slot] = generation;
    const name = `v${slot}.${generation}`;
    const dir = path.join(this.options.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    const config: VictimConfig = { ...this.options.victim, name };
    const proc = await spawnTracked('/bin/bash', ['-c', WITH_CORES, process.execPath, this.options.script, JSON.stringify(config)], { cwd: dir });
    await proc.waitForLine(/"event":"ready"/, READY_MS);
    return { name, dir, proc, cycles: 0, resumedAt: performance.now(), stopping: false };
  }

  async #loop(slot: number, enough: () => boolean): Promise<void> {
    const { random } = this.options;
    while (!enough()) {
      await sleep(random.between(...RUN_MS));
      if (await this.#replaceIfDead(slot)) continue;
      if (enough()) return;
      const victim = this.#slots[slot]!;
      victim.proc.pause();
      await sleep(this.options.victim.sessionTimeout + random.between(...PAST_TIMEOUT_MS));
      victim.proc.resume();
      victim.resumedAt = performance.now();
      victim.cycles += 1;
      this.cycles += 1;
    }
    await sleep(RUN_MS[1]);
    await this.#replaceIfDead(slot);
  }

  async #replaceIfDead(slot: number): Promise<boolean> {
    const victim = this.#slots[slot]!;
    const exit = victim.proc.exitInfo;
    if (!exit || victim.stopping) return false;
    // stderr is read through a pipe: its last lines are in once the child's stdio has closed.
    const complete = await victim.proc.waitForClose(CLOSE_MS).then(
      () => true,
      () => false,
    );
    const stderrFile = path.join(this.options.dir, `${victim.name}.stderr`);
    const incomplete = complete ? '' : `(stderr still open ${CLOSE_MS} ms after the exit: its last lines may be missing)\n`;
    fs.writeFileSync(stderrFile, victim.proc.errorLines.join('\n') + '\n' + incomplete);
    await this.options.onDeath({
      name: victim.name,
      pid: victim.proc.pid,
      dir: victim.dir,
      code: exit.code,
      signal: exit.signal,
      cycle: this.cycles,
      victimCycles: victim.cycles,
      msSinceResume: performance.now() - victim.resumedAt,
      ...(victim.runawayRss === undefined ? {} : { runawayRss: victim.runawayRss }),
      stderrFile,
      stderrTail: victim.proc.errorLines.slice(-10),
    });
    this.#retired.push(victim);
    this.#slots[slot] = await this.#start(slot);
    return true;
  }
}

function residentBytes(pid: number): number | undefined {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE_BYTES;
  } catch {
    return undefined;
  }
}

function lastStats(proc: TrackedProcess): VictimStats | undefined {
  for (let i = proc.lines.length - 1; i >= 0; i -= 1) {
    try {
      const line = JSON.parse(proc.lines[i]!) as { event?: string } & VictimStats;
      if (line.event === 'stats') return line;
    } catch {
      // Not a JSON line: skip it.
    }
  }
  return undefined;
}
