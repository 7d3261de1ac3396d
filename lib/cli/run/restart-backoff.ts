/**
 * How `zk-election run` restarts a command that exits while it leads, pure (no timers).
 *
 * A command that exits is restarted within the same term, at once after a run of at least
 * {@link QUICK_RUN_MS}; after a quick exit (whatever its status: a long-running service that ends
 * at once is broken) it waits `--restart-delay`, doubled for each quick exit in a row, up to
 * `--restart-max-delay`. Without this, a command that cannot start (`/no/such/cmd`) cost a term, a
 * create and a delete in ZooKeeper every few milliseconds.
 *
 * After {@link HAND_ON_AFTER} quick exits in a row in one term the term is handed on: `run` resigns
 * and rejoins at the back of the queue, so that another candidate, on another host with perhaps a
 * working copy of the command, gets to try. Alone in the election it is elected again at once, and
 * starts the command only after the (still growing, capped) delay: one attempt per
 * `--restart-max-delay` at worst, and one term per {@link HAND_ON_AFTER} attempts.
 */

/** A run shorter than this counts as a quick exit. */
export const QUICK_RUN_MS = 10_000;
/** Quick exits in a row, in one term, after which the term is handed on. */
export const HAND_ON_AFTER = 5;

export interface RestartPlan {
  /** Quick exits in a row so far (0 after a run of at least QUICK_RUN_MS). */
  quickExits: number;
  /** How long to wait before the next start, ms. */
  delayMs: number;
  /** Resign and rejoin behind instead of restarting in this term. */
  handOn: boolean;
}

export class RestartBackoff {
  #quickInARow = 0;
  #quickThisTerm = 0;
  #term: object | undefined;
  #restarts = 0;
  #exited = false;

  constructor(
    readonly firstDelay: number,
    readonly maxDelay: number,
  ) {}

  /** Starts of the command that followed an exit of its own. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The wait before the next start: 0 unless the last exits were quick. */
  get delayMs(): number {
    return this.#quickInARow === 0 ? 0 : Math.min(this.maxDelay, this.firstDelay * 2 ** (this.#quickInARow - 1));
  }

  /** The command of `term` (its Leadership) exited by itself after `ranMs`. */
  exited(ranMs: number, term: object): RestartPlan {
    this.#exited = true;
    if (term !== this.#term) {
      this.#term = term;
      this.#quickThisTerm = 0;
    }
    const quick = ranMs < QUICK_RUN_MS;
    this.#quickInARow = quick ? this.#quickInARow + 1 : 0;
    this.#quickThisTerm = quick ? this.#quickThisTerm + 1 : 0;
    return { quickExits: this.#quickInARow, delayMs: this.delayMs, handOn: this.#quickThisTerm >= HAND_ON_AFTER };
  }

  /**
   * The command is starting: returns true (and counts a restart) when it follows an exit of its
   * own, false for a first start or one after a term that ended for another reason.
   */
  starting(): boolean {
    if (!this.#exited) return false;
    this.#exited = false;
    this.#restarts += 1;
    return true;
  }

  /** The command was stopped by us (a lost term, a step-down): its next start is no restart. */
  stopped(): void {
    this.#exited = false;
  }
}
