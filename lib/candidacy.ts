/**
 * The recipe's I/O: create our candidate node (protected against lost replies), then wait behind
 * exactly one predecessor until our node is the lowest. Pure decisions live in recipe.ts; the
 * lifecycle around these steps lives in election.ts.
 */
import { abortReason, onAbort, throwIfAborted } from './abort.js';
import { isRetryable, SessionExpiredError, ZkElectionError } from './errors.js';
import type { Logger } from './logger.js';
import { baseName, candidatePrefix, childPath, findByMarker, newMarker, parseCandidateName, standingOf, type Standing } from './recipe.js';
import type { Session } from './session.js';
import { CreateMode, type Acl, type ZkClient } from './zk-client.js';
import { ensurePath } from './znodes.js';

export interface Candidate {
  client: ZkClient;
  /** Full path of our node. */
  path: string;
  name: string;
  sequence: number;
  /** czxid of our node: the fencing token should this candidate lead. */
  token: bigint;
}

/** Our node disappeared while we waited (deleted by someone, or its parent removed). */
export class CandidateGoneError extends ZkElectionError {
  override name = 'CandidateGoneError';
  constructor(path: string) {
    super(`candidate node ${path} no longer exists`, 'NO_NODE');
  }
}

const MAX_CREATE_ATTEMPTS = 10;

/**
 * Creates our EPHEMERAL_SEQUENTIAL node. Each attempt carries a fresh marker in the node name; if
 * the reply is lost with the connection, we look for that marker among the children before trying
 * again, so a node the server did create is adopted rather than left behind as a ghost.
 */
export async function createCandidate(
  session: Session,
  parent: string,
  payload: Buffer,
  options: { signal?: AbortSignal; logger: Logger; acl?: Acl[] },
): Promise<Candidate> {
  for (let attempt = 1; ; attempt += 1) {
    const client = await session.client(options.signal);
    const marker = newMarker();
    let path: string | undefined;
    try {
      path = await createWithParents(client, parent, candidatePrefix(marker), payload, options.acl);
    } catch (error) {
      if (!isRetryable(error) || attempt >= MAX_CREATE_ATTEMPTS) throw error;
      options.logger.debug('create lost with the connection; looking for our marker', { marker, attempt });
      path = await findLostCreate(session, client, parent, marker, options.signal);
    }
    if (path === undefined) continue;
    if (options.signal?.aborted) {
      await client.delete(path).catch(() => {});
      throw abortReason(options.signal);
    }
    const described = await describeOnSameSession(session, client, path, options);
    if (described) return described;
    // undefined: the session changed under us, and the node went with the old one.
  }
}

/**
 * Reads our new node back (owner and token), retrying through connection loss on the session that
 * created it. The node must not be left behind on a session that lives on: it would hold a place
 * ahead of the node we create next, and we would wait behind ourselves forever.
 */
async function describeOnSameSession(session: Session, client: ZkClient, path: string, options: { signal?: AbortSignal; acl?: Acl[] }): Promise<Candidate | undefined> {
  for (;;) {
    try {
      return await describeCandidate(client, path, options.acl);
    } catch (error) {
      if (isRetryable(error)) {
        if ((await session.client(options.signal)) !== client) return undefined;
        continue;
      }
      await client.delete(path).catch(() => {});
      throw error;
    }
  }
}

async function createWithParents(client: ZkClient, parent: string, prefix: string, payload: Buffer, acl: Acl[] | undefined): Promise<string> {
  const target = childPath(parent, prefix);
  try {
    return await client.create(target, payload, CreateMode.EPHEMERAL_SEQUENTIAL);
  } catch (error) {
    if ((error as ZkElectionError).code !== 'NO_NODE') throw error;
    await ensurePath(client, parent, acl);
    return client.create(target, payload, CreateMode.EPHEMERAL_SEQUENTIAL);
  }
}

