/**
 * Election: one long-lived candidate, through the lifecycle drawn in lifecycle.ts. It keeps the
 * lifecycle, the terms and the events; the candidate node belongs to a Candidacy (candidacy.ts),
 * one at a time, held from before its create is sent.
 *
 * Everything runs in one loop, `#run`: close() only asks it to stop (and sends the delete of our
 * node at once) and waits for it, so whatever await the loop was at, the node is released by the
 * same code. A campaign is one function retried as a whole (kazoo's shape): "start over" (the
 * session expired, our node vanished, the connection stayed lost) is an error that p-retry
 * answers with a fresh Candidacy after bounded backoff, once the old one is released. A term is a
 * Leadership; the loop awaits its `ended`. electLeader() uses `requeue: false`: the first term's
 * end closes the election.
 */
import { EventEmitter } from 'node:events';
import { abortReason, onAbort } from '../util/abort.js';
import { Candidacy } from './candidacy.js';
import { CandidateGoneError, ClosedError, DrainFailedError, ElectionStateError, isRetryable, isZkElectionError, type LeadershipLostError } from '../errors.js';
import { registerForExit } from './exit-hook.js';
import { endTerm, Leadership, termSessionChanged } from './leadership.js';
import { Preference } from './preference.js';
import { REJOIN_RETRY, resolveRetryPolicy, retry } from '../session/retry.js';
import type { NodeRequest } from '../znode/node-requests.js';
import { withContext, type Logger } from '../util/logger.js';
import { validateElectionOptions, type ElectionOptions, type ValidatedElectionOptions } from './election-options.js';
import { readLeader, readParticipants, type Participant } from '../observe/list-participants.js';
import { LeaderEvents } from '../observe/observe-leader.js';
import type { Session, SessionState } from '../session/session.js';
import { resolveSession } from '../session/resolve-session.js';
import { checkTransition, type ElectionEvents, type ElectionState } from './lifecycle.js';
export type { ElectionOptions };

export class Election extends EventEmitter<ElectionEvents> {
  readonly path: string;
  readonly id: string;
  readonly #options: ValidatedElectionOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #state: ElectionState = 'latent';
  #session: Session | undefined;
  #owned = false;
  /** The candidate node we hold, from before its create is sent until it is released. */
  #candidacy: Candidacy | undefined;
  /** Taking leadership over from a leader of a lower priority (only with a priority above 0). */
  #preference: Preference | undefined;
  #leadership: Leadership | undefined;
  #term = 0;
  /** `leader` events, through an observer that runs only while somebody listens. */
  readonly #leaderEvents: LeaderEvents;
  #fatal: Error | undefined;
  #loop: Promise<void> | undefined;
  #closed: Promise<void> | undefined;
  #unregisterExit: (() => void) | undefined;
  /** Resolves start(): our standing is known (waiting or leading). */
  #placed: (() => void) | undefined;
  readonly #onSessionState = (state: SessionState): void => this.#sessionChanged(state);

