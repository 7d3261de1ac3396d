/**
 * A Candidacy owns one candidate node of one election on one ZooKeeper session (epoch), from "no
 * node" to "released": the create (protected against a lost reply), the read back (owner, token,
 * and the watch on our own node), the listing, the watch on exactly one predecessor, and the
 * delete. The Election above it keeps the lifecycle, the terms and the events; it holds one
 * Candidacy at a time, from *before* its create is sent, so that whatever happens next (a close,
 * an abort, a lost reply, an expiry), `release()` leaves no node behind.
 *
 * The node's own states, one field, changed only through `#to` against the table below:
 *
 *   unplaced -> creating                 a create is sent (a fresh marker each attempt)
 *   creating -> created | unplaced       the server named our node (or the marker search found it) | nothing was made
 *   created  -> placed | unplaced        read back: ours (token, watch armed) | another session owns it: left alone
 *   placed   -> gone                     our node was deleted (the watch on it said so), or its session ended
 *   placed   -> unplaced                 requeue(): a new node is placed behind everyone, then the old one goes
 *   any      -> gone | released          the session ended (the node went with it) | release() finished
 *
 * Pure decisions (names, ordering, the predecessor rule) live in lib/znode/recipe.ts.
 */
import { EventEmitter } from 'node:events';
import { CandidateGoneError, isRetryable, isZkElectionError, ZkElectionError } from '../errors.js';
import type { Session } from '../session/session.js';
import { raceAbort, throwIfAborted } from '../util/abort.js';
import type { Stat, Watcher, WatchEvent, ZkHandle } from '../zk/handle.js';
import { baseName, childPath } from '../zk/paths.js';
import { candidatePrefix, findByMarker, isLiveOwner, newMarker, parseCandidateName, standingOf } from '../znode/recipe.js';
import { nodeRequest, type NodeRequest } from '../znode/node-requests.js';
import { createWithParents, expiryBound, listChildren, participantId, type CreateOptions } from './candidate-io.js';
import type { WaitingInfo } from './lifecycle.js';

export type NodeState = 'unplaced' | 'creating' | 'created' | 'placed' | 'gone' | 'released';

const NODE_TRANSITIONS: Readonly<Record<NodeState, readonly NodeState[]>> = {
  unplaced: ['creating', 'gone', 'released'],
  creating: ['created', 'unplaced', 'gone', 'released'],
  created: ['placed', 'unplaced', 'gone', 'released'],
  placed: ['gone', 'unplaced', 'released'],
  gone: ['released'],
  released: [],
};

/** What a term rests on: our node as the server named it, and its czxid (the fencing token). */
export interface Claim {
  node: string;
  name: string;
  sequence: number;
  token: bigint;
}

export interface CandidacyEvents {
  /** The watch on our predecessor is armed: emitted again whenever the predecessor changes. */
  waiting: [info: WaitingInfo];
  /** Our node was deleted by someone else (an operator, an admin): a term resting on it ends now. */
  deleted: [];
  /** An operator wrote a step-down request into our node. */
  'step-down': [request: NodeRequest];
  /** A handoff asks us (waiting) to go to the back of the queue: see requeue(). */
  requeue: [request: NodeRequest];
}

/** What ended a wait behind our predecessor. */
type Wake = 'predecessor-deleted' | 'predecessor-changed' | 'own-node' | 'session' | 'requeue';

/** How long a leader's announcement waits for its session's other requests to be answered (see announce()). */
const ANNOUNCE_WAIT_MS = 1000;

/** What a candidacy creates its node with. */
export type CandidacyOptions = CreateOptions;

