/**
 * A Leadership is one term of leading: it holds the fencing token, an AbortSignal that fires the
 * moment leadership is lost or can no longer be trusted, and a local lease. A term ends in one
 * place, {@link Leadership.end}, and `ended` resolves with why; the election awaits that promise
 * (nothing here calls back up into the election).
 *
 * The lease: while disconnected, a leader cannot know whether its session still lives, so it trusts
 * leadership only until `expiresAt` = (latest send time of a request the server answered) + the
 * negotiated session timeout - a margin, on the monotonic clock. The server cannot have expired the
 * session before that moment, because it had heard from us at or after the send time. The C client's
 * pings are invisible to JavaScript, so while a term runs its session reads its root every third of
 * the session timeout (one read per session, however many terms run on it: Session.keepAlive) to
 * keep fresh evidence of contact. A deletion of our node ends the term at once through the watch on
 * it (the election routes that event here).
 *
 * Only the election that runs a term may end it or tell it of session changes: through
 * {@link endTerm} and {@link termSessionChanged}, which are not part of the public API (a user
 * who could end a term without resigning would leave its node behind).
 */
import type { ClockTimer } from '../util/clock.js';
import { isZkElectionError, LeadershipLostError, type LostReason } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { isLiveOwner, standingOf } from '../znode/recipe.js';
import { baseName, childPath } from '../zk/paths.js';
import type { Session, SessionState } from '../session/session.js';

/** What to do while disconnected. */
export type SuspendedPolicy = 'lease' | 'strict';

/** What a term starts from (the election's, never a user's: Leadership's constructor is internal). */
export interface TermInit {
  id: string;
  parent: string;
  node: string;
  sequence: number;
  token: bigint;
  term: number;
  session: Session;
  epoch: number;
  leaseMargin: number;
  suspendedPolicy: SuspendedPolicy;
  logger: Logger;
  /** Gives up the node the term rests on (its Candidacy's release): resign() calls it. */
  release(): Promise<void>;
}

/** What a session state change did to a term, for the election's events. @internal */
export type TermChange = 'suspended' | 'resumed' | 'ended' | undefined;

let end: (leadership: Leadership, reason: LostReason, detail?: string) => void;
let sessionChanged: (leadership: Leadership, state: SessionState) => TermChange;

/** Ends the term (idempotent): aborts its signal with a LeadershipLostError, stops its timers, resolves `ended`. @internal */
export function endTerm(leadership: Leadership, reason: LostReason, detail?: string): void {
  end(leadership, reason, detail);
}

/**
 * Applies a session state change to a term. Called by the election for every change while the
 * term runs, and once when it begins (a term claimed while already disconnected). @internal
 */
