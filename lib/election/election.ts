/**
 * Election: one long-lived candidate, through the lifecycle drawn in lifecycle.ts.
 *
 * Everything a candidate does runs in one loop, `#run`, which alone owns the candidate node:
 * close() only asks it to stop and waits for it, so whatever await the loop was at, the node is
 * released by the same code. "Start over" (the session expired, our node vanished) is an error
 * that the campaign's retry (p-retry) answers with a fresh node, after bounded backoff
 * (campaign.ts). A term is a Leadership; the loop awaits its `ended`. electLeader() uses
 * `requeue: false`: the first term's end closes the election.
 */
import { EventEmitter } from 'node:events';
import { abortReason, onAbort } from '../util/abort.js';
import { expiryBound, releaseNode, type Placement } from './candidacy.js';
import { ownNodeChanged } from './own-node.js';
import { campaign, termOf, type CampaignHost } from './campaign.js';
import { ClosedError, DrainFailedError, ElectionStateError, type LeadershipLostError, type ZkElectionError } from '../errors.js';
import { registerForExit } from './exit-hook.js';
import { Leadership } from './leadership.js';
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
  #placement: Placement | undefined;
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
  /** Wakes a waiting campaign (predecessor gone, our node gone, session gone). */
  #wake: (() => void) | undefined;
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
    return this.#placement?.name === undefined ? undefined : this.#placement.path;
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
    // The delete first: a successor waits on it, and everything below is bookkeeping. It is the
    // session's one delete of this node: the loop's release below joins it rather than sending another.
    const placement = this.#placement;
    if (placement?.name !== undefined && this.#session?.isCurrent(placement.epoch)) {
      placement.released ??= this.#session.deleteOwned(placement.path!, placement.epoch);
      placement.released.catch(() => undefined);
    }
    this.#stop.abort(new ClosedError(`election ${this.path}`));
    this.#leadership?.end('closed');
    this.#wake?.();
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
      for (;;) {
        const placement = await campaign(this.#host(session));
        const lost = await this.#lead(session, placement);
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

  /** What the campaign needs of us: a narrow view, so that it cannot touch the lifecycle. */
  #host(session: Session): CampaignHost {
    return {
      session,
      parent: this.path,
      options: this.#options,
      logger: this.#log,
      signal: this.#stop.signal,
      current: () => this.#placement,
      adopt: (placement) => (this.#placement = placement),
      release: () => this.#release(),
      setWake: (wake) => (this.#wake = wake),
      onWaiting: (info) => {
        this.#transition('waiting', `behind ${info.predecessor}`);
        this.emit('waiting', info);
        this.#placed?.();
      },
      onOwnNode: (placement, event) =>
        ownNodeChanged(session, placement, event, {
          term: () => (this.#leadership?.node === placement.path ? this.#leadership : undefined),
          wake: () => this.#wake?.(),
        }),
      restart: (cause) => this.#transition('joining', cause),
    };
  }

  /** Holds one term until it ends; returns why it ended. */
  async #lead(session: Session, placement: Placement): Promise<LeadershipLostError> {
    this.#term += 1;
    const leadership = new Leadership(termOf(this.#options, session, placement, this.#term, this.#log));
    this.#leadership = leadership;
    this.#transition('leading', 'lowest candidate');
    // Claimed while already disconnected, or our node vanished since the listing: that applies at once.
    const change = leadership.sessionChanged(session.state);
    if (placement.gone) leadership.end('node-deleted', 'our candidate node was deleted');
    if (leadership.isLeader) {
      this.#log.info('elected', { node: placement.path, token: placement.token!.toString(), term: this.#term });
      this.emit('elected', leadership);
      if (change === 'suspended') this.emit('suspended', leadership);
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

  /** Leaves no node of the current placement behind (bounded: see releaseNode). */
  async #release(): Promise<void> {
    const placement = this.#placement;
    const session = this.#session;
    this.#placement = undefined;
    if (!placement || !session) return;
    const bound = expiryBound(session, placement.epoch);
    try {
      await releaseNode(session, placement, bound.promise);
    } catch (error) {
      this.#emitError(error as Error);
    } finally {
      bound.cancel();
    }
  }

  async #shutdown(): Promise<void> {
    this.#transition('closing', this.#fatal ? `fatal: ${this.#fatal.message}` : 'close()');
    if (!this.#stop.signal.aborted) this.#stop.abort(new ClosedError(`election ${this.path}`, { cause: this.#fatal }));
    this.#leadership?.end('closed');
    this.#leaderEvents.sync();
    this.#unregisterExit?.();
    this.#session?.off('state', this.#onSessionState);
    await this.#release();
    if (this.#owned) await this.#session?.close();
    this.#transition('closed', this.#fatal ? 'fatal error' : 'close()');
    this.#log.info('election closed');
  }

  #sessionChanged(state: SessionState): void {
    const placement = this.#placement;
    if (placement && !this.#session!.isCurrent(placement.epoch)) {
      placement.gone = true;
      this.#wake?.();
    }
    const leadership = this.#leadership;
    if (!leadership?.isLeader) return;
    const change = leadership.sessionChanged(state);
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
    this.#log.error('election error', { error: error.message, code: (error as ZkElectionError).code });
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