  constructor(path: string, options: ElectionOptions = {}) {
    super();
    this.#options = validateElectionOptions(path, options);
    this.path = path;
    this.id = this.#options.id;
    this.#log = withContext(this.#options.logger, { path, id: this.id });
    this.#leaderEvents = new LeaderEvents(this as EventEmitter, path, {
      session: () => (this.#isFinishing() ? undefined : this.#session),
      emit: (leader) => this.emit('leader', leader),
      error: (error) => this.#emitError(error),
      logger: this.#options.logger,
    });
  }

  get state(): ElectionState {
    return this.#state;
  }
  get isLeader(): boolean {
    return this.#leadership?.isLeader ?? false;
  }
  /** The current term, if leading. */
  get leadership(): Leadership | undefined {
    return this.#leadership?.isLeader ? this.#leadership : undefined;
  }
  /** The session in use (ours or the shared one). */
  get session(): Session | undefined {
    return this.#session;
  }
  /** Full path of our candidate node, while we have one. */
  get node(): string | undefined {
    return this.#candidacy?.node;
  }

  /**
   * Connects, creates our candidate node and learns where it stands, then campaigns in the
   * background. Resolves once we are `waiting` (the watch on our predecessor armed) or `leading`;
   * rejects (and closes) on bad input, an unreachable ensemble, missing permission, or when
   * `signal` aborts first. Runs once: a second call throws.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#state !== 'latent') throw new ElectionStateError(`election ${this.path} was already started`, 'ALREADY_STARTED');
    this.#transition('joining', 'start');
    if (this.#options.handleSignals) this.#unregisterExit = registerForExit(this);
    const started = new Promise<void>((resolve) => (this.#placed = resolve));
    this.#loop = this.#run();
    const detach = signal ? onAbort(signal, () => void this.close()) : () => {};
    try {
      await Promise.race([started, this.#loop]);
      if (this.#isFinishing()) {
        await this.#loop;
        throw signal?.aborted ? abortReason(signal) : this.#closedError();
      }
    } finally {
      detach();
    }
  }

  /** Resolves with the Leadership as soon as we lead (at once if we already do). */
  waitForLeadership(signal?: AbortSignal): Promise<Leadership> {
    const current = this.leadership;
    if (current) return Promise.resolve(current);
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        this.off('elected', onElected);
        this.off('state', onState);
        detach();
      };
      const onElected = (leadership: Leadership): void => (finish(), resolve(leadership));
      const onState = (to: ElectionState): void => {
        if (to === 'closed') (finish(), reject(this.#closedError()));
      };
      const detach = signal ? onAbort(signal, () => (finish(), reject(abortReason(signal)))) : () => {};
      this.on('elected', onElected);
      this.on('state', onState);
    });
  }

  /** The current leader, read from ZooKeeper (the children list and the leader's node only). */
  leader(signal?: AbortSignal): Promise<Participant | undefined> {
    const session = this.#startedSession();
    return session.retrying('read leader', (handle) => readLeader(handle, this.path), signal ? { signal } : {});
  }

  /** All candidates in election order, read from ZooKeeper. */
  participants(signal?: AbortSignal): Promise<Participant[]> {
    const session = this.#startedSession();
    return session.retrying('read participants', (handle) => readParticipants(handle, this.path), signal ? { signal } : {});
  }

  /**
   * Leaves the election: ends any term ('closed'), deletes our node, closes a session we opened.
   * Once it resolves no node of this election is left: deleted, or (while ZooKeeper is
   * unreachable) gone with a session the server must have expired by then. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    // The delete first: a successor waits on it, and everything below is bookkeeping. The loop's
    // own release, on its way out, joins this one.
    this.#candidacy?.release().catch(() => undefined);
    this.#stop.abort(new ClosedError(`election ${this.path}`));
    if (this.#leadership) endTerm(this.#leadership, 'closed');
    if (this.#loop) return this.#loop;
    // Never started: nothing was made.
    this.#transition('closing', 'close()');
    this.#transition('closed', 'close()');
  }

  /** The whole life of a started candidate; never rejects. */
  async #run(): Promise<void> {
    try {
      const { session, owned } = await resolveSession(this.#options.connect, { ...this.#options, signal: this.#stop.signal });
      this.#session = session;
      this.#owned = owned;
      session.on('state', this.#onSessionState);
      this.#leaderEvents.sync();
      if (this.#options.priority > 0) this.#preference = this.#preferenceOn(session);
      for (;;) {
        const candidacy = await this.#campaign(session);
        const lost = await this.#lead(session, candidacy);
        // What follows a term's end is bookkeeping (the node's delete, when ours, is out already):
        // let pending I/O go first, such as a successor in this process being woken by that delete.
        await new Promise((resolve) => setImmediate(resolve));
        if (this.#stop.signal.aborted || !this.#options.requeue) break;
        if (lost.reason !== 'resigned') await this.#drain(lost);
        await this.#release();
        this.#transition('joining', `requeue after ${lost.reason}`);
      }
    } catch (error) {
      if (!this.#stop.signal.aborted) {
        this.#fatal = error as Error;
        this.#emitError(error as Error);
      }
    } finally {
      await this.#shutdown();
    }
  }

  /**
   * Campaigns until our node is the lowest; resolves with its Candidacy. One function retried as a
   * whole: whatever means "start over" is an error that p-retry answers with a fresh attempt after
   * bounded backoff, once the old node is released.
   */
  #campaign(session: Session): Promise<Candidacy> {
    const signal = this.#stop.signal;
    let joined = this.#candidacy !== undefined;
    return retry(
      'campaign',
      async () => {
        const candidacy = await this.#candidate(session);
        joined = true;
        await candidacy.untilLowest(signal);
        return candidacy;
      },
      {
        ...resolveRetryPolicy(REJOIN_RETRY, this.#options.rejoin),
        signal,
        logger: this.#log,
        retryIf: (error) => !signal.aborted && isStartOver(error, joined),
        beforeRetry: async (error) => {
          this.#log.warn('candidacy interrupted, starting over', { error: (error as Error).message });
          await this.#release();
          if (!signal.aborted) this.#transition('joining', `start over: ${(error as Error).message}`);
        },
      },
    );
  }

  /** Our Candidacy, placed anew unless the one we hold is still good. */
  async #candidate(session: Session): Promise<Candidacy> {
    const held = this.#candidacy;
    if (held?.isPlaced) return held;
    if (held) await this.#release();
    const { epoch } = await session.connected(this.#stop.signal);
    const candidacy = new Candidacy(session, this.path, epoch, { payload: this.#options.payload, acl: this.#options.acl, logger: this.#log });
    candidacy.on('waiting', (info) => {
      this.#transition('waiting', `behind ${info.predecessor}`);
      this.emit('waiting', info);
      this.#placed?.();
      this.#preference?.waiting(info.leader);
    });
    candidacy.on('deleted', () => this.#endTermOn(candidacy, 'node-deleted', 'our candidate node was deleted'));
    candidacy.on('step-down', (request: NodeRequest) => this.#endTermOn(candidacy, 'step-down', `requested by ${request.by ?? 'an operator'}`));
    candidacy.on('requeue', (request: NodeRequest) => this.#requeue(candidacy, request));
    // Held before its create is sent: close() at any await below finds it and releases it.
    this.#candidacy = candidacy;
    await candidacy.place(this.#stop.signal);
    this.#log.info('candidate node created', { node: candidacy.node, token: candidacy.claim().token.toString() });
    return candidacy;
  }

  /**
   * A handoff asks this waiting candidate to go behind its named successor (see requeue in
   * candidacy.ts). A leader is never requeued: it is asked to step down instead.
   */
  #requeue(candidacy: Candidacy, request: NodeRequest): void {
    if (candidacy !== this.#candidacy || this.#state !== 'waiting') return;
    this.#log.info('requeueing behind a handoff', { by: request.by, to: request.to });
    // A failure leaves the candidacy unplaced: its campaign starts over, which the loop reports.
    candidacy.requeue(this.#stop.signal).catch((error: unknown) => this.#log.warn('requeue failed', { error: (error as Error).message }));
  }

  #preferenceOn(session: Session): Preference {
    const { priority, preferAfter } = this.#options;
    return new Preference({
      session,
      path: this.path,
      id: this.id,
      priority,
      preferAfter,
      logger: this.#log,
      signal: this.#stop.signal,
      candidate: () => {
        const candidacy = this.#candidacy;
        const node = candidacy?.node;
        const placedAt = candidacy?.placedAt;
        return candidacy?.isPlaced && node !== undefined && placedAt !== undefined ? { node, placedAt } : undefined;
      },
    });
  }

  /** Ends the running term if it rests on `candidacy` (a waiting candidacy's events end nothing). */
  #endTermOn(candidacy: Candidacy, reason: 'node-deleted' | 'step-down', detail: string): void {
    const leadership = this.#leadership;
    if (leadership?.isLeader && this.#candidacy === candidacy) endTerm(leadership, reason, detail);
  }

  /** Holds one term until it ends; returns why it ended. */
  async #lead(session: Session, candidacy: Candidacy): Promise<LeadershipLostError> {
    this.#term += 1;
    const { node, sequence, token } = candidacy.claim();
    const leadership = new Leadership({
      id: this.id,
      parent: this.path,
      node,
      sequence,
      token,
      term: this.#term,
      session,
      epoch: candidacy.epoch,
      // 10 % of the timeout the server granted: known only now that the session is.
      leaseMargin: this.#options.leaseMargin ?? Math.round(session.negotiatedTimeout * 0.1),
      suspendedPolicy: this.#options.suspendedPolicy,
      logger: this.#log,
      release: () => candidacy.release(),
    });
    this.#leadership = leadership;
    this.#transition('leading', 'lowest candidate');
    // Claimed while already disconnected, or our node vanished since the listing: that applies at once.
    const change = termSessionChanged(leadership, session.state);
    if (!candidacy.isPlaced && session.isCurrent(candidacy.epoch)) endTerm(leadership, 'node-deleted', 'our candidate node was deleted');
    if (leadership.isLeader) {
      this.#log.info('elected', { node, token: token.toString(), term: this.#term });
      this.emit('elected', leadership);
      if (change === 'suspended') this.emit('suspended', leadership);
      // After the user heard of the term: the successor's listing, off the critical path.
      if (leadership.isLeader) candidacy.announce();
    }
    this.#placed?.();
    const lost = await leadership.ended;
    this.emit('lost', leadership, lost);
    return lost;
  }

  async #drain(lost: LeadershipLostError): Promise<void> {
    const leadership = this.#leadership;
    if (!this.#options.drain || !leadership) return;
    try {
      await this.#options.drain(leadership);
    } catch (error) {
      this.#emitError(new DrainFailedError(`drain after ${lost.reason} failed: ${(error as Error).message}`, { cause: error }));
    }
  }

  /** Leaves no node of the current candidacy behind (bounded: see Candidacy.release). */
  async #release(): Promise<void> {
    const candidacy = this.#candidacy;
    this.#candidacy = undefined;
    try {
      await candidacy?.release();
    } catch (error) {
      this.#emitError(error as Error);
    }
  }

  async #shutdown(): Promise<void> {
    this.#transition('closing', this.#fatal ? `fatal: ${this.#fatal.message}` : 'close()');
    if (!this.#stop.signal.aborted) this.#stop.abort(new ClosedError(`election ${this.path}`, { cause: this.#fatal }));
    if (this.#leadership) endTerm(this.#leadership, 'closed');
    this.#preference?.stop();
    this.#leaderEvents.sync();
    this.#unregisterExit?.();
    this.#session?.off('state', this.#onSessionState);
    await this.#release();
    if (this.#owned) await this.#session?.close();
    this.#transition('closed', this.#fatal ? 'fatal error' : 'close()');
    this.#log.info('election closed');
  }

  #sessionChanged(state: SessionState): void {
    const leadership = this.#leadership;
    if (!leadership?.isLeader) return;
    const change = termSessionChanged(leadership, state);
    if (change === 'suspended' || change === 'resumed') this.emit(change, leadership);
  }

  /** A method, so that TypeScript does not narrow the state across awaits. */
  #isFinishing(): boolean {
    return this.#state === 'closing' || this.#state === 'closed';
  }

  #startedSession(): Session {
    if (!this.#session) throw new ElectionStateError('election not started', 'NOT_STARTED');
    return this.#session;
  }

  /** Why waiting for this election is over: the error that closed it, or a plain CLOSED after close(). */
  #closedError(): Error {
    return this.#fatal ?? new ClosedError(`election ${this.path}`);
  }

  #emitError(error: Error): void {
    this.#log.error('election error', { error: error.message, code: isZkElectionError(error) ? error.code : undefined });
    // An 'error' event without a listener would throw; errors are logged above either way.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #transition(to: ElectionState, cause: string): void {
    const from = this.#state;
    checkTransition(this.path, from, to, cause);
    this.#state = to;
    if (from !== to) this.#log.info(`${from} -> ${to}`, { cause });
    this.emit('state', to, from, cause);
  }
}

/**
 * Worth a fresh attempt: our node or its session is gone, or the connection stayed lost. An
 * unreachable ensemble counts only once we had joined; before that, start() reports it.
 */
function isStartOver(error: unknown, joined: boolean): boolean {
  if (error instanceof CandidateGoneError || isRetryable(error)) return true;
  return isZkElectionError(error, 'SESSION_EXPIRED', 'SESSION_MOVED') || (joined && isZkElectionError(error, 'UNREACHABLE'));
}
