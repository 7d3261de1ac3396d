/**
 * observeLeader(): follow the leader of an election without taking part in it (etcd's Observe,
 * client-go's OnNewLeader). It owns no node, never polls, and holds one watch at a time:
 *
 *   - the leader's node (a data watch) while somebody leads: it fires when the leader leaves (and
 *     when its data changes, a new leader's announcement or a step-down request: then that node
 *     alone is read again);
 *   - the parent's children while nobody leads: it fires when the first candidate joins;
 *   - the parent's existence while the election path does not exist.
 *
 * Joins and departures behind the leader touch none of these, so they cost an observer nothing.
 * A new lowest node can only appear by the leader leaving (sequence numbers only grow), so the
 * leader's node is the only one worth watching. Values are coalesced: a consumer slower than the
 * changes gets the latest state, never an older one after a newer. A persistent node with a
 * candidate's name (planted: no session owns it) is no candidate: read once, it is skipped, and the
 * watch that read left on it can only wake the observer once more.
 */
import type { EventEmitter } from 'node:events';
import { isZkElectionError } from '../errors.js';
import { withContext, type Logger } from '../util/logger.js';
import { FOREIGN, readOne, type Participant } from './list-participants.js';
import { sortCandidates } from '../znode/recipe.js';
import { childPath } from '../zk/paths.js';
import type { Session, SessionState } from '../session/session.js';
import type { AuthInfo } from '../session/session-options.js';
import { resolveSession } from '../session/resolve-session.js';
import { validateTlsOptions, type TlsOptions } from '../session/tls-options.js';
import { keysOf, optionalSignal, optionsObject, validateElectionPath } from '../util/validate.js';
import type { Watcher, ZkHandle } from '../zk/handle.js';

export interface ObserveLeaderOptions {
  /** `host:port,...[/chroot]`, or a Session to share. @default process.env.ZK_CONNECT, then '127.0.0.1:2181' */
  connect?: string | Session | undefined;
  /** Ends the iteration (it returns; the session it opened is closed). */
  signal?: AbortSignal | undefined;
  /** ms to wait for a connection, for a session of its own. @default 10000 */
  connectTimeout?: number | undefined;
  /** ms, for a session of its own. @default 10000 */
  sessionTimeout?: number | undefined;
  auth?: AuthInfo | AuthInfo[] | undefined;
  /**
   * Connect over TLS (ZooKeeper's secureClientPort): **paths** of PEM files, checked when this is
   * called, before anything connects (TLS_CONFIG). Ignored with a shared Session (it has its own).
   * @default plaintext
   */
  tls?: TlsOptions | undefined;
  logger?: Logger | undefined;
}

/** The leader of the election at `path` now, then once per change: a Participant, or undefined when nobody leads. */
export function observeLeader(path: string, options: ObserveLeaderOptions = {}): AsyncIterableIterator<Participant | undefined> {
  optionsObject('options', options, OBSERVE_KEYS);
  validateElectionPath(path);
  optionalSignal('signal', options.signal);
  const tls = validateTlsOptions(options.tls);
  return new LeaderObserver(path, { ...options, ...(tls ? { tls } : {}) })[Symbol.asyncIterator]();
}

const OBSERVE_KEYS = keysOf<ObserveLeaderOptions>()('connect', 'signal', 'connectTimeout', 'sessionTimeout', 'auth', 'tls', 'logger');

type Seen = { leader: Participant | undefined };

/** One observer: a background loop that keeps `#latest` current, and the consumer's side. */
export class LeaderObserver implements AsyncIterable<Participant | undefined> {
  readonly #path: string;
  readonly #options: ObserveLeaderOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #latest: Seen | undefined;
  #version = 0;
  #failure: Error | undefined;
  #notify: (() => void) | undefined;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;
  /** Children with a candidate's name that no session owns, seen in the last listing. */
  readonly #foreign = new Set<string>();

