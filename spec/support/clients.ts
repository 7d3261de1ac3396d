/** Bare clients and ports for tests that need to act beside the library (foreign nodes, closed ports). */
import { createServer } from 'node:net';
import { systemClock } from '../../lib/util/clock.js';
import { ZkClient } from '../../lib/zk/native-client.js';

// Beside the library, tests create nodes of their own (foreign children, parents): the bare
// client's create modes and parent-making helper, from here rather than from lib/ in every test.
export { CreateMode } from '../../lib/zk/handle.js';
export { ensurePath } from '../../lib/zk/paths.js';

/** A connected bare client; the caller closes it. */
export async function openClient(connect: string, sessionTimeout = 4000): Promise<ZkClient> {
  const client = new ZkClient({ connect, sessionTimeout, clock: systemClock });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ${connect} within 10 s`)), 10_000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

