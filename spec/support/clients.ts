/** Bare clients and ports for tests that need to act beside the library (foreign nodes, forced expiry). */
import { createServer } from 'node:net';
import { systemClock } from '../../lib/clock.js';
import { ZkClient } from '../../lib/zk-client.js';
import { settleWithin } from './processes.js';

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

/**
 * Forces expiry the standard way: attach a second handle to the same session and close it. Retried
 * until `client` itself hears of the expiry, because the two handles race: if the original
 * reconnects in between, the server moves the session back to it, the twin's close never reaches
 * the server, and the session lives on.
 */
export async function expireSession(connect: string, client: ZkClient, attempts = 5): Promise<void> {
  const expired = new Promise<void>((resolve) => {
    if (client.closed) resolve();
    else client.once('closed', () => resolve());
  });
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    await closeTwin(connect, client);
    const heard = await settleWithin(expired.then(() => true), Math.max(3000, 2 * client.negotiatedTimeout));
    if (heard) return;
  }
  throw new Error(`session ${client.sessionId} did not expire after ${attempts} attempts`);
}

async function closeTwin(connect: string, client: ZkClient): Promise<void> {
  const twin = new ZkClient({ connect, sessionTimeout: client.negotiatedTimeout, session: { id: client.sessionId, password: client.sessionPassword }, clock: systemClock }, true);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      twin.close();
      reject(new Error('twin session handle did not connect'));
    }, 10_000);
    twin.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  twin.close();
}
