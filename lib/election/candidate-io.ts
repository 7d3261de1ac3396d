/**
 * A Candidacy's requests, as functions of a handle (candidacy.ts owns the node; these only send):
 * the create with its parents, the listing, reading a predecessor's id, and the moment a lost
 * session must be over on the server.
 */
import { isZkElectionError } from '../errors.js';
import { PARENT_RETRY, retry } from '../session/retry.js';
import type { Session } from '../session/session.js';
import type { Logger } from '../util/logger.js';
import { warnIfMoreOpen } from '../zk/acl.js';
import { CreateMode, type Acl, type ZkHandle } from '../zk/handle.js';
import { ensurePath } from '../zk/paths.js';
import { parsePayload } from '../znode/payload.js';

export interface CreateOptions {
  /** The JSON our node holds. */
  payload: Buffer;
  acl: Acl[] | undefined;
  logger: Logger;
}

/**
 * Our node, and the election path's parents when it is missing, each with our ACL in the create
 * request itself (the node never exists with another one). NO_NODE after the parents were made
 * means the server deleted one in between (an empty container: see ensurePath): walk again from
 * the top, a bounded few times; nothing was created, so nothing is left behind.
 */
export function createWithParents(handle: ZkHandle, parent: string, target: string, options: CreateOptions): Promise<string> {
  const attempt = async (): Promise<string> => {
    try {
      const created = await handle.create(target, options.payload, CreateMode.EPHEMERAL_SEQUENTIAL, options.acl);
      // The election path was there already: say so if it is more open than what we would create.
      if (options.acl) void warnIfMoreOpen(handle, parent, options.acl, options.logger);
      return created;
    } catch (error) {
      if (!isZkElectionError(error, 'NO_NODE')) throw error;
    }
    await ensurePath(handle, parent, options.acl, options.logger);
    return handle.create(target, options.payload, CreateMode.EPHEMERAL_SEQUENTIAL, options.acl);
  };
  return retry('create candidate node under its parents', attempt, { ...PARENT_RETRY, logger: options.logger, retryIf: (error) => isZkElectionError(error, 'NO_NODE') });
}

/** The children of the election path ([] when it does not exist). */
export async function listChildren(handle: ZkHandle, parent: string): Promise<string[]> {
  try {
    return await handle.getChildren(parent);
  } catch (error) {
    if (isZkElectionError(error, 'NO_NODE')) return [];
    throw error;
  }
}

export function participantId(data: Buffer): string | undefined {
  const id = parsePayload(data)?.id;
  return typeof id === 'string' ? id : undefined;
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