  constructor(path: string, options: ObserveLeaderOptions) {
    this.#path = path;
    this.#options = options;
    this.#log = withContext(options.logger, { path, observer: true });
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Participant | undefined> {
    const outer = this.#options.signal;
    const onAbort = (): void => {
      this.#stop.abort(outer?.reason);
      // Both waits end at once: the consumer's for the next value, the loop's for the next change.
      this.#notify?.();
      this.#wake?.();
    };
    outer?.addEventListener('abort', onAbort, { once: true });
    if (outer?.aborted) onAbort();
    this.#running ??= this.#run();
    let yielded = 0;
    let last: Seen | undefined;
    try {
      for (;;) {
        while (this.#version === yielded && !this.#stop.signal.aborted && !this.#failure) {
          await new Promise<void>((resolve) => (this.#notify = resolve));
        }
        if (this.#failure) throw this.#failure;
        if (this.#stop.signal.aborted) return;
        yielded = this.#version;
        if (last && sameLeader(last.leader, this.#latest!.leader)) continue;
        last = this.#latest!;
        yield last.leader;
      }
    } finally {
      outer?.removeEventListener('abort', onAbort);
      this.#stop.abort();
      this.#wake?.();
      await this.#running;
    }
  }

  /** Reads and watches until stopped; a failure it cannot get past ends the iteration with it. */
  async #run(): Promise<void> {
    let session: Session | undefined;
    let owned = false;
    const onState = (state: SessionState): void => {
      // After a reconnection or a new session: read again (a change may have gone unseen).
      if (state === 'reconnected' || state === 'connected' || state === 'expired') this.#wake?.();
    };
    try {
      ({ session, owned } = await resolveSession(this.#options.connect, { ...this.#options, signal: this.#stop.signal }));
      session.on('state', onState);
      // The leader whose node's data changed (a new leader's announcement, a step-down request):
      // the next look reads that node again, without listing.
      let changedLeader: Participant | undefined;
      while (!this.#stop.signal.aborted) {
        let woken!: () => void;
        const changed = new Promise<void>((resolve) => (woken = resolve));
        this.#wake = woken;
        // One watcher per look, taken back from the handle once the look is over (fired, or given
        // up by a stop or a reconnection): a handle outlives its observers (issue 20).
        const watcher: Watcher = (event) => {
          changedLeader = event.type === 'changed' && event.path === this.#latest?.leader?.node ? this.#latest.leader : undefined;
          woken();
        };
        const known = changedLeader;
        changedLeader = undefined;
        let armed: ZkHandle | undefined;
        try {
          const seen = await session.retrying('observe leader', (handle) => this.#readAndWatch((armed = handle), watcher, known), { signal: this.#stop.signal });
          this.#publish(seen);
          await changed;
        } finally {
          armed?.unwatch?.(watcher);
        }
      }
    } catch (error) {
      if (!this.#stop.signal.aborted) {
        this.#log.warn('observer ended', { error: (error as Error).message });
        this.#failure = error as Error;
      }
    } finally {
      session?.off('state', onState);
      if (owned) await session?.close();
      this.#notify?.();
    }
  }

  /**
   * One look at the election, leaving exactly one watch that fires on the next leader change. After
   * a data change of the leader's node, reading that node again is enough while it exists: nothing
   * can sort before it (a new node only after it, sequence numbers only grow).
   */
  async #readAndWatch(handle: ZkHandle, watcher: Watcher, changed?: Participant): Promise<Seen> {
    if (changed) {
      const again = await readOne(handle, changed.node, changed.sequence, watcher);
      if (again && again !== FOREIGN) return { leader: { ...again, leader: true } };
    }
    for (;;) {
      let children: string[];
      try {
        children = await handle.getChildren(this.#path);
      } catch (error) {
        if (!isZkElectionError(error, 'NO_NODE')) throw error;
        // No election path: wait for it to appear (exists watches fire on creation).
        if ((await handle.exists(this.#path, watcher)) === undefined) return { leader: undefined };
        continue;
      }
      // Persistent nodes with a candidate's name are no candidates (lib/znode/recipe.ts isLiveOwner):
      // once read, they are left out of every later listing.
      const listed = new Set(children);
      for (const name of this.#foreign) if (!listed.has(name)) this.#foreign.delete(name);
      const live = (names: string[]) => sortCandidates(names).candidates.filter((c) => !this.#foreign.has(c.name));
      const lowest = live(children)[0];
      if (!lowest) {
        // Nobody leads: the first join is the next change. A child watch, re-armed by a listing.
        const again = await handle.getChildren(this.#path, watcher);
        if (live(again).length === 0) return { leader: undefined };
        continue;
      }
      const leader = await readOne(handle, childPath(this.#path, lowest.name), lowest.sequence, watcher);
      if (leader === FOREIGN) {
        this.#log.warn('ignoring a persistent node with a candidate name: it is not a candidate', { node: lowest.name });
        this.#foreign.add(lowest.name);
        continue;
      }
      // Gone between the listing and the read: look again.
      if (leader) return { leader: { ...leader, leader: true } };
    }
  }

  #publish(seen: Seen): void {
    this.#latest = seen;
    this.#version += 1;
    this.#notify?.();
  }
}

function sameLeader(a: Participant | undefined, b: Participant | undefined): boolean {
  return a?.node === b?.node;
}

/**
 * Election's `leader` event: an observer of the election's own path on its session, running only
 * while somebody listens (a watch and a read per leader change are not free, and a candidate does
 * not need them to campaign). @internal
 */
export class LeaderEvents {
  #running: AbortController | undefined;

  constructor(
    private readonly emitter: EventEmitter,
    private readonly path: string,
    private readonly host: { session(): Session | undefined; emit(leader: Participant | undefined): void; error(error: Error): void; logger: Logger | undefined },
  ) {
    const onListeners = (event: string | symbol): void => {
      if (event === 'leader') queueMicrotask(() => this.sync());
    };
    // Node's own events about listeners, not ElectionEvents.
    emitter.on('newListener', onListeners);
    emitter.on('removeListener', onListeners);
  }

  /** Starts or stops following, as listeners, the session and the election's state now call for. */
  sync(): void {
    const session = this.emitter.listenerCount('leader') > 0 ? this.host.session() : undefined;
    if (session && !this.#running) {
      const stop = new AbortController();
      this.#running = stop;
      void this.#follow(session, stop.signal);
    } else if (!session && this.#running) {
      this.#running.abort();
      this.#running = undefined;
    }
  }

  async #follow(session: Session, signal: AbortSignal): Promise<void> {
    try {
      for await (const leader of observeLeader(this.path, { connect: session, signal, ...(this.host.logger ? { logger: this.host.logger } : {}) })) this.host.emit(leader);
    } catch (error) {
      if (!signal.aborted) this.host.error(error as Error);
    }
  }
}
