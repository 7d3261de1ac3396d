/**
 * A Leadership is one term of leading: it holds the fencing token, an AbortSignal that fires the
 * moment leadership is lost or can no longer be trusted, and a local lease.
 *
 * The lease: while disconnected, a leader cannot know whether its session still lives, so it trusts
 * leadership only until `expiresAt` = (latest send time of a request the server answered) + the
 * negotiated session timeout - a margin, on the monotonic clock. The server cannot have expired the
 * session before that moment, because it had heard from us at or after the send time. The C client's
 * pings are invisible to JavaScript, so a leader reads its own node every third of the session
 * timeout to keep fresh evidence of contact (and to notice its node being deleted).
 */
import { monotonicNow } from './clock.js';
import { LeadershipLostError, type LostReason } from './errors.js';
import type { Logger } from './logger.js';
import { baseName, standingOf } from './recipe.js';
import type { Session, SessionState } from './session.js';
import type { ZkClient } from './zk-client.js';

/** What to do while disconnected. */
export type SuspendedPolicy = 'lease' | 'strict';

export interface LeadershipInit {
  id: string;
  parent: string;
  node: string;
  sequence: number;
  token: bigint;
  term: number;
  session: Session;
  client: ZkClient;
  leaseMargin: number;
  suspendedPolicy: SuspendedPolicy;
  logger: Logger;
  /** Called once when the term ends, after `signal` has aborted. */
  onLost: (leadership: Leadership, error: LeadershipLostError) => void;
  /** Gives up the node; resolves once the successor can proceed. */
  release: (leadership: Leadership) => Promise<void>;
  /** Suspension events for the election. */
  onSuspendedChange?: (leadership: Leadership, suspended: boolean) => void;
}

export class Leadership {
  /** This participant's id. */
  readonly id: string;
  /** Full path of our candidate node. */
  readonly node: string;
  readonly sequence: number;
  /**
   * The fencing token: the candidate node's czxid. It strictly increases from one leader to the
   * next; pass it with every side effect and have the resource reject tokens lower than the
   * highest it has seen.
   */
  readonly token: bigint;
  /** Counts terms within one Election, so listeners can spot stale notifications. */
  readonly term: number;
  readonly #init: LeadershipInit;
  readonly #controller = new AbortController();
  #leaseTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #suspended = false;
  #released: Promise<void> | undefined;
  readonly #onSessionState = (state: SessionState): void => this.#sessionChanged(state);

