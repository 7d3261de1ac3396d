/**
 * The seeded side of the chaos test: a small PRNG (mulberry32) and the order of faults. The same
 * seed gives the same choices (kinds, targets, durations); the timing of the processes does not
 * replay, so a replay reproduces the schedule, not every interleaving.
 */

export const FAULT_KINDS = ['kill-worker', 'pause-worker', 'partition-worker', 'kill-zk-server', 'quorum-loss', 'handoff', 'priority-change'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export class Random {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max), rounded to a whole millisecond. */
  between(min: number, max: number): number {
    return Math.round(min + this.next() * (max - min));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** A seed from CHAOS_SEED, or a fresh one. */
export function chooseSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.CHAOS_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`CHAOS_SEED must be an integer in [0, 2^32), got ${given}`);
    return seed;
  }
  return Math.floor(Math.random() * 0x100000000);
}

/**
 * Fault kinds in rounds: each round is a shuffled permutation of all kinds, so that even a short
 * run meets every kind once in its first five faults.
 */
export class FaultPlan {
  #round: FaultKind[] = [];

  constructor(private readonly random: Random) {}

  next(): FaultKind {
    if (this.#round.length === 0) this.#round = this.random.shuffle(FAULT_KINDS);
    return this.#round.shift()!;
  }
}
