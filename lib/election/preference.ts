/**
 * Priority: a waiting candidate of a strictly higher priority than the leader's takes leadership
 * over, once it has waited `preferAfter` ms, through the handoff every operator uses
 * (lib/observe/handoff.ts): so nobody else leads in between and the others keep their order.
 *
 * Who acts: only the best waiting candidate, the highest priority and among equals the one ahead
 * in the queue; the others leave it to that one, so leadership moves once, not once per preferred
 * candidate. Waiting counts from the placement of its current node: a candidate that keeps
 * restarting (flapping) never waits long enough to drag leadership to itself and back. Equal
 * priorities never move leadership, so with the default (0 everywhere) none of this runs.
 *
 * What it costs: a candidate of priority 0 does nothing at all. One of a higher priority reads the
 * leader's node once per leader change and keeps a data watch on it (that is how it learns of a
 * failover that did not touch its own predecessor); when it acts it reads every participant once.
 */
import { isZkElectionError } from '../errors.js';
import { readParticipants } from '../observe/list-participants.js';
import { requestStepDown } from '../observe/request-step-down.js';
import type { Session } from '../session/session.js';
import type { ClockTimer } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import type { Watcher, ZkHandle } from '../zk/handle.js';
import { childPath } from '../zk/paths.js';
import { parsePayload, priorityOf } from '../znode/payload.js';
import { sortCandidates } from '../znode/recipe.js';

export interface PreferenceHost {
  session: Session;
  path: string;
  id: string;
  priority: number;
  preferAfter: number;
  logger: Logger;
  /** The election's stop. */
  signal: AbortSignal;
  /** Our node and when it was placed, while we hold one. */
  candidate(): { node: string; placedAt: number } | undefined;
}

/** How long taking over may take at most (requeues of every other candidate, then a step-down), ms. */
const TAKEOVER_TIMEOUT_MS = 60_000;

export class Preference {
  readonly #host: PreferenceHost;
  /** The leader's node we watch. */
  #leader: string | undefined;
  #timer: ClockTimer | undefined;
  #acting = false;
  /** The watch on the leader's node, taken back on stop(): the handle would otherwise keep this object until the leader changes. */
  #watch: { handle: ZkHandle; watcher: Watcher } | undefined;

  constructor(host: PreferenceHost) {
    this.#host = host;
  }

  /** A new standing (every `waiting` event): follow the leader it names. */
  waiting(leaderName: string): void {
    void this.#follow(childPath(this.#host.path, leaderName));
  }

  stop(): void {
    this.#cancel();
    this.#leader = undefined;
    this.#unwatch();
  }

  #unwatch(): void {
    this.#watch?.handle.unwatch?.(this.#watch.watcher);
    this.#watch = undefined;
  }

  /** Reads the leader's priority with a data watch on its node; a lower one than ours starts the wait. */
  async #follow(leader: string): Promise<void> {
    const { session, signal, priority } = this.#host;
    if (signal.aborted || leader === this.#leader) return;
    this.#leader = leader;
    this.#cancel();
    this.#unwatch();
    const watcher: Watcher = () => this.#leaderChanged(leader);
    try {
      const { data } = await session.retrying(
        'read the leader\'s priority',
        (handle) => {
          this.#watch = { handle, watcher };
          return handle.get(leader, watcher);
        },
        { signal },
      );
      if (this.#leader !== leader) return;
      if (priorityOf(parsePayload(data)) < priority) this.#schedule();
    } catch (error) {
      if (isZkElectionError(error, 'NO_NODE')) this.#leaderChanged(leader);
      else if (!signal.aborted) this.#host.logger.debug('could not read the leader\'s priority', { error: (error as Error).message });
    }
  }

  /** The leader we watched changed or left: find the one now. */
  #leaderChanged(leader: string): void {
    if (this.#leader !== leader) return;
    this.#leader = undefined;
    this.#cancel();
    const { session, path, signal } = this.#host;
    if (signal.aborted) return;
    session.retrying('list candidates', (handle) => handle.getChildren(path), { signal }).then(
      (children) => {
        const lowest = sortCandidates(children).candidates[0];
        const ours = this.#host.candidate();
        if (lowest && childPath(path, lowest.name) !== ours?.node) void this.#follow(childPath(path, lowest.name));
      },
      () => undefined,
    );
  }

  #schedule(): void {
    const placed = this.#host.candidate();
    if (this.#timer !== undefined || !placed) return;
    const clock = this.#host.session.clock;
    const due = placed.placedAt + this.#host.preferAfter - clock.now();
    this.#timer = clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#takeOver();
    }, Math.max(0, due));
  }

  #cancel(): void {
    this.#host.session.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Settled and preferred: hands leadership to ourselves, unless somebody better waits. */
  async #takeOver(): Promise<void> {
    const { session, path, signal, id, priority, logger } = this.#host;
    const ours = this.#host.candidate()?.node;
    if (this.#acting || signal.aborted || ours === undefined) return;
    this.#acting = true;
    try {
      const participants = await session.retrying('read participants', (handle) => readParticipants(handle, path), { signal });
      const [leader, ...waiting] = participants;
      if (!leader || leader.node === ours || leader.priority >= priority) return;
      // The best waiting candidate goes first: the highest priority, the one ahead among equals.
      const best = waiting.reduce((a, b) => (b.priority > a.priority ? b : a), waiting[0]!);
      if (best.node !== ours) return;
      logger.info('taking leadership over as the preferred candidate', { priority, leader: leader.id, leaderPriority: leader.priority });
      await requestStepDown(path, { connect: session, to: id, by: `${id} (priority ${priority})`, signal, timeout: TAKEOVER_TIMEOUT_MS });
    } catch (error) {
      if (!signal.aborted) logger.warn('taking leadership over failed', { error: (error as Error).message });
    } finally {
      this.#acting = false;
    }
  }
}
