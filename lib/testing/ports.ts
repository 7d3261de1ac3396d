import net from 'node:net';

/** The only address the local servers and their clients use. */
export const LOOPBACK = '127.0.0.1';

function listenOnLoopback(port = 0): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => resolve(server));
  });
}

/** Whether nothing listens on `port` on the loopback address now. */
export async function isLoopbackPortFree(port: number): Promise<boolean> {
  try {
    await closeServer(await listenOnLoopback(port));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return false;
    throw error;
  }
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * `count` distinct free loopback ports. All listeners stay open until every port is read,
 * so the kernel cannot hand out the same port twice; another process may still take one
 * before the JVM binds it, which the caller handles by retrying with fresh ports.
 */
export async function freeLoopbackPorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i += 1) servers.push(await listenOnLoopback());
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}
