/**
 * zookeeper-7.3.0-latency.patch makes the native close send its request without waiting for the
 * server's reply (it used to wait up to 1.5 s on the event loop; the bench prints the figure).
 * What must still hold, tested here against a real server: the server ends the session when it
 * reads the request, so its ephemeral nodes go at once, not a session timeout later, even when
 * the server was frozen at the moment of the close.
 */
import { Session } from 'zk-election';
import { CreateMode, ensurePath, openClient } from '../support/clients.js';
import { waitFor } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
/** Long, so that a node gone within a few seconds went with the close, not with an expiry. */
const SESSION_TIMEOUT = 20_000;

async function sessionWithNode(path: string): Promise<Session> {
  const session = await Session.connect({ connect: zk.connectString, sessionTimeout: SESSION_TIMEOUT });
  await session.retrying('create', async (handle) => {
    await ensurePath(handle, path.slice(0, path.lastIndexOf('/')));
    await handle.create(path, Buffer.alloc(0), CreateMode.EPHEMERAL);
  });
  return session;
}

test('a closed session takes its ephemeral node with it at once, though close() no longer waits for the reply', async () => {
  const operator = await openClient(zk.connectString);
  try {
    const path = `${uniquePath()}-reachable`;
    const session = await sessionWithNode(path);
    expect(await operator.exists(path)).toBeDefined();
    await session.close();
    await waitFor(async () => (await operator.exists(path)) === undefined, { timeoutMs: 5000, message: 'the node to go with the closed session' });
  } finally {
    operator.close();
  }
});

test('a close made while the server is frozen still ends the session when the server runs again', async () => {
  const operator = await openClient(zk.connectString);
  const server = zk.ensemble.servers[0]!;
  try {
    const path = `${uniquePath()}-frozen`;
    const session = await sessionWithNode(path);
    server.pause();
    try {
      await session.close();
    } finally {
      server.resume();
    }
    await waitFor(async () => (await operator.exists(path).catch(() => 'unknown' as const)) === undefined, {
      timeoutMs: 5000,
      message: 'the node to go once the server read the close request',
    });
  } finally {
    operator.close();
  }
});
