/**
 * A monotonic clock that moves only when told to: lease deadlines, heartbeats and term timers of
 * a Session built with `clock: new ManualClock()` fire exactly when a test advances time past
 * them, in deadline order. Pass it to MemoryZooKeeper's sessions for deterministic lease tests.
 */
import type { Clock, ClockTimer } from '../../util/clock.js';

interface Pending {
  at: number;
  order: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  #now: number;
  #order = 0;
  readonly #timers = new Set<Pending>();

  constructor(start = 1_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer: Pending = { at: this.#now + Math.max(0, ms), order: (this.#order += 1), fn };
    this.#timers.add(timer);
    return timer as unknown as ClockTimer;
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (timer !== undefined) this.#timers.delete(timer as unknown as Pending);
  }

  /** Timers not yet fired. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms` without firing anything, as a process stopped by SIGSTOP or a long
   * GC pause sees it: the timers that fell due meanwhile fire at the next `advance()`, late.
   */
  jump(ms: number): void {
    this.#now += ms;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      const next = [...this.#timers].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
  }
}
