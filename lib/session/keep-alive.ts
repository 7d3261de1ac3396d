/**
 * The evidence of contact every lease stands on (a request the server answered), kept fresh for one
 * ZooKeeper session (epoch) while any term needs it: one cheap read of the root every third of the
 * session timeout, for the whole session, however many terms run on it. The C client's own pings
 * are invisible to JavaScript. A thousand leaders on one shared session cost one read per T/3, not
 * a thousand; with no term held, nothing is sent.
 */
import type { Clock, ClockTimer } from '../util/clock.js';
import type { ZkHandle } from '../zk/handle.js';

export class KeepAlive {
  #holders = 0;
  #timer: ClockTimer | undefined;
  #stopped = false;

  constructor(
    readonly epoch: number,
    private readonly clock: Clock,
    private readonly timeout: () => number,
    /** The connected handle of the epoch, or undefined (disconnected, or the epoch is over). */
    private readonly live: (epoch: number) => ZkHandle | undefined,
  ) {}

  /** One more term that needs the evidence; call the result when it no longer does. */
  hold(): () => void {
    this.#holders += 1;
    if (this.#timer === undefined && !this.#stopped) this.#schedule();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holders -= 1;
      if (this.#holders === 0) this.#cancel();
    };
  }

  /** The epoch is over or the session closed. */
  stop(): void {
    this.#stopped = true;
    this.#cancel();
  }

  #schedule(): void {
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#holders === 0 || this.#stopped) return;
      this.#schedule();
      // Its reply is the evidence (the handle's lastContact); a failure shows up as state changes
      // and, failing those, as leases running out.
      this.live(this.epoch)?.exists('/').catch(() => undefined);
    }, Math.max(10, Math.floor(this.timeout() / 3)));
  }

  #cancel(): void {
    this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
