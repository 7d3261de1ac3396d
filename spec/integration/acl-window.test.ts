/**
 * Issue 18, item 1, through the library: an election with credentials creates its parents and its
 * candidate node with the ACL inside each create request, so a client without credentials that
 * races the creates (watching for every node and reading its ACL the moment the server tells it
 * the node exists) never sees one open. The control does what the library did before: create,
 * then setAcl; the same racer sees that window.
 */
import { electLeader, Perms, Session, type Acl } from 'zk-election';
import type { ZkClient } from '../../lib/zk/native-client.js';
import { CreateMode, ensurePath, openClient } from '../support/clients.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
const TRIALS = 200;
const auth = { scheme: 'digest', credentials: 'ops:s3cret' };

let racer: ZkClient;
let session: Session;
beforeAll(async () => {
  racer = await openClient(zk.connectString);
  session = await Session.connect({ connect: zk.connectString, auth });
});
afterAll(async () => {
  racer?.close();
  await session?.close();
});

/** Anyone without credentials may do more than read it. */
const isOpen = (acl: Acl[]): boolean => acl.some((entry) => entry.scheme === 'world' && (entry.perms & ~Perms.READ) !== 0);

interface Seen {
  reads: number;
  open: string[];
}

/**
 * Arms the racer on `parent` (not yet there), `parent/election` and the candidates under it: every
 * node is read the moment the server says it exists. Resolves once the candidate node was read.
 */
function race(parent: string, seen: Seen): Promise<void> {
  const election = `${parent}/election`;
  const read = async (path: string): Promise<void> => {
    const { acl } = await racer.getAcl(path);
    seen.reads += 1;
    if (isOpen(acl)) seen.open.push(path);
  };
  return new Promise<void>((resolve, reject) => {
    const done = new Set<string>();
    const children = (): void => {
      racer.getChildren(election, children).then(async (names) => {
        for (const name of names.filter((n) => !done.has(n))) {
          done.add(name);
          await read(`${election}/${name}`);
          resolve();
        }
      }, reject);
    };
    racer.exists(parent, () => void read(parent).catch(reject)).catch(reject);
    racer.exists(election, () => read(election).then(children, reject)).catch(reject);
  });
}

test(`${TRIALS} elections with credentials: parents and candidate nodes are never seen with the open ACL`, async () => {
  const root = uniquePath('acl-window');
  await ensurePath(racer, root);
  const seen: Seen = { reads: 0, open: [] };
  for (let i = 0; i < TRIALS; i += 1) {
    const parent = `${root}/trial-${i}`;
    const raced = race(parent, seen);
    // The racer's watches are on the server before the first create: FIFO per session does not
    // order two sessions, so wait for its requests' replies.
    await racer.sync(root);
    const leadership = await electLeader(`${parent}/election`, { connect: session, id: `trial-${i}` });
    await raced;
    await leadership.resign();
  }
  // Three nodes per trial (the parent, the election path, the candidate), each read at once.
  expect(seen).toEqual({ reads: 3 * TRIALS, open: [] });
  // And the ACL is the default with credentials: the creator's digest id may do all, anyone may read.
  expect((await racer.getAcl(`${root}/trial-0/election`)).acl).toEqual([{ scheme: 'digest', auth: expect.stringMatching(/^ops:/) as string, perms: Perms.ALL }, { scheme: 'world', auth: 'anyone', perms: Perms.READ }]);
}, 180_000);

test('control: created open, then restricted by a second request (the library before), the same racer sees the window', async () => {
  const root = uniquePath('acl-window-control');
  await ensurePath(racer, root);
  const creator = await openClient(zk.connectString);
  try {
    await creator.addAuth('digest', auth.credentials);
    const restricted: Acl[] = [{ scheme: 'auth', auth: '', perms: Perms.ALL }, { scheme: 'world', auth: 'anyone', perms: Perms.READ }];
    const seen: Seen = { reads: 0, open: [] };
    for (let i = 0; i < 50; i += 1) {
      const parent = `${root}/trial-${i}`;
      const raced = race(parent, seen);
      await racer.sync(root);
      for (const path of [parent, `${parent}/election`]) {
        await creator.create(path, Buffer.alloc(0), CreateMode.PERSISTENT);
        await creator.setAcl(path, restricted);
      }
      const node = await creator.create(`${parent}/election/c_${'0'.repeat(32)}_`, Buffer.alloc(0), CreateMode.EPHEMERAL_SEQUENTIAL);
      await creator.setAcl(node, restricted);
      await raced;
    }
    expect(seen.reads).toBe(150);
    // Seen open at least once in 150 reads (on loopback, most of the time).
    expect(seen.open.length).toBeGreaterThan(0);
    process.stderr.write(`acl-window control: ${seen.open.length} of ${seen.reads} nodes seen open with create-then-setAcl\n`);
  } finally {
    creator.close();
  }
}, 120_000);
