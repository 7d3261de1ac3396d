/**
 * ZkClient.whenIdle() on a real server: what a leader's announcement waits for (lib/election/
 * candidacy.ts, announce()) so that, on a session shared by many elections, it does not hold up
 * the replies to their urgent reads (the server answers a session's reads after its earlier writes).
 */
import { settlesWithin } from '../../lib/process/wait.js';
import type { ZkClient } from '../../lib/zk/native-client.js';
import { CreateMode, ensurePath, openClient } from '../support/clients.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
let client: ZkClient;
beforeAll(async () => {
  client = await openClient(zk.connectString);
});
afterAll(() => client?.close());

test('whenIdle resolves at once with nothing in flight, and only after every request in flight is answered', async () => {
  const path = uniquePath();
  await ensurePath(client, path);
  await client.whenIdle(60_000);
  const answered: number[] = [];
  const requests = Array.from({ length: 200 }, (_unused, i) => client.create(`${path}/n-`, Buffer.alloc(0), CreateMode.PERSISTENT_SEQUENTIAL).then(() => answered.push(i)));
  let answeredAtIdle = -1;
  // The bound is far beyond the test's own timeout: only the last reply can end this wait.
  await client.whenIdle(60_000).then(() => (answeredAtIdle = answered.length));
  await Promise.all(requests);
  expect(answeredAtIdle).toBe(200);
});

test('whenIdle ends at its bound while requests keep coming, and at once on a closed handle', async () => {
  const path = uniquePath();
  await ensurePath(client, path);
  let stop = false;
  const busy = (async () => {
    while (!stop) await Promise.all([client.getChildren(path), client.getChildren(path)]);
  })();
  // Keep one request in flight at every moment: the session never goes idle, the bound ends the wait.
  const inFlight = client.getChildren(path);
  const ended = await Promise.race([client.whenIdle(200).then(() => 'bound' as const), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000).unref())]);
  stop = true;
  await Promise.all([busy, inFlight]);
  expect(ended).toBe('bound');
  const other = await openClient(zk.connectString);
  const pending = other.getChildren('/').catch(() => undefined);
  const waiting = other.whenIdle(60_000);
  other.close();
  expect(await settlesWithin(waiting, 5000)).toBe(true);
  await pending;
});
