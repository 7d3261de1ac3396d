/**
 * Issue 20: nothing left on the server. The election path and every parent the library creates
 * are container nodes (ZooKeeper 3.5+), which the server deletes once their last child is gone;
 * the server's container check runs every `znode.container.checkIntervalMs` (a minute by default,
 * half a second here, through the test kit's `systemProperties`). A candidate that comes after
 * re-creates the path, and one whose create races the server's deletion of a parent (NO_NODE)
 * walks again from the top: no error reaches its user.
 */
import { Election, Session, type Transport, type ZkHandle } from 'zk-election';
import { nativeTransport } from '../../lib/zk/native-client.js';
import { CreateMode, openClient } from '../support/clients.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

/**
 * A container's stat shows no owner, as a persistent node's: the server keeps its mark
 * (ephemeralOwner Long.MIN_VALUE) to itself. What shows a container is its deletion once empty.
 */
const NO_OWNER = '0';
const CHECK_MS = 500;
const GONE_WITHIN_MS = 20 * CHECK_MS;

/** The path and each of its ancestors, top first: `/a/b/c` -> `/a`, `/a/b`, `/a/b/c`. */
function levels(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

async function owners(client: ZkHandle, paths: string[]): Promise<Array<string | undefined>> {
  return Promise.all(paths.map(async (path) => (await client.exists(path))?.ephemeralOwner));
}

/** Resolves with performance.now() when `path` is deleted (at once if it is gone); rejects after `ms`. */
async function deletion(client: ZkHandle, path: string, ms: number): Promise<number> {
  let fired!: () => void;
  const deleted = new Promise<void>((resolve) => (fired = resolve));
  const watcher = (): void => fired();
  if ((await client.exists(path, watcher)) === undefined) return performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${path} still exists after ${ms} ms`)), ms)));
  try {
    await Promise.race([deleted, timeout]);
    return performance.now();
  } finally {
    clearTimeout(timer);
    client.unwatch?.(watcher);
  }
}

describe('with the container check every half second', () => {
  const zk = useZooKeeper({ servers: 1, systemProperties: { 'znode.container.checkIntervalMs': String(CHECK_MS) } });
  const elections: Election[] = [];
  afterEach(async () => {
    await Promise.all(elections.splice(0).map((election) => election.close()));
  });

  test('the election path and its parents are containers; once the last candidate left the server deletes them, deepest first; a new candidate makes them again and leads', async () => {
    const operator = await openClient(zk.connectString);
    try {
      const path = `${uniquePath('containers')}/shard-1`;
      const chain = levels(path);
      const first = new Election(path, { connect: zk.connectString, id: 'first' });
      elections.push(first);
      await first.start();
      await first.waitForLeadership();
      expect(await owners(operator, chain)).toEqual(chain.map(() => NO_OWNER));

      const closedAt = performance.now();
      await first.close();
      const gone = await Promise.all(chain.map((level) => deletion(operator, level, GONE_WITHIN_MS)));
      const after = gone.map((at) => Math.round(at - closedAt));
      process.stderr.write(`container parents: last candidate closed; then gone after ${chain.map((level, i) => `${level} ${after[i]} ms`).reverse().join(', ')} (check every ${CHECK_MS} ms)\n`);
      // The server deletes a parent only once it is empty: the election path first, the top last.
      expect([...gone].sort((a, b) => b - a)).toEqual(gone);
      expect(await owners(operator, chain)).toEqual(chain.map(() => undefined));

      const next = new Election(path, { connect: zk.connectString, id: 'next' });
      elections.push(next);
      const errors: Error[] = [];
      next.on('error', (error) => errors.push(error));
      await next.start();
      const leadership = await next.waitForLeadership();
      expect({ errors, owners: await owners(operator, chain), node: leadership.node.startsWith(`${path}/`) }).toEqual({ errors: [], owners: chain.map(() => NO_OWNER), node: true });
      // Containers again: gone once this candidate left too.
      await next.close();
      await Promise.all(chain.map((level) => deletion(operator, level, GONE_WITHIN_MS)));
    } finally {
      operator.close();
    }
  });

  test('a path an operator made persistent is left as it is: never turned into a container, never deleted', async () => {
    const operator = await openClient(zk.connectString);
    try {
      const path = uniquePath('persistent');
      const parent = path.slice(0, path.lastIndexOf('/'));
      await operator.create(parent, Buffer.alloc(0), CreateMode.PERSISTENT);
      await operator.create(path, Buffer.alloc(0), CreateMode.PERSISTENT);
      const kept = new Election(path, { connect: zk.connectString });
      // A sibling election path, made by the library: its deletion shows that a container check ran.
      const sibling = new Election(`${parent}/sibling`, { connect: zk.connectString });
      elections.push(kept, sibling);
      await Promise.all([kept.start(), sibling.start()]);
      await kept.close();
      await sibling.close();
      await deletion(operator, `${parent}/sibling`, GONE_WITHIN_MS);
      expect(await owners(operator, [parent, path])).toEqual([NO_OWNER, NO_OWNER]);
    } finally {
      operator.close();
    }
  });
});

describe('a create racing the deletion of a parent', () => {
  // No container check during this test: the only deletions are the ones the test makes.
  const zk = useZooKeeper({ servers: 1, systemProperties: { 'znode.container.checkIntervalMs': '3600000' } });

  /** A transport whose creates run `before` first and are written to `log` with their outcome. */
  function hooked(before: (path: string) => Promise<void>, log: string[], name: (path: string) => string): Transport {
    return (options) => {
      const handle = nativeTransport(options);
      return new Proxy(handle, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target);
          if (property === 'create') {
            return async (path: string, data: Buffer, mode: (typeof CreateMode)[keyof typeof CreateMode]) => {
              await before(path);
              try {
                const made = await target.create(path, data, mode);
                log.push(`${name(path)} ok`);
                return made;
              } catch (error) {
                log.push(`${name(path)} ${(error as { code?: string }).code}`);
                throw error;
              }
            };
          }
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    };
  }

  test('NO_NODE on the candidate node and on a parent: the parents are made again from the top, the candidate leads, no error', async () => {
    const operator = await openClient(zk.connectString);
    const top = uniquePath('race');
    const path = `${top}/shard-1`;
    const [root, middle] = levels(path);
    const name = (p: string): string => (p.startsWith(`${path}/`) ? 'candidate' : p === path ? 'path' : p === middle ? 'middle' : p === root ? 'root' : p);
    const log: string[] = [];
    let raced = false;
    // The server's container check, played by an operator: it deletes the (empty) middle parent
    // right before the candidate creates the election path under it.
    const before = async (p: string): Promise<void> => {
      if (raced || p !== path) return;
      raced = true;
      await operator.delete(middle!);
    };
    const session = await Session.connect({ connect: zk.connectString, transport: hooked(before, log, name) });
    const election = new Election(path, { connect: session });
    const errors: Error[] = [];
    election.on('error', (error) => errors.push(error));
    try {
      await election.start();
      await election.waitForLeadership();
      expect({ errors, log }).toEqual({
        errors: [],
        log: [
          'candidate NO_NODE', // no election path yet
          'root ok',
          'middle ok',
          'path NO_NODE', // the middle parent was deleted under us
          'candidate NO_NODE', // walk again, from the top
          'root NODE_EXISTS',
          'middle ok',
          'path ok',
          'candidate ok',
        ],
      });
      expect(await owners(operator, levels(path))).toEqual([NO_OWNER, NO_OWNER, NO_OWNER]);
    } finally {
      await election.close();
      await session.close();
      operator.close();
    }
  });
});
