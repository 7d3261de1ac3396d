/**
 * lib/native's create-acl+multi patch on a real server: a node created with an ACL has it from the
 * first moment another client can see the node (the ACL travels in the create request: no window
 * with the open ACL), and a multi is one transaction (check + create creates nothing once the
 * checked node is gone).
 */
import { isZkElectionError } from 'zk-election';
import type { ZkClient } from '../../lib/zk/native-client.js';
import { CreateMode, ensurePath, openClient } from '../support/clients.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';
import { Perms, type Acl } from '../../lib/zk/handle.js';

const zk = useZooKeeper({ servers: 1 });
const empty = Buffer.alloc(0);
/** What issue 18 asks for by default: everything for the creator, READ for everyone else. */
const CREATOR_ALL_WORLD_READ: Acl[] = [
  { scheme: 'auth', auth: '', perms: Perms.ALL },
  { scheme: 'world', auth: 'anyone', perms: Perms.READ },
];

let creator: ZkClient;
let observer: ZkClient;
beforeAll(async () => {
  creator = await openClient(zk.connectString);
  await creator.addAuth('digest', 'alice:secret');
  observer = await openClient(zk.connectString);
});
afterAll(() => {
  creator?.close();
  observer?.close();
});

/** True when anyone without credentials may do more than read the node: the window create-then-setAcl left open. */
function isOpen(acl: Acl[]): boolean {
  return acl.some((entry) => entry.scheme === 'world' && (entry.perms & ~Perms.READ) !== 0);
}

/**
 * Creates `count` nodes one after another while the observer, which has no credentials, watches
 * for each one and reads its ACL the moment the server tells it the node exists (the earliest any
 * other client can look). Returns how many it saw open.
 */
async function raceCreates(parent: string, count: number, create: (path: string) => Promise<void>): Promise<number> {
  let windows = 0;
  for (let i = 0; i < count; i += 1) {
    const path = `${parent}/n-${i}`;
    const seen = new Promise<void>((resolve, reject) => {
      observer
        .exists(path, () => observer.getAcl(path).then(({ acl }) => ((windows += isOpen(acl) ? 1 : 0), resolve()), reject))
        .then((stat) => stat && reject(new Error(`${path} existed before its create`)), reject);
    });
    // The observer's exists (and its watch) is on the server before the create: FIFO per session
    // does not order two sessions, so wait for its reply first.
    await observer.sync(parent);
    await create(path);
    await seen;
  }
  return windows;
}

test('a node created with an ACL is never seen with the open ACL: 1000 creates, 0 windows', async () => {
  const parent = uniquePath('acl-window');
  await ensurePath(creator, parent);
  const windows = await raceCreates(parent, 1000, (path) => creator.create(path, empty, CreateMode.PERSISTENT, CREATOR_ALL_WORLD_READ).then(() => undefined));
  expect(windows).toBe(0);
  // And the ACL is what was asked for ('auth' becomes the creator's digest id).
  const { acl } = await observer.getAcl(`${parent}/n-0`);
  expect(acl).toEqual([
    { scheme: 'digest', auth: expect.stringMatching(/^alice:/) as string, perms: Perms.ALL },
    { scheme: 'world', auth: 'anyone', perms: Perms.READ },
  ]);
  // Without the creator's credentials, anyone may read but not write.
  await expect(observer.setData(`${parent}/n-0`, Buffer.from('forged'))).rejects.toMatchObject({ code: 'NO_AUTH' });
}, 120_000);

test('the observer does see a node created open, then restricted (the window it measures is real)', async () => {
  const parent = uniquePath('acl-window-control');
  await ensurePath(creator, parent);
  const windows = await raceCreates(parent, 3, async (path) => {
    await creator.create(path, empty, CreateMode.PERSISTENT);
    // Held open until the observer has read it: the old create-then-setAcl with the slowest reply.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await creator.setAcl(path, CREATOR_ALL_WORLD_READ);
  });
  expect(windows).toBe(3);
});

test('container and ephemeral sequential nodes take an ACL too, in a create and in a multi', async () => {
  const parent = uniquePath('acl-modes');
  await ensurePath(creator, parent.slice(0, parent.lastIndexOf('/')));
  await creator.create(parent, empty, CreateMode.CONTAINER, CREATOR_ALL_WORLD_READ);
  const [, created] = await creator.multi([
    { type: 'check', path: parent },
    { type: 'create', path: `${parent}/c-`, data: empty, mode: CreateMode.EPHEMERAL_SEQUENTIAL, acl: CREATOR_ALL_WORLD_READ },
  ]);
  expect(created).toEqual({ type: 'create', path: expect.stringMatching(/\/c-\d{10}$/) as string });
  for (const path of [parent, (created as { path: string }).path]) expect(isOpen((await observer.getAcl(path)).acl)).toBe(false);
  expect((await creator.exists((created as { path: string }).path))?.ephemeralOwner).toBe(creator.sessionId);
});

test('check + create creates the node only while the checked node exists; once it is gone, nothing is created', async () => {
  const parent = uniquePath('handoff');
  await ensurePath(creator, parent);
  const holder = await openClient(zk.connectString);
  try {
    await holder.create(`${parent}/owner`, empty, CreateMode.EPHEMERAL);
    const handoff = (target: string): Promise<unknown> =>
      creator.multi([
        { type: 'check', path: `${parent}/owner` },
        { type: 'create', path: target, data: Buffer.from('next'), mode: CreateMode.EPHEMERAL },
      ]);
    await handoff(`${parent}/first`);
    expect(await observer.exists(`${parent}/first`)).toBeDefined();
    holder.close();
    const failure = await handoff(`${parent}/second`).catch((error: unknown) => error);
    expect(isZkElectionError(failure, 'NO_NODE')).toBe(true);
    expect(failure).toMatchObject({ operation: 'multi: check', path: `${parent}/owner` });
    expect(await observer.exists(`${parent}/second`)).toBeUndefined();
    expect((await observer.getChildren(parent)).sort()).toEqual(['first']);
  } finally {
    holder.close();
  }
});

test('a multi that fails at a later op leaves the earlier ones undone, and names the failing op', async () => {
  const parent = uniquePath('rollback');
  await ensurePath(creator, parent);
  await creator.create(`${parent}/a`, Buffer.from('before'), CreateMode.PERSISTENT);
  const failure = await creator
    .multi([
      { type: 'set', path: `${parent}/a`, data: Buffer.from('after'), version: 0 },
      { type: 'create', path: `${parent}/b`, data: empty, mode: CreateMode.PERSISTENT },
      { type: 'delete', path: `${parent}/a`, version: 7 },
    ])
    .catch((error: unknown) => error);
  expect(isZkElectionError(failure, 'BAD_VERSION')).toBe(true);
  expect(failure).toMatchObject({ operation: 'multi: delete', path: `${parent}/a` });
  expect((await observer.get(`${parent}/a`)).data.toString()).toBe('before');
  expect(await observer.exists(`${parent}/b`)).toBeUndefined();
  const results = await creator.multi([
    { type: 'set', path: `${parent}/a`, data: Buffer.from('after'), version: 0 },
    { type: 'create', path: `${parent}/b`, data: empty, mode: CreateMode.PERSISTENT },
    { type: 'delete', path: `${parent}/b` },
  ]);
  expect(results).toMatchObject([{ type: 'set', stat: { version: 1 } }, { type: 'create', path: `${parent}/b` }, { type: 'delete' }]);
});