export function termSessionChanged(leadership: Leadership, state: SessionState): TermChange {
  return sessionChanged(leadership, state);
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
  /** Resolves (never rejects) once the term is over, with the reason it ended: the signal's reason. */
  readonly ended: Promise<LeadershipLostError>;
  readonly #init: TermInit;
  readonly #controller = new AbortController();
  #settle!: (error: LeadershipLostError) => void;
  #leaseTimer: ClockTimer | undefined;
  /** Releases this term's share of the session's keep-alive (see Session.keepAlive). */
  readonly #releaseKeepAlive: () => void;
  #suspended = false;
  #released: Promise<void> | undefined;
  /** Lower nodes with a candidate's name that no session owns: never a reason to end the term. */
  readonly #foreign = new Set<string>();

  static {
    end = (leadership, reason, detail) => leadership.#end(reason, detail);
    sessionChanged = (leadership, state) => leadership.#sessionChanged(state);
  }

  /** Made by Election when a term starts. @internal */
  constructor(init: TermInit) {
    this.#init = init;
    this.id = init.id;
    this.node = init.node;
    this.sequence = init.sequence;
    this.token = init.token;
    this.term = init.term;
    this.ended = new Promise((resolve) => (this.#settle = resolve));
    this.#scheduleLease();
    this.#releaseKeepAlive = init.session.keepAlive(init.epoch);
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
  /** Monotonic deadline (on the session's clock, `performance.now()` by default) until which leadership may be trusted. */
  get expiresAt(): number {
    if (!this.isLeader) return -Infinity;
    const { session, epoch, leaseMargin } = this.#init;
    return session.lastContact(epoch) + session.negotiatedTimeout - leaseMargin;
  }

  /**
   * Synchronous and cheap: call it right before every side effect. False once the signal aborted
   * or the lease ran out, even if no timer or event has told us yet (say, after a SIGSTOP).
   */
  isValid(): boolean {
    return this.isLeader && this.#init.session.clock.now() < this.expiresAt;
  }

  /** Confirms with the ensemble: sync, then our node is present and lowest. Throws LeadershipLostError. */
  async verify(): Promise<void> {
    this.#throwIfLost();
    const { session, epoch, parent } = this.#init;
    try {
      const children = await session.retrying(
        'verify',
        async (handle) => {
          await handle.sync(parent);
          return handle.getChildren(parent);
        },
        { epoch },
      );
      if (!(await this.#lowestLive(children))) this.#end('node-deleted', 'verify: our node is no longer the lowest');
    } catch (error) {
      if (isZkElectionError(error, 'NO_NODE')) this.#end('node-deleted', 'verify: the election node is gone');
      if (isZkElectionError(error, 'SESSION_EXPIRED')) this.#end('session-expired', 'verify: the session that claimed leadership is gone');
      this.#throwIfLost();
      throw error;
    }
    this.#throwIfLost();
  }

  /**
   * Whether our node is the lowest among the live candidates of `children`. A lower node with a
   * candidate's name but no owning session (planted, persistent) is no candidate: each is looked at
   * once (`exists`, which needs no permission) and then left out.
   */
  async #lowestLive(children: string[]): Promise<boolean> {
    const { session, epoch, parent } = this.#init;
    for (;;) {
      const standing = standingOf(children.filter((child) => !this.#foreign.has(child)), baseName(this.node));
      if (standing.kind !== 'waiting') return standing.kind === 'leader';
      const name = standing.predecessor.name;
      const stat = await session.retrying('verify: owner of a lower node', (handle) => handle.exists(childPath(parent, name)), { epoch });
      if (stat !== undefined && isLiveOwner(stat.ephemeralOwner)) return false;
      this.#foreign.add(name);
    }
  }

  /**
   * Gives up leadership and deletes our node so the successor takes over at once; resolves once
   * the node is gone. The delete is sent before anything else happens (the successor's wait is
   * the figure that counts). Idempotent; also releases the node of a term that ended otherwise.
   */
  resign(): Promise<void> {
    if (this.#released) return this.#released;
    this.#released = this.#init.release();
    this.#end('resigned');
    return this.#released;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.resign();
  }

  #end(reason: LostReason, detail?: string): void {
    if (!this.isLeader) return;
    const clock = this.#init.session.clock;
    clock.clearTimeout(this.#leaseTimer);
    this.#releaseKeepAlive();
    const error = new LeadershipLostError(reason, detail);
    this.#controller.abort(error);
    this.#init.logger.info('leadership lost', { reason, detail, term: this.term });
    this.#settle(error);
  }

  #sessionChanged(state: SessionState): TermChange {
    if (!this.isLeader) return undefined;
    const { session, epoch, suspendedPolicy, logger } = this.#init;
    // Closed first: a closed session is no longer current either, but it was closed on purpose
    // (close(), the exit hook on SIGTERM), which is not an expiry.
    if (state === 'closed') {
      this.#end('closed');
      return 'ended';
    }
    if (!session.isCurrent(epoch) || state === 'expired') {
      this.#end('session-expired', 'the session that claimed leadership is gone');
      return 'ended';
    }
    if (state === 'suspended') {
      if (suspendedPolicy === 'strict') {
        this.#end('connection-suspended', 'strict policy');
        return 'ended';
      }
      if (this.#suspended) return undefined;
      this.#suspended = true;
      logger.warn('leadership suspended: disconnected, trusting the lease', { remainingMs: Math.round(this.expiresAt - session.clock.now()) });
      return 'suspended';
    }
    if ((state === 'reconnected' || state === 'connected') && this.#suspended) {
      this.#suspended = false;
      logger.info('leadership resumed: reconnected with the same session');
      return 'resumed';
    }
    return undefined;
  }

  #throwIfLost(): void {
    if (!this.isLeader) throw this.signal.reason as LeadershipLostError;
  }

  #scheduleLease(): void {
    const clock = this.#init.session.clock;
    this.#leaseTimer = clock.setTimeout(() => this.#leaseCheck(), Math.max(0, this.expiresAt - clock.now()));
  }

  #leaseCheck(): void {
    if (!this.isLeader) return;
    const { session, epoch } = this.#init;
    const now = session.clock.now();
    if (now < this.expiresAt) return this.#scheduleLease();
    // Out of contact for the whole session timeout (a pause, say): the server must be presumed
    // to have expired the session. Less than that: we only cannot tell any more.
    const silentFor = now - session.lastContact(epoch);
    const expired = !session.isCurrent(epoch) || silentFor >= session.negotiatedTimeout;
    this.#end(expired ? 'session-expired' : 'connection-suspended', `no contact with ZooKeeper for ${Math.round(silentFor)} ms`);
  }
}