export class Candidacy extends EventEmitter<CandidacyEvents> {
  readonly #session: Session;
  readonly #parent: string;
  /** The ZooKeeper session the node lives on: it dies with it. */
  readonly epoch: number;
  readonly #options: CandidacyOptions;
  #state: NodeState = 'unplaced';
  /** The marker of the create attempt in flight or last made (names the node: c_<marker>_<seq>). */
  #marker = '';
  /** Our node's path once the server named it. */
  #path: string | undefined;
  #claim: Claim | undefined;
  /** When our current node was placed, on the session's monotonic clock. */
  #placedAt: number | undefined;
  /** The running place(): release() waits for it, so a reply still on its way is not missed. */
  #placing: Promise<void> | undefined;
  #released: Promise<void> | undefined;
  /** Wakes the wait behind our predecessor (its change, our node's deletion, our session's end, a requeue). */
  #wake: ((why: Wake) => void) | undefined;
  /**
   * The watch on our own node is armed: false between a data change (which uses it up) and the
   * read that re-arms it, while a deletion of our node would go unannounced.
   */
  #ownWatchArmed = false;
  /** A requeue in progress, and the node it leaves (deleted once the new one is placed). */
  #requeueing: Promise<void> | undefined;
  #previous: string | undefined;
  /** The watcher of the current wait behind our predecessor and the handle it went to, to take it back. */
  #predecessorWatch: { handle: ZkHandle; watcher: Watcher } | undefined;
  /** Our node's data and version as we read them back: what announce() writes again, if nobody wrote since. */
  #written: { data: Buffer; version: number } | undefined;
  /** Foreign children of the election path, logged once each. */
  readonly #warned = new Set<string>();
  /** Children with a candidate's name that no session owns (persistent): never our predecessor. */
  readonly #foreign = new Set<string>();

  constructor(session: Session, parent: string, epoch: number, options: CandidacyOptions) {
    super();
    this.#session = session;
    this.#parent = parent;
    this.epoch = epoch;
    this.#options = options;
  }

