/**
 * How `run` renews its lease: it confirms its leadership with the ensemble (`Leadership.verify()`)
 * every T/10 while a term lasts, and at once after a reconnection. Every answer moves the lease
 * deadline forward. The library's own heartbeat (a read every T/3) leaves too little of the lease
 * for a grace period to fit before SIGKILL.
 */
import { monotonicNow } from '../../util/clock.js';
import type { Leadership } from '../../election/leadership.js';

/** Confirmations that may wait for an answer at once. */
const MAX_IN_FLIGHT = 3;

export class Confirmations {
  #inFlight = 0;
  #lastAt = -Infinity;

  /** Starts confirming every `every` ms until the term ends; `answered` runs after each reply or failure. */
  constructor(
    readonly leadership: Leadership,
    readonly every: number,
    readonly answered: () => void,
  ) {
    const timer = setInterval(() => this.confirm(), every);
    leadership.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  }

  /** Confirms now, unless disconnected (the reply would wait for the reconnection) or already asking. */
  confirm(): void {
    if (!this.leadership.isLeader || this.leadership.isSuspended) return;
    // A request lost in a partition is answered only by the next disconnection: go on confirming
    // beside it after two intervals, but never with more than a few in flight.
    if (this.#inFlight >= MAX_IN_FLIGHT || (this.#inFlight > 0 && monotonicNow() - this.#lastAt < 2 * this.every)) return;
    this.#inFlight += 1;
    this.#lastAt = monotonicNow();
    const done = (): void => {
      this.#inFlight -= 1;
      this.answered();
    };
    // A failure needs no handling of its own: a lost leadership aborts its signal, and connection
    // trouble shows as a lease that is not renewed.
    this.leadership.verify().then(done, done);
  }
}
