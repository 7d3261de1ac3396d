/**
 * Election: one long-lived candidate. Its lifecycle is one field changed only by `#transition`,
 * checked against this table:
 *
 *   latent  -> joining | closed
 *   joining -> joining | waiting | closed          (session, then our node)
 *   waiting -> joining | leading | closed          (behind one predecessor)
 *   leading -> joining | closed                    (term over: requeue, or close)
 *   closed  -> (final)
 *
 * With `requeue` (the default) a lost term, an expired session or a deleted node sends the
 * candidate back to `joining` with a fresh node (and a fresh session after expiry), after bounded
 * backoff. electLeader() uses `requeue: false`: the first term's end closes the election.
 */
import { EventEmitter } from 'node:events';
import { abortReason, onAbort } from './abort.js';
import { CandidateGoneError, createCandidate, waitUntilLowest, type Candidate } from './candidacy.js';
import { ClosedError, isRetryable, LeadershipLostError, ZkElectionError } from './errors.js';
import { registerForExit } from './exit-hook.js';
import { Leadership } from './leadership.js';
import { withContext, type Logger } from './logger.js';
import { validateCandidateOptions, type CandidateOptions, type ValidatedCandidateOptions } from './options.js';
import { readLeader, readParticipants, type Participant } from './participants.js';
import { parseCandidateName } from './recipe.js';
import { withRetry } from './retry.js';
import { resolveSession, type Session } from './session.js';

export type ElectionState = 'latent' | 'joining' | 'waiting' | 'leading' | 'closed';

const TRANSITIONS: Readonly<Record<ElectionState, readonly ElectionState[]>> = {
  latent: ['joining', 'closed'],
  joining: ['joining', 'waiting', 'closed'],
  waiting: ['joining', 'leading', 'closed'],
  leading: ['joining', 'closed'],
  closed: [],
};

export interface ElectionOptions extends CandidateOptions {
  /** Rejoin after a lost term, an expired session or a deleted node. @default true */
  requeue?: boolean;
}

/** The leader as seen from a listing. */
export interface LeaderInfo {
  node: string;
  sequence: number;
  /** True when the leader is this election. */
  self: boolean;
}

export interface ElectionEvents {
  state: [to: ElectionState, from: ElectionState, cause: string];
  elected: [leadership: Leadership];
  lost: [leadership: Leadership, error: LeadershipLostError];
  suspended: [leadership: Leadership];
  resumed: [leadership: Leadership];
  leaderChanged: [leader: LeaderInfo | undefined];
  error: [error: Error];
}

export class Election extends EventEmitter<ElectionEvents> {
  readonly path: string;
  readonly id: string;
  readonly #options: ElectionOptions;
  readonly #valid: ValidatedCandidateOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #state: ElectionState = 'latent';
  #session: Session | undefined;
  #ownsSession = false;
  #candidate: Candidate | undefined;
  #leadership: Leadership | undefined;
  #termEnded: (() => void) | undefined;
  #term = 0;
  #leaderName: string | undefined;
  #closed: Promise<void> | undefined;
  #unregisterExit: (() => void) | undefined;

  constructor(path: string, options: ElectionOptions = {}) {
    super();
    this.#valid = validateCandidateOptions(path, options);
    this.path = path;
    this.id = this.#valid.id;
    this.#options = options;
    this.#log = withContext(options.logger, { path, id: this.id });
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
    return this.#candidate?.path;
  }