  get state(): NodeState {
    return this.#state;
  }
  /** Our node's full path, once the server named it (and until it is released). */
  get node(): string | undefined {
    return this.#state === 'released' || this.#state === 'gone' ? undefined : this.#path;
  }
  /** Placed, and its session still lives: the node can carry a campaign and a term. */
  get isPlaced(): boolean {
    return this.#state === 'placed' && this.#session.isCurrent(this.epoch);
  }
  /** When the current node was placed (the session's monotonic clock): how long it has waited. */
  get placedAt(): number | undefined {
    return this.#placedAt;
  }
  /** The claim a term rests on; set once placed, kept after (a term may begin on a node that has just gone). */
  claim(): Claim {
    if (!this.#claim) throw new CandidateGoneError(this.#path ?? this.#parent);
    return this.#claim;
  }

  /**
   * Creates our EPHEMERAL_SEQUENTIAL node and reads it back. Each attempt carries a fresh marker;
   * if the reply is lost with the connection, we look for that marker among the children, so a
   * node the server did create is adopted rather than left as a ghost. A node with our marker owned
   * by another session is not ours: we leave it and try again. Rejects with SESSION_EXPIRED when
   * the epoch ends (its node, if any, went with it). `signal` ends waits for a reconnection; a
   * request already sent still completes, and what it made is recorded.
   */
  place(signal: AbortSignal): Promise<void> {
    this.#placing = this.#place(signal);
    return this.#placing;
  }

  async #place(signal: AbortSignal): Promise<void> {
    for (let attempt = 1; this.#state !== 'placed'; attempt += 1) {
      throwIfAborted(signal);
      this.#marker = newMarker();
      this.#to('creating');
      const target = childPath(this.#parent, candidatePrefix(this.#marker));
      try {
        // Recorded inside the operation: an abort discards the operation's result, not this.
        await this.#retrying('create candidate node', async (handle) => this.#created(await createWithParents(handle, this.#parent, target, this.#options)), { retries: 0, signal });
      } catch (error) {
        if (!isRetryable(error)) {
          // The request never reached a live session or was refused: nothing was made (or it went with the session).
          if (this.#state === 'creating') this.#to(isZkElectionError(error, 'SESSION_EXPIRED') ? 'gone' : 'unplaced');
          throw error;
        }
        this.#options.logger.debug('create lost with the connection; looking for our marker', { marker: this.#marker, attempt });
        await this.#findLostCreate(signal);
        if (this.#state === 'unplaced') continue;
      }
      const path = this.#path;
      if (path !== undefined) await this.#describe(path, signal);
    }
  }

  /**
   * Waits until our node is the lowest. It watches only its immediate predecessor, never the
   * parent, and after a wake-up it lists the children again and recomputes (a deleted predecessor
   * never by itself means leadership: a lower candidate may still live), with one exception.
   *
   * One notification, no listing: when our predecessor was the lowest candidate at our last
   * listing (position 1), its deletion makes us the lowest. A candidate node's sequence number is
   * given by the server at its creation, grows with every creation under the path, and is the
   * order of the queue. Our listing was read on our own session after our node was created, so it
   * showed every candidate created before ours that still existed (only those can sort before
   * us): just one did, our predecessor; nodes created since sort after us, and a deleted node never
   * comes back. So once the predecessor is gone, nothing sorts before our node, as long as our node
   * exists. That we know from the watch on it: the server sends a client the events of the changes
   * in their order, and before the replies to requests that follow those changes, so a deletion of
   * our node before our predecessor's reaches us first (and ends this wait as `own-node`); the
   * shortcut is taken only while that watch is armed when the predecessor's event arrives (not
   * used up by a data change whose re-arming read is pending), our session lives and no requeue
   * is in progress. It does not cover a node somebody creates by hand with a chosen, not
   * sequential, candidate-shaped name: nobody can under a secured election path, and on an open
   * one whoever can create can delete any node, which no recipe survives. Everywhere else (a
   * predecessor further from the front, its data changed, a reconnection) we list again. A new
   * leader writes its node once (announce()), which is such a data change for its successor: the
   * successor lists then, while nothing is at stake, and sees its predecessor lowest, so the next
   * handover takes the shortcut even when the successor had joined behind several candidates.
   *
   * A term's lease counts from the latest request the server answered, and a notification is not
   * one (the server may be about to expire a session it still notifies). So while first in line a
   * candidacy holds its session's keep-alive, as a leader does (one read per third of the session
   * timeout, shared by everything on the session), and takes the shortcut only while that evidence
   * is fresh (under half the session timeout old): the term then starts with at least half its
   * lease ahead, never with one a long wait has used up.
   *
   * Rejects with CANDIDATE_GONE once our node is gone, SESSION_EXPIRED once its session is, or the
   * abort reason.
   */
  async untilLowest(signal: AbortSignal): Promise<void> {
    for (;;) {
      if (this.#requeueing) await raceAbort(this.#requeueing.catch(() => undefined), signal);
      const { node, name } = this.#live();
      const children = await this.#retrying('list candidates', (handle) => listChildren(handle, this.#parent), { signal });
      if (this.#requeueing) continue;
      const standing = standingOf(this.#foreign.size === 0 ? children : children.filter((c) => !this.#foreign.has(c)), name, (child) => this.#warnForeign(child));
      if (standing.kind === 'absent') this.#lost();
      this.#live();
      if (standing.kind === 'leader') {
        // Alone at this listing: whoever joins later lists after this and finds us the lowest, so
        // nobody needs our announcement (see announce()).
        if (!children.some((child) => child !== name && !this.#foreign.has(child) && parseCandidateName(child) !== undefined)) this.#written = undefined;
        return;
      }
      const firstInLine = standing.position === 1;
      const woken = new Promise<Wake>((resolve) => (this.#wake = resolve));
      // Our session's end wakes us too (an expiry answers no watch).
      const onSession = (): void => {
        if (!this.#session.isCurrent(this.epoch)) this.#wake?.('session');
      };
      this.#session.on('state', onSession);
      const releaseKeepAlive = firstInLine ? this.#session.keepAlive(this.epoch) : undefined;
      try {
        const predecessor = standing.predecessor.name;
        const read = await this.#watchPredecessor(predecessor, signal);
        if (read === undefined) {
          // Gone before the watch was armed: the same deletion, seen by the read.
          if (firstInLine && this.#mayLeadUnlisted()) return;
          continue;
        }
        if (!this.isPlaced || this.#requeueing) continue;
        if (!isLiveOwner(read.stat.ephemeralOwner)) {
          // A persistent node with a candidate's name: never a predecessor. List again without it.
          this.#foreign.add(predecessor);
          this.#options.logger.warn('ignoring a persistent node with a candidate name: it is not a candidate', { child: predecessor });
          continue;
        }
        this.emit('waiting', { node, predecessor, predecessorId: participantId(read.data), position: standing.position, leader: standing.leader.name });
        const why = await raceAbort(woken, signal);
        if (why === 'predecessor-deleted' && firstInLine && this.isPlaced && !this.#requeueing) return;
      } finally {
        this.#wake = undefined;
        this.#session.off('state', onSession);
        releaseKeepAlive?.();
        // Our watch on the predecessor must not keep this candidacy reachable from the handle
        // after the wait (a long-lived leader ahead of a closed candidate: issue 20).
        this.#predecessorWatch?.handle.unwatch?.(this.#predecessorWatch.watcher);
        this.#predecessorWatch = undefined;
      }
    }
  }

  /**
   * Goes to the back of the queue without leaving it (a handoff's request to a waiting
   * candidate): a new node is placed first, behind every candidate present, then the old one is
   * deleted, so whoever waits for that deletion knows the new node exists. A term never rests on a
   * node that is being requeued: only a waiting candidacy does this. Failing half-way, the
   * candidacy ends up unplaced and its campaign starts over.
   */
  requeue(signal: AbortSignal): Promise<void> {
    const previous = this.#path;
    if (this.#state !== 'placed' || this.#requeueing || this.#released || previous === undefined) return Promise.resolve();
    this.#previous = previous;
    this.#path = undefined;
    this.#ownWatchArmed = false;
    this.#to('unplaced');
    const requeueing = (async () => {
      try {
        await this.place(signal);
      } finally {
        await this.#session.deleteOwned(previous, this.epoch).catch((error: unknown) => this.#options.logger.warn('could not delete our previous node', { node: previous, error: (error as Error).message }));
        this.#previous = undefined;
      }
    })();
    this.#requeueing = requeueing;
    this.#wake?.('requeue');
    return requeueing.finally(() => {
      this.#requeueing = undefined;
      this.#wake?.('requeue');
    });
  }

  /**
   * Tells our successor, while nothing is at stake, that we lead: our node's data written again,
   * unchanged, which fires the watch our successor holds on it, so that it lists again now and
   * finds us the lowest. Then our deletion hands over in one notification (see untilLowest) even
   * when its last listing was older than our election (it joined behind several candidates, or
   * those ahead of us left from the front). Only the current leader calls this, once per term, and
   * does not wait for it. The write names the version we read back: if anybody wrote our node
   * since (an operator's step-down request, say), it fails harmlessly, and that write woke our
   * successor already. Any failure only costs the successor a listing at the handover.
   */
  announce(): void {
    const written = this.#written;
    const path = this.#path;
    if (!written || path === undefined || !this.isPlaced || this.#released) return;
    this.#written = undefined;
    const announce = async (handle: ZkHandle): Promise<void> => {
      // Not before the session's other requests are answered: the server answers a session's reads
      // only after its earlier writes, and a thousand elections changing leader on one shared
      // session (a mass failover) would otherwise wait behind a thousand announcements.
      await handle.whenIdle?.(ANNOUNCE_WAIT_MS);
      if (this.#path === path && this.isPlaced && !this.#released) await handle.setData(path, written.data, written.version);
    };
    this.#retrying('announce leadership', announce, { retries: 0 }).catch((error: unknown) => {
      this.#options.logger.debug('leadership not announced to our successor; it will list at the handover', { node: path, error: (error as Error).message });
    });
  }

  /** The one-notification shortcut's conditions: our own node, and fresh evidence of contact (see untilLowest). */
  #mayLeadUnlisted(): boolean {
    const session = this.#session;
    const contactAge = session.clock.now() - session.lastContact(this.epoch);
    return this.isPlaced && this.#ownWatchArmed && !this.#requeueing && contactAge < session.negotiatedTimeout / 2;
  }

  /**
   * Leaves no node of this candidacy behind; idempotent, and every caller gets the same promise. A
   * node the server named is deleted at once (the delete goes out before this returns: a
   * successor waits on it), after any place() still running has settled; a create whose outcome is
   * unknown is looked for by its marker first. Resolves early once the server must have expired
   * the session (see {@link expiryBound}): the node went with it. Rejects only when the server
   * refuses the delete (NO_AUTH): the node then stays until its session ends.
   */
  release(): Promise<void> {
    if (this.#released) return this.#released;
    const session = this.#session;
    const deleting = this.#path !== undefined && this.#state !== 'gone' ? session.deleteOwned(this.#path, this.epoch) : undefined;
    // A requeue's old node, if its delete is not done yet.
    const previous = this.#previous === undefined ? undefined : session.deleteOwned(this.#previous, this.epoch);
    const bound = expiryBound(session, this.epoch);
    const work = (async () => {
      await previous;
      await this.#placing?.catch(() => undefined);
      if (this.#state === 'creating' && session.isCurrent(this.epoch)) await this.#findLostCreate().catch(() => undefined);
      if (this.#path !== undefined && this.#state !== 'gone' && this.#state !== 'unplaced') await (deleting ?? session.deleteOwned(this.#path, this.epoch));
    })();
    this.#released = Promise.race([work, bound.promise]).finally(() => {
      bound.cancel();
      if (this.#state !== 'released') this.#to('released');
    });
    return this.#released;
  }

  /** The server named our node. Released meanwhile (given up for an expired session that was not): it goes at once. */
  #created(path: string): void {
    if (this.#state === 'released') {
      void this.#session.deleteOwned(path, this.epoch).catch(() => undefined);
      return;
    }
    this.#path = path;
    this.#to('created');
  }

  /** After a lost create reply: records our node's path if the server made it (found by its marker). */
  async #findLostCreate(signal?: AbortSignal): Promise<void> {
    await this.#retrying(
      'find lost create',
      async (handle) => {
        // Catch up with the ensemble's leader so a create it committed is visible here.
        await handle.sync(this.#parent);
        const found = findByMarker(await listChildren(handle, this.#parent), this.#marker);
        if (this.#state !== 'creating') return;
        if (found === undefined) this.#to('unplaced');
        else this.#created(childPath(this.#parent, found));
      },
      signal ? { signal } : {},
    );
  }

  /**
   * Reads our node back: its owner (Curator's ownership check: it must belong to this very
   * session), its czxid (the token), and arms the watch on it. A node with our marker owned by
   * another session is not ours: it is not touched, and the next attempt takes a new marker.
   */
  async #describe(path: string, signal: AbortSignal): Promise<void> {
    let read;
    try {
      read = await this.#retrying('read own node', (handle) => handle.get(path, this.#onOwnNode).then(({ data, stat }) => ({ data, stat, owner: handle.sessionId })), { signal });
    } catch (error) {
      if (isZkElectionError(error, 'NO_NODE')) this.#lost();
      throw error;
    }
    if (read.stat.ephemeralOwner !== read.owner) {
      this.#options.logger.warn('a node with our marker belongs to another session; leaving it and creating another', { node: path, owner: read.stat.ephemeralOwner });
      this.#path = undefined;
      this.#to('unplaced');
      return;
    }
    const name = baseName(path);
    const parsed = parseCandidateName(name);
    if (!parsed) throw new ZkElectionError(`server returned an unexpected node name ${path}`, 'UNEXPECTED_REPLY');
    this.#claim = { node: path, name, sequence: parsed.sequence, token: BigInt(read.stat.czxid) };
    this.#placedAt = this.#session.clock.now();
    this.#written = { data: read.data, version: read.stat.version };
    this.#ownWatchArmed = true;
    this.#to('placed');
  }

  /**
   * Arms a data watch on the predecessor (a data read, not exists: no watch is left behind on a
   * node that is already gone). Resolves with the predecessor's data and stat (its owner tells a
   * live candidate from a planted persistent node) once the watch is armed, or undefined when it
   * is gone already (list again at once).
   */
  async #watchPredecessor(predecessor: string, signal: AbortSignal): Promise<{ data: Buffer; stat: Stat } | undefined> {
    try {
      // Whether the shortcut's conditions hold is decided when the event arrives, not later.
      const watcher: Watcher = (event) => this.#wake?.(event.type === 'deleted' && this.#mayLeadUnlisted() ? 'predecessor-deleted' : 'predecessor-changed');
      const arm = (handle: ZkHandle): Promise<{ data: Buffer; stat: Stat }> => {
        this.#predecessorWatch = { handle, watcher };
        return handle.get(childPath(this.#parent, predecessor), watcher);
      };
      return await this.#retrying('watch predecessor', arm, { signal });
    } catch (error) {
      if (isZkElectionError(error, 'NO_NODE')) return undefined;
      throw error;
    }
  }

  /**
   * The watch on our own node, armed by the read that fetches the token (no extra request) and
   * re-armed by the read that follows each data change. A deletion ends a term at once (before its
   * successor can be elected) and wakes a waiting candidacy; a data change may carry an operator's
   * step-down request.
   */
  readonly #onOwnNode = (event: WatchEvent): void => {
    // A watch armed by reading a node that turned out not to be ours (an impostor with our marker)
    // fires too: only our own node's events count.
    if (event.path !== this.#path) return;
    if (event.type === 'deleted') return this.#deleted();
    if (event.type !== 'changed' || this.#state !== 'placed') return;
    this.#ownWatchArmed = false;
    this.#retrying('watch own node', (handle) => handle.get(event.path, this.#onOwnNode)).then(
      ({ data }) => {
        if (event.path !== this.#path || this.#state !== 'placed') return;
        this.#ownWatchArmed = true;
        const stepDown = nodeRequest(data, 'stepDown');
        if (stepDown) this.emit('step-down', stepDown);
        const requeue = nodeRequest(data, 'requeue');
        if (requeue) this.emit('requeue', requeue);
      },
      (error: unknown) => {
        // The node went between the change and this read: the watch that would have told us of the
        // deletion was the one this change used up, so this read is how we learn it. Any other
        // failure means the session is over, which its state tells.
        if (isZkElectionError(error, 'NO_NODE')) this.#deleted();
      },
    );
  };

  /** Our node was deleted by someone else (our own release is past 'placed' by the time its event comes). */
  #deleted(): void {
    if (this.#state !== 'placed' || this.#released) return;
    this.#to('gone');
    this.#wake?.('own-node');
    this.emit('deleted');
  }

  /** Our node is not where it should be: gone (CANDIDATE_GONE), or its session ended (SESSION_EXPIRED). */
  #live(): Claim {
    const claim = this.#claim;
    if (claim && this.#state === 'placed' && this.#session.isCurrent(this.epoch)) return claim;
    this.#lost();
  }

  #lost(): never {
    const node = this.#path ?? this.#parent;
    if (this.#state !== 'released' && this.#state !== 'gone') this.#to('gone');
    throw new CandidateGoneError(node);
  }

  #warnForeign(child: string): void {
    if (this.#warned.has(child)) return;
    this.#warned.add(child);
    this.#options.logger.warn('ignoring a child of the election path that is not a candidate node', { child });
  }

  /** An operation on our node's session only: once it is gone the call rejects with SESSION_EXPIRED. */
  #retrying<T>(what: string, operation: (handle: ZkHandle) => Promise<T>, options: { signal?: AbortSignal; retries?: number } = {}): Promise<T> {
    return this.#session.retrying(what, operation, { ...options, epoch: this.epoch });
  }

  #to(next: NodeState): void {
    if (!NODE_TRANSITIONS[this.#state].includes(next)) {
      throw new ZkElectionError(`candidate node of ${this.#parent}: no transition ${this.#state} -> ${next}`, 'ILLEGAL_TRANSITION');
    }
    this.#state = next;
  }
}
