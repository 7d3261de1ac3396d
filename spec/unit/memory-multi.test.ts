/**
 * The in-memory ZooKeeper's transactions and ACLs, which unit tests of code built on `multi` and
 * create-with-ACL rely on: a multi happens whole or not at all (no node, no sequence number, no
 * watch event left by a failed one), a failure names the op that failed, and a node keeps the ACL
 * it was created with (stored, not enforced). The same behaviour on a real server is
 * spec/integration/native-acl-multi.test.ts.
 */
import { isZkElectionError, type Session, type ZkHandle } from 'zk-election';
import { MemoryZooKeeper } from 'zk-election/testing';
import { CreateMode, OPEN_ACL, Perms, type Acl } from '../../lib/zk/handle.js';

const SECRET_ACL: Acl[] = [
  { scheme: 'digest', auth: 'alice:c2VjcmV0aGFzaGhhc2hoYXNoaGFzaGg=', perms: Perms.ALL },
  { scheme: 'world', auth: 'anyone', perms: Perms.READ },
];
const empty = Buffer.alloc(0);

let memory: MemoryZooKeeper;
let session: Session;
const on = <T>(work: (handle: ZkHandle) => Promise<T>): Promise<T> => session.retrying('test', work, { retries: 0 });

beforeEach(async () => {
  memory = new MemoryZooKeeper();
  session = await memory.connect();
  await on((h) => h.create('/e', empty, CreateMode.CONTAINER));
});
afterEach(() => session.close());

test('check + create: the create happens only while the checked node exists', async () => {
  await on((h) => h.create('/e/owner', empty, CreateMode.EPHEMERAL));
  const results = await on((h) =>
    h.multi([
      { type: 'check', path: '/e/owner' },
      { type: 'create', path: '/e/leader-', data: Buffer.from('x'), mode: CreateMode.EPHEMERAL_SEQUENTIAL },
    ]),
  );
  expect(results).toEqual([{ type: 'check' }, { type: 'create', path: expect.stringMatching(/^\/e\/leader-\d{10}$/) as string }]);
});

test('a multi whose check fails leaves nothing: no node, no sequence number used, no watch event', async () => {
  let events = 0;
  await on((h) => h.getChildren('/e', () => (events += 1)));
  const failure = await on((h) =>
    h.multi([
      { type: 'create', path: '/e/first', data: empty, mode: CreateMode.PERSISTENT },
      { type: 'check', path: '/e/gone' },
      { type: 'create', path: '/e/leader-', data: empty, mode: CreateMode.PERSISTENT_SEQUENTIAL },
    ]),
  ).catch((error: unknown) => error);
  expect(isZkElectionError(failure, 'NO_NODE')).toBe(true);
  expect(failure).toMatchObject({ path: '/e/gone', operation: 'multi: check' });
  await memory.settle();
  expect(memory.children('/e')).toEqual([]);
  expect(events).toBe(0);
  // The failed transaction took no sequence number: the next sequential child is still the first.
  expect(await on((h) => h.create('/e/leader-', empty, CreateMode.PERSISTENT_SEQUENTIAL))).toBe('/e/leader-0000000000');
});

test('a multi that fails at its last op undoes the ones before it, and reports the failing op', async () => {
  await on((h) => h.create('/e/taken', Buffer.from('before'), CreateMode.PERSISTENT));
  const failure = await on((h) =>
    h.multi([
      { type: 'set', path: '/e/taken', data: Buffer.from('after') },
      { type: 'delete', path: '/e/taken', version: 1 },
      { type: 'create', path: '/e/taken', data: empty, mode: CreateMode.PERSISTENT },
      { type: 'create', path: '/e/taken', data: empty, mode: CreateMode.PERSISTENT },
    ]),
  ).catch((error: unknown) => error);
  expect(isZkElectionError(failure, 'NODE_EXISTS')).toBe(true);
  expect(failure).toMatchObject({ operation: 'multi: create', path: '/e/taken' });
  const { data, stat } = await on((h) => h.get('/e/taken'));
  expect(data.toString()).toBe('before');
  expect(stat.version).toBe(0);
});

test('a successful multi gives one result per op, in order, and shares one zxid', async () => {
  await on((h) => h.create('/e/a', empty, CreateMode.PERSISTENT));
  const results = await on((h) =>
    h.multi([
      { type: 'set', path: '/e/a', data: Buffer.from('1'), version: 0 },
      { type: 'create', path: '/e/b', data: empty, mode: CreateMode.PERSISTENT },
      { type: 'delete', path: '/e/a' },
    ]),
  );
  expect(results.map((r) => r.type)).toEqual(['set', 'create', 'delete']);
  expect(results[0]).toMatchObject({ type: 'set', stat: { version: 1 } });
  const b = await on((h) => h.exists('/e/b'));
  expect(b?.czxid).toBe((results[0] as { stat: { mzxid: number } }).stat.mzxid);
  expect(memory.children('/e')).toEqual(['b']);
});

test('create stores the ACL it is given; without one a node has the open ACL', async () => {
  await on((h) => h.create('/e/secret', empty, CreateMode.EPHEMERAL, SECRET_ACL));
  await on((h) => h.multi([{ type: 'create', path: '/e/also', data: empty, mode: CreateMode.PERSISTENT, acl: SECRET_ACL }]));
  await on((h) => h.create('/e/open', empty, CreateMode.PERSISTENT));
  expect((await on((h) => h.getAcl('/e/secret'))).acl).toEqual(SECRET_ACL);
  expect(memory.acl('/e/also')).toEqual(SECRET_ACL);
  expect(memory.acl('/e/open')).toEqual(OPEN_ACL);
});

test('setAcl replaces the ACL, checks and bumps its version; an empty ACL is INVALID_ACL', async () => {
  await on((h) => h.create('/e/n', empty, CreateMode.PERSISTENT));
  await on((h) => h.setAcl('/e/n', SECRET_ACL, 0));
  const { acl, stat } = await on((h) => h.getAcl('/e/n'));
  expect(acl).toEqual(SECRET_ACL);
  expect(stat.aversion).toBe(1);
  await expect(on((h) => h.setAcl('/e/n', OPEN_ACL as Acl[], 0))).rejects.toMatchObject({ code: 'BAD_VERSION' });
  await expect(on((h) => h.create('/e/m', empty, CreateMode.PERSISTENT, []))).rejects.toMatchObject({ code: 'INVALID_ACL' });
});