  /**
   * Connects and creates our candidate node, then campaigns in the background. Resolves once we
   * are a candidate; rejects (and closes) on bad input, an unreachable ensemble, missing permission.
   * Runs once: a second call throws.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#state !== 'latent') throw new ZkElectionError(`election ${this.path} was already started`, 'INVALID_STATE');
    this.#transition('joining', 'start');
    if (this.#options.handleSignals) this.#unregisterExit = registerForExit(this);
    try {
      // close() during the connect must end it too, and must not leave a session behind.
      const until = signal ? AbortSignal.any([signal, this.#stop.signal]) : this.#stop.signal;
      const { session, owned } = await resolveSession(this.#options.connect, this.#sessionOptions(until));
      this.#session = session;
      this.#ownsSession = owned;
      if (this.#isClosing()) {
        if (owned) await session.close();
        throw new ClosedError(`election ${this.path}`);
      }
      await this.#join(signal);
    } catch (error) {
      await this.close();
      throw error;
    }
    void this.#campaign();
  }

  /** Resolves with the Leadership as soon as we lead (at once if we already do). */
  waitForLeadership(signal?: AbortSignal): Promise<Leadership> {
    const current = this.leadership;
    if (current) return Promise.resolve(current);
    if (this.#state === 'closed') return Promise.reject(new ClosedError(`election ${this.path}`));
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        this.off('elected', onElected);
        this.off('state', onState);
        detach();
      };
      const onElected = (leadership: Leadership): void => {
        finish();
        resolve(leadership);
      };
      const onState = (to: ElectionState): void => {
        if (to !== 'closed') return;
        finish();
        reject(new ClosedError(`election ${this.path}`));
      };
      const detach = signal ? onAbort(signal, () => {
        finish();
        reject(abortReason(signal));
      }) : () => {};
      this.on('elected', onElected);
      this.on('state', onState);
    });
  }

  /** The current leader, read from ZooKeeper (the children list and the leader's node only). */
  async leader(): Promise<Participant | undefined> {
    if (!this.#session) throw new ZkElectionError('election not started', 'INVALID_STATE');
    return readLeader(await this.#session.client(), this.path);
  }

  /** All candidates in election order, read from ZooKeeper. */
  async participants(): Promise<Participant[]> {
    if (!this.#session) throw new ZkElectionError('election not started', 'INVALID_STATE');
    return readParticipants(await this.#session.client(), this.path);
  }

  /** Leaves the election: ends any term ('closed'), deletes our node, closes a session we opened. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #sessionOptions(signal: AbortSignal | undefined) {
    const { sessionTimeout, connectTimeout } = this.#valid;
    return {
      ...(sessionTimeout === undefined ? {} : { sessionTimeout }),
      ...(connectTimeout === undefined ? {} : { connectTimeout }),
      ...(this.#options.auth === undefined ? {} : { auth: this.#options.auth }),
      ...(this.#options.logger === undefined ? {} : { logger: this.#options.logger }),
      ...(signal === undefined ? {} : { signal }),
    };
  }

  async #join(signal?: AbortSignal): Promise<void> {
    const combined = signal ? AbortSignal.any([signal, this.#stop.signal]) : this.#stop.signal;
    this.#candidate = await createCandidate(this.#session!, this.path, this.#valid.payload, {
      signal: combined,
      logger: this.#log,
      ...(this.#options.acl ? { acl: this.#options.acl } : {}),
    });
    this.#log.info('candidate node created', { node: this.#candidate.path, token: this.#candidate.token.toString() });
    this.#transition('waiting', 'joined');
  }

  /** The background loop: wait, lead, and (with requeue) rejoin, until closed. */
  async #campaign(): Promise<void> {
    while (!this.#isClosing()) {
      try {
        if (!this.#candidate) await this.#rejoin();
        await waitUntilLowest(this.#session!, this.#candidate!, this.path, {
          signal: this.#stop.signal,
          logger: this.#log,
          onListing: (leader) => this.#noteLeader(leader),
        });
        await this.#lead(this.#candidate!);
        if (this.#isClosing()) return;
        if (this.#options.requeue === false) return void (await this.close());
        await this.#dropCandidate();
        this.#transition('joining', 'term over, requeue');
      } catch (error) {
        if (this.#isClosing()) return;
        if (!(await this.#recover(error))) return;
      }
    }
  }

  /** A new node, and a new session if the last one expired, with bounded backoff (p-retry) until closed. */
  #rejoin(): Promise<void> {
    return withRetry('rejoin', () => this.#join(), {
      retries: Infinity,
      ...this.#options.retry,
      signal: this.#stop.signal,
      logger: this.#log,
      retryIf: isRecoverable,
    });
  }

  /** After a failure in the loop: true to go round again, false when the election closed. */
  async #recover(error: unknown): Promise<boolean> {
    if (!isRecoverable(error)) {
      this.#emitError(error as Error);
      await this.close();
      return false;
    }
    this.#log.warn('candidacy interrupted, rejoining', { error: (error as Error).message });
    await this.#dropCandidate();
    if (this.#isClosing()) return false;
    this.#transition('joining', (error as Error).message);
    // Even a single-term election (electLeader) rejoins while it has not led yet.
    return true;
  }

  /** Claims leadership and holds it until the term ends. */
  async #lead(candidate: Candidate): Promise<void> {
    const session = this.#session!;
    // Claim only with the session that created our node: if it changed, the node died with it.
    if (session.current !== candidate.client) throw new CandidateGoneError(candidate.path);
    const ended = new Promise<void>((resolve) => (this.#termEnded = resolve));
    this.#term += 1;
    const leadership = new Leadership({
      id: this.id,
      parent: this.path,
      node: candidate.path,
      sequence: candidate.sequence,
      token: candidate.token,
      term: this.#term,
      session,
      client: candidate.client,
      leaseMargin: this.#valid.leaseMargin ?? Math.round(session.negotiatedTimeout * 0.1),
      suspendedPolicy: this.#valid.suspendedPolicy,
      logger: this.#log,
      onLost: (term, error) => this.#onLost(term, error),
      release: (term) => this.#release(term),
      onSuspendedChange: (term, suspended) => this.emit(suspended ? 'suspended' : 'resumed', term),
    });
    this.#leadership = leadership;
    this.#transition('leading', 'lowest candidate');
    this.#log.info('elected', { node: candidate.path, token: candidate.token.toString(), term: this.#term });
    leadership.begin();
    if (leadership.isLeader) this.emit('elected', leadership);
    await ended;
  }

  #onLost(leadership: Leadership, error: LeadershipLostError): void {
    if (leadership !== this.#leadership) return;
    this.emit('lost', leadership, error);
    this.#termEnded?.();
  }

  /** resign(): give up the node now; the loop then requeues or closes. */
  async #release(leadership: Leadership): Promise<void> {
    if (this.#options.requeue === false) return this.close();
    if (this.#candidate?.path === leadership.node) await this.#dropCandidate();
  }

  #noteLeader(leaderName: string | undefined): void {
    if (leaderName === this.#leaderName) return;
    this.#leaderName = leaderName;
    const parsed = leaderName === undefined ? undefined : parseCandidateName(leaderName);
    this.emit('leaderChanged', parsed ? { node: `${this.path}/${parsed.name}`, sequence: parsed.sequence, self: parsed.name === this.#candidate?.name } : undefined);
  }

  /**
   * Deletes our node if its session still lives, waiting through a disconnection: leaving it would
   * make it a ghost holding its place in the queue. A closed or expired session took it already.
   */
  async #dropCandidate(): Promise<void> {
    const candidate = this.#candidate;
    this.#candidate = undefined;
    if (!candidate) return;
    for (let attempt = 0; attempt < 20 && !candidate.client.closed; attempt += 1) {
      try {
        await candidate.client.delete(candidate.path);
        return;
      } catch (error) {
        const code = (error as ZkElectionError).code;
        if (code === 'NO_NODE' || code === 'CLOSED' || code === 'SESSION_EXPIRED') return;
        if (!isRetryable(error)) return this.#emitError(error as Error);
        const bound = AbortSignal.timeout(this.#session?.negotiatedTimeout ?? 10_000);
        await this.#session?.client(bound).catch(() => undefined);
      }
    }
  }

  async #shutdown(): Promise<void> {
    this.#stop.abort(new ClosedError(`election ${this.path}`));
    this.#unregisterExit?.();
    this.#leadership?.lose('closed');
    const session = this.#session;
    // Closing our own session deletes our node on the server at once; a shared one needs a delete.
    if (this.#ownsSession) await session?.close();
    else await this.#dropCandidate();
    this.#candidate = undefined;
    this.#transition('closed', 'close()');
    this.#log.info('election closed');
  }

  /**
   * True from the first moment of close(): the state becomes 'closed' only after the clean-up's
   * round trips, and the loop must not take a failure caused by closing for one to recover from.
   */
  #isClosing(): boolean {
    return this.#stop.signal.aborted;
  }

  #emitError(error: Error): void {
    this.#log.error('election error', { error: error.message, code: (error as ZkElectionError).code });
    // An 'error' event without a listener would throw; errors are logged above either way.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #transition(to: ElectionState, cause: string): void {
    const from = this.#state;
    if (!TRANSITIONS[from].includes(to)) {
      throw new ZkElectionError(`election ${this.path}: no transition ${from} -> ${to} (${cause})`, 'INVALID_STATE');
    }
    this.#state = to;
    if (from !== to) this.#log.info(`${from} -> ${to}`, { cause });
    this.emit('state', to, from, cause);
  }
}


/** Worth rejoining after: connection trouble, an expired session, our node deleted under us. */
function isRecoverable(error: unknown): boolean {
  if (error instanceof CandidateGoneError || isRetryable(error)) return true;
  const code = (error as ZkElectionError).code;
  return code === 'SESSION_EXPIRED' || code === 'UNREACHABLE' || code === 'SESSION_MOVED';
}
