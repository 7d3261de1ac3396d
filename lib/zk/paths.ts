/** Path helpers: joining and splitting znode paths, and making an election path's parents. */
import { isZkElectionError, NoNodeError } from '../errors.js';
import { CreateMode, type Acl, type ZkHandle } from './handle.js';

/**
 * Creates `path` and its missing ancestors as persistent nodes with empty data (the binding's own
 * mkdirp fills them with junk), each with `acl` in its create request (never open for a moment).
 * A concurrent creator is fine: NODE_EXISTS counts as done.
 */
export async function ensurePath(client: ZkHandle, path: string, acl?: Acl[]): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i += 1) {
    const prefix = `/${parts.slice(0, i).join('/')}`;
    try {
      await client.create(prefix, Buffer.alloc(0), CreateMode.PERSISTENT, acl);
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

/** Joins a parent path and a child name. */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** The last component of a path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