  /** Made by Election when a term starts. @internal */
  constructor(init: LeadershipInit) {
    this.#init = init;
    this.id = init.id;
    this.node = init.node;
    this.sequence = init.sequence;
    this.token = init.token;
    this.term = init.term;
    init.session.on('state', this.#onSessionState);
    this.#scheduleLease();
    this.#scheduleHeartbeat();
  }

  /**
   * Called by the election once it holds this term, so that a loss right away reaches it: claimed
   * while already disconnected (possible between the read and now), the policy applies at once.
   * @internal
   */
  begin(): void {
    if (!this.#init.session.isConnected) this.#sessionChanged(this.#init.session.state);
  }

  /** Aborted when leadership is lost or can no longer be trusted; `reason` is a LeadershipLostError. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  /** False once the signal has aborted. */
  get isLeader(): boolean {
    return !this.#controller.signal.aborted;
  }
  /** True while disconnected and trusting the lease. */
  get isSuspended(): boolean {
    return this.#suspended && this.isLeader;
  }
  /** Monotonic deadline (on `performance.now()`'s clock) until which leadership may be trusted. */
  get expiresAt(): number {
    if (!this.isLeader) return -Infinity;
    return this.#init.client.lastContact + this.#init.session.negotiatedTimeout - this.#init.leaseMargin;
  }

  /**
   * Synchronous and cheap: call it right before every side effect. False once the signal aborted
   * or the lease ran out, even if no timer or event has told us yet (say, after a SIGSTOP).
   */
  isValid(): boolean {
    return this.isLeader && monotonicNow() < this.expiresAt;
  }

  /** Confirms with the ensemble: sync, then our node is present and lowest. Throws LeadershipLostError. */
  async verify(): Promise<void> {
    this.#throwIfLost();
    const { client, parent } = this.#init;
    try {
      await client.sync(parent);
      const children = await client.getChildren(parent);
      if (standingOf(children, baseName(this.node)).kind !== 'leader') {
        this.lose('node-deleted', 'verify: our node is no longer the lowest');
      }
    } catch (error) {
      if (this.isLeader && (error as { code?: string }).code === 'NO_NODE') this.lose('node-deleted', 'verify: election node is gone');
      this.#throwIfLost();
      throw error;
    }
    this.#throwIfLost();
  }

  /** Gives up leadership and deletes the node so the successor takes over at once. Idempotent. */
  resign(): Promise<void> {
    this.lose('resigned');
    this.#released ??= this.#init.release(this);
    return this.#released;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.resign();
  }

  /** Ends the term (idempotent): aborts the signal with a LeadershipLostError. */
  lose(reason: LostReason, detail?: string): void {
    if (!this.isLeader) return;
    this.#stopTimers();
    this.#init.session.off('state', this.#onSessionState);
    const error = new LeadershipLostError(reason, detail);
    this.#init.logger.info('leadership lost', { reason, detail, token: this.token.toString(), term: this.term });
    this.#controller.abort(error);
    this.#init.onLost(this, error);
  }

  #throwIfLost(): void {
    if (!this.isLeader) throw this.signal.reason as LeadershipLostError;
  }

  #sessionChanged(state: SessionState): void {
    if (!this.isLeader) return;
    if (this.#init.session.current !== this.#init.client) {
      this.lose('session-expired', 'the session that claimed leadership is gone');
    } else if (state === 'suspended') {
      if (this.#init.suspendedPolicy === 'strict') return this.lose('connection-suspended', 'strict policy');
      this.#suspended = true;
      this.#init.logger.warn('leadership suspended: disconnected, trusting the lease', { remainingMs: Math.round(this.expiresAt - monotonicNow()) });
      this.#init.onSuspendedChange?.(this, true);
    } else if (state === 'reconnected' || state === 'connected') {
      if (!this.#suspended) return;
      this.#suspended = false;
      this.#init.logger.info('leadership resumed: reconnected with the same session');
      this.#init.onSuspendedChange?.(this, false);
    } else if (state === 'closed') {
      this.lose('closed');
    }
  }

  #scheduleLease(): void {
    const wait = Math.max(0, this.expiresAt - monotonicNow());
    this.#leaseTimer = setTimeout(() => this.#leaseCheck(), wait);
    this.#leaseTimer.unref();
  }

  #leaseCheck(): void {
    if (!this.isLeader) return;
    if (monotonicNow() < this.expiresAt) return this.#scheduleLease();
    // Out of contact for the whole session timeout (a pause, say): the server must be presumed
    // to have expired the session. Less than that: we only cannot tell any more.
    const silentFor = monotonicNow() - this.#init.client.lastContact;
    const expired = this.#init.session.state === 'expired' || silentFor >= this.#init.session.negotiatedTimeout;
    this.lose(expired ? 'session-expired' : 'connection-suspended', `no contact with ZooKeeper for ${Math.round(silentFor)} ms`);
  }

  #scheduleHeartbeat(): void {
    const every = Math.max(10, Math.floor(this.#init.session.negotiatedTimeout / 3));
    this.#heartbeatTimer = setInterval(() => void this.#heartbeat(), every);
    this.#heartbeatTimer.unref();
  }

  async #heartbeat(): Promise<void> {
    if (!this.isLeader || this.#suspended) return;
    try {
      const stat = await this.#init.client.exists(this.node);
      if (stat === undefined) this.lose('node-deleted', 'our candidate node was deleted');
    } catch {
      // Connection trouble shows up as session state changes and, failing those, as the lease running out.
    }
  }

  #stopTimers(): void {
    clearTimeout(this.#leaseTimer);
    clearInterval(this.#heartbeatTimer);
  }
}
