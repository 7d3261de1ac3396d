/** Path helpers: joining and splitting znode paths, and making an election path's parents. */
import { isZkElectionError, NoNodeError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { CreateMode, type Acl, type ZkHandle } from './handle.js';

/** Handles whose server refused a container (ZooKeeper before 3.5): their parents are persistent. */
const withoutContainers = new WeakSet<ZkHandle>();

/**
 * Creates `path` and its missing ancestors with empty data (the binding's own mkdirp fills them
 * with junk), each with `acl` in its create request (never open for a moment), as container nodes (Curator's creatingParentContainersIfNeeded): ZooKeeper 3.5+
 * deletes a container once its last child is gone, so an election nobody runs any more leaves
 * nothing on the server. An older server answers UNIMPLEMENTED: persistent nodes then, said once
 * per handle at debug. Nodes that exist are left as they are. A concurrent creator is fine:
 * NODE_EXISTS counts as done. NO_NODE below the top means the server deleted an empty parent
 * under us: the caller walks again (Candidacy's create does).
 */
export async function ensurePath(client: ZkHandle, path: string, acl?: Acl[], logger?: Logger): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i += 1) {
    const prefix = `/${parts.slice(0, i).join('/')}`;
    try {
      await createParent(client, prefix, acl, logger);
    } catch (error) {
      if (isZkElectionError(error, 'NODE_EXISTS')) continue;
      if (isZkElectionError(error, 'NO_NODE') && i === 1) {
        // Only possible under a chroot that does not exist.
        throw new NoNodeError(-101, 'NO_NODE', { operation: 'create', path: `${prefix} (does the chroot in the connection string exist?)` });
      }
      throw error;
    }
  }
}

async function createParent(client: ZkHandle, path: string, acl: Acl[] | undefined, logger: Logger | undefined): Promise<void> {
  if (!withoutContainers.has(client)) {
    try {
      await client.create(path, Buffer.alloc(0), CreateMode.CONTAINER, acl);
      return;
    } catch (error) {
      if (!isZkElectionError(error, 'UNIMPLEMENTED')) throw error;
      withoutContainers.add(client);
      logger?.debug('the server has no container nodes (ZooKeeper before 3.5): parents are created persistent', { path });
    }
  }
  await client.create(path, Buffer.alloc(0), CreateMode.PERSISTENT, acl);
}

/** Joins a parent path and a child name. */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The last component of a path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
