/**
 * The recipe's I/O for one candidate node: create it (protected against lost replies), read it
 * back (owner, token, and the watch on our own node), list the queue, watch exactly one
 * predecessor, and delete it again. Pure decisions live in recipe.ts; the lifecycle around these
 * steps lives in election.ts.
 *
 * The node is tracked by a {@link Placement} that the election holds *before* the create is
 * sent: whatever happens next (a close, an abort, a lost reply, an expiry), `releaseNode` knows
 * enough to leave no node behind.
 */
import { CandidateGoneError, isRetryable, ZkElectionError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { candidatePrefix, findByMarker, newMarker, parseCandidateName, standingOf, type Standing } from '../znode/recipe.js';
import { baseName, childPath } from '../zk/paths.js';
import type { Session } from '../session/session.js';
import { CreateMode, type Acl, type Watcher, type ZkHandle } from '../zk/handle.js';
import { ensurePath } from '../zk/paths.js';

/** Our place in one election's queue, on one ZooKeeper session (epoch). */
export interface Placement {
  readonly parent: string;
  readonly epoch: number;
  /** The marker of the create attempt in flight or last made (names the node: c_<marker>_<seq>). */
  marker: string;
  /** Set once the server named our node (the create's reply, or the marker search after a lost reply). */
  path?: string;
  name?: string;
  sequence?: number;
  /** czxid of our node: the fencing token should this candidate lead. */
  token?: bigint;
  /** A create was sent and we do not know whether the server made the node. */
  unknown: boolean;
  /** Set when our own node is reported deleted, or its session ended. */
  gone: boolean;
  /** The delete of our node once one was sent: every later release joins it. */
  released?: Promise<void>;
}

export function newPlacement(parent: string, epoch: number): Placement {
  return { parent, epoch, marker: newMarker(), unknown: false, gone: false };
}

export interface PlaceOptions {
  logger: Logger;
  /** Ends waits for a reconnection; a request already sent still completes (and is recorded). */
  signal?: AbortSignal | undefined;
  acl?: Acl[] | undefined;
  /** The watch on our own node: deletion (gone) and data changes (a step-down request). */
  onOwnNode: Watcher;
}

/**
 * Creates our EPHEMERAL_SEQUENTIAL node on `placement.epoch` and reads it back. Each attempt
 * carries a fresh marker; if the reply is lost with the connection, we look for that marker
 * among the children, so a node the server did create is adopted rather than left as a ghost.
 * A node with our marker owned by another session is not ours: we leave it and try again.
 * Rejects with SESSION_EXPIRED when the epoch ends (its node, if any, went with it).
 */
export async function placeNode(session: Session, placement: Placement, payload: Buffer, options: PlaceOptions): Promise<void> {
  const { epoch, parent } = placement;
  for (let attempt = 1; placement.path === undefined; attempt += 1) {
    if (attempt > 1) placement.marker = newMarker();
    const target = childPath(parent, candidatePrefix(placement.marker));
    placement.unknown = true;
    try {
      // Recorded inside the operation: an abort discards the operation's result, not this.
      await session.retrying(
        'create candidate node',
        async (handle) => {
          placement.path = await createWithParents(handle, parent, target, payload, options.acl);
          placement.unknown = false;
        },
        { epoch, retries: 0, ...signalOf(options) },
      );
    } catch (error) {
      if (!isRetryable(error)) {
        // The request never reached a live session (or was refused): nothing was made.
        if ((error as ZkElectionError).code !== 'SESSION_EXPIRED') placement.unknown = false;
        throw error;
      }
      options.logger.debug('create lost with the connection; looking for our marker', { marker: placement.marker, attempt });
      await findLostCreate(session, placement, options.signal);
      if (placement.path === undefined) continue;
    }
    if (!(await describe(session, placement, options))) placement.path = undefined;
  }
}

async function createWithParents(handle: ZkHandle, parent: string, target: string, payload: Buffer, acl: Acl[] | undefined): Promise<string> {
  try {
    return await handle.create(target, payload, CreateMode.EPHEMERAL_SEQUENTIAL);
  } catch (error) {
    if ((error as ZkElectionError).code !== 'NO_NODE') throw error;
    await ensurePath(handle, parent, acl);
    return handle.create(target, payload, CreateMode.EPHEMERAL_SEQUENTIAL);
  }
}

/** After a lost create reply: records our node's path if the server made it (found by its marker). */
async function findLostCreate(session: Session, placement: Placement, signal?: AbortSignal): Promise<void> {
  await session.retrying(
    'find lost create',
    async (handle) => {
      // Catch up with the ensemble's leader so a create it committed is visible here.
      await handle.sync(placement.parent);
      const found = findByMarker(await listChildren(handle, placement.parent), placement.marker);
      if (found !== undefined) placement.path = childPath(placement.parent, found);
      placement.unknown = false;
    },
    { epoch: placement.epoch, ...(signal ? { signal } : {}) },
  );
}

function signalOf(options: { signal?: AbortSignal | undefined }): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

/**
 * Reads our node back: its owner (Curator's ownership check: it must belong to this very
 * session), its czxid (the token), and arms the watch on it. False: the node with our marker
 * belongs to someone else; it is not touched.
 */
async function describe(session: Session, placement: Placement, options: PlaceOptions): Promise<boolean> {
  const path = placement.path!;
  let result;
  try {
    result = await session.retrying('read own node', (handle) => handle.get(path, options.onOwnNode).then((read) => ({ ...read, owner: handle.sessionId })), {
      epoch: placement.epoch,
      ...signalOf(options),
    });
  } catch (error) {
    if ((error as ZkElectionError).code === 'NO_NODE') throw new CandidateGoneError(path);
    throw error;
  }
  if (result.stat.ephemeralOwner !== result.owner) {
    options.logger.warn('a node with our marker belongs to another session; leaving it and creating another', { node: path, owner: result.stat.ephemeralOwner });
    return false;
  }
  if (options.acl) await session.retrying('set ACL', (handle) => handle.setAcl(path, options.acl!), { epoch: placement.epoch, ...signalOf(options) });
  const name = baseName(path);
  const parsed = parseCandidateName(name);
  if (!parsed) throw new ZkElectionError(`server returned an unexpected node name ${path}`, 'UNEXPECTED_REPLY');
  placement.name = name;
  placement.sequence = parsed.sequence;
  placement.token = BigInt(result.stat.czxid);
  return true;
}

/** Re-arms the watch on our own node after it fired for a data change; resolves with its data. */
export async function rewatchOwnNode(session: Session, placement: Placement, watcher: Watcher): Promise<Buffer> {
  const { data } = await session.retrying('watch own node', (handle) => handle.get(placement.path!, watcher), { epoch: placement.epoch });
  return data;
}

/** The children of the election path ([] when it does not exist). */
export async function listChildren(handle: ZkHandle, parent: string): Promise<string[]> {
  try {
    return await handle.getChildren(parent);
  } catch (error) {
    if ((error as ZkElectionError).code === 'NO_NODE') return [];
    throw error;
  }
}

/** Where we stand, from a fresh listing on our own session. Foreign children are logged once each. */
export async function readStanding(session: Session, placement: Placement, warned: Set<string>, logger: Logger, signal?: AbortSignal): Promise<Standing> {
  const children = await session.retrying('list candidates', (handle) => listChildren(handle, placement.parent), { epoch: placement.epoch, ...signalOf({ signal }) });
  return standingOf(children, placement.name!, (child) => {
    if (warned.has(child)) return;
    warned.add(child);
    logger.warn('ignoring a child of the election path that is not a candidate node', { child });
  });
}

/**
 * Arms a data watch on the predecessor (a data read, not exists: no watch is left behind on a
 * node that is already gone). Resolves with the predecessor's data once the watch is armed, or
 * undefined when it is gone already (list again at once). `onChange` fires once, later.
 */
export async function watchPredecessor(session: Session, placement: Placement, predecessor: string, onChange: () => void, signal?: AbortSignal): Promise<Buffer | undefined> {
  try {
    const { data } = await session.retrying('watch predecessor', (handle) => handle.get(childPath(placement.parent, predecessor), () => onChange()), {
      epoch: placement.epoch,
      ...signalOf({ signal }),
    });
    return data;
  } catch (error) {
    if ((error as ZkElectionError).code === 'NO_NODE') return undefined;
    throw error;
  }
}

/**
 * Leaves no node of this placement behind. Called once whatever placed it has settled. A node
 * named by the server is deleted (a service of the session: until done or the session is gone);
 * a create whose outcome is unknown is looked for by its marker first. Resolves early when
 * `bound` does: by then the server has expired the session, and the node with it.
 */
export async function releaseNode(session: Session, placement: Placement, bound: Promise<void>): Promise<void> {
  const work = (async () => {
    if (placement.path === undefined && placement.unknown && session.isCurrent(placement.epoch)) {
      await findLostCreate(session, placement).catch(() => undefined);
    }
    placement.unknown = false;
    if (placement.path !== undefined) await (placement.released ??= session.deleteOwned(placement.path, placement.epoch));
  })();
  await Promise.race([work, bound]);
}

/**
 * Resolves once ZooKeeper must have expired the session of `epoch` if we could not reach it: the
 * server expires a session a timeout after it last heard from it, rounded up to its next tick
 * (a tick is at most half the timeout), so 1.5 timeouts after our last contact. At once when the
 * epoch is already over.
 */
export function expiryBound(session: Session, epoch: number): { promise: Promise<void>; cancel: () => void } {
  if (!session.isCurrent(epoch)) return { promise: Promise.resolve(), cancel: () => {} };
  const left = session.lastContact(epoch) + 1.5 * session.negotiatedTimeout - session.clock.now();
  let timer: ReturnType<typeof session.clock.setTimeout> | undefined;
  const promise = new Promise<void>((resolve) => (timer = session.clock.setTimeout(resolve, Math.max(0, left))));
  return { promise, cancel: () => session.clock.clearTimeout(timer) };
}