/** After a lost create reply: our node's path if the server made it, undefined to try again. */
async function findLostCreate(session: Session, client: ZkClient, parent: string, marker: string, signal?: AbortSignal): Promise<string | undefined> {
  for (;;) {
    const live = await session.client(signal);
    // A new session means the old one expired, and any node it created went with it.
    if (live !== client) return undefined;
    try {
      // Catch up with the ensemble's leader so a create it committed is visible here.
      await client.sync(parent);
      const found = findByMarker(await client.getChildren(parent), marker);
      return found === undefined ? undefined : childPath(parent, found);
    } catch (error) {
      if ((error as ZkElectionError).code === 'NO_NODE') return undefined;
      if (!isRetryable(error)) throw error;
    }
  }
}

async function describeCandidate(client: ZkClient, path: string, acl: Acl[] | undefined): Promise<Candidate> {
  const { stat } = await client.get(path);
  // Curator's ownership check: the node must belong to this very session.
  if (stat.ephemeralOwner !== client.sessionId) {
    throw new ZkElectionError(`candidate node ${path} is owned by session ${stat.ephemeralOwner}, not ours (${client.sessionId})`, 'INVALID_STATE');
  }
  if (acl) await client.setAcl(path, acl);
  const name = baseName(path);
  const parsed = parseCandidateName(name);
  if (!parsed) throw new ZkElectionError(`server returned an unexpected node name ${path}`, 'INVALID_STATE');
  return { client, path, name, sequence: parsed.sequence, token: BigInt(stat.czxid) };
}

export interface WaitOptions {
  signal?: AbortSignal;
  logger: Logger;
  /** Told the leader's node name after every listing (undefined: no candidate at all). */
  onListing?: (leaderName: string | undefined, position: number) => void;
}

/**
 * Waits until our node is the lowest. After every wake-up it lists the children again and
 * recomputes: a deleted predecessor never by itself means leadership (a lower candidate may still
 * live). It watches only its immediate predecessor, with a data read, so no watch is left behind
 * on a node that is already gone; never the parent.
 */
export async function waitUntilLowest(session: Session, candidate: Candidate, parent: string, options: WaitOptions): Promise<void> {
  const warned = new Set<string>();
  for (;;) {
    throwIfAborted(options.signal);
    // Only the standing outlives the listing: with N candidates waiting, holding each one's copy of
    // the children across the wait below would cost O(N) memory per candidate.
    const standing = await readStanding(session, candidate, parent, warned, options);
    if (standing.kind === 'absent') throw new CandidateGoneError(candidate.path);
    if (standing.kind === 'leader') {
      options.onListing?.(candidate.name, 0);
      return;
    }
    options.onListing?.(standing.leader.name, standing.position);
    await waitForChange(candidate.client, childPath(parent, standing.predecessor.name), options.signal);
  }
}

async function readStanding(session: Session, candidate: Candidate, parent: string, warned: Set<string>, options: WaitOptions): Promise<Standing> {
  const children = await listOnSameSession(session, candidate.client, parent, options.signal);
  return standingOf(children, candidate.name, (child) => {
    if (warned.has(child)) return;
    warned.add(child);
    options.logger.warn('ignoring a child of the election path that is not a candidate node', { child });
  });
}

async function listOnSameSession(session: Session, client: ZkClient, parent: string, signal?: AbortSignal): Promise<string[]> {
  for (;;) {
    try {
      return await client.getChildren(parent);
    } catch (error) {
      if ((error as ZkElectionError).code === 'NO_NODE') return [];
      if (!isRetryable(error)) throw error;
      if ((await session.client(signal)) !== client) throw new SessionExpiredError(-112, 'SESSION_EXPIRED');
    }
  }
}

/** Resolves when the watched node changes or is already gone; rejects on abort or when the session ends. */
function waitForChange(client: ZkClient, path: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      detach();
      client.off('closed', onClosed);
      if (error) reject(error);
      else resolve();
    };
    const onClosed = (): void => finish(new SessionExpiredError(-112, 'SESSION_EXPIRED', { operation: 'watch', path }));
    const detach = signal ? onAbort(signal, () => finish(abortReason(signal))) : () => {};
    client.on('closed', onClosed);
    client.get(path, () => finish()).then(
      () => {},
      (error: ZkElectionError) => {
        // Already gone: re-list at once. Connection loss: the listing after it decides.
        if (error.code === 'NO_NODE' || isRetryable(error)) finish();
        else finish(error);
      },
    );
  });
}
