/**
 * The native client's TLS (lib/native/zookeeper-7.3.0-tls.patch) at the handle level, against a
 * TLS-only ZooKeeper (Netty, secureClientPort): the server's certificate is checked against the
 * given CA and no other, mutual TLS works with a client certificate (and an encrypted key), a
 * plaintext client cannot use the TLS port nor a TLS client the plaintext one, and every refusal
 * says why (`tlsError`) while the handle keeps trying. A server that accepts connections and never
 * answers does not hold the event loop (the stock C client's handshake blocked it for good).
 * The library-level `tls` option, the CLI flags and the election over TLS are tested elsewhere.
 */
import net from 'node:net';
import type { TlsOptions } from '../../lib/zk/handle.js';
import { systemClock } from '../../lib/util/clock.js';
import { ZkClient } from '../../lib/zk/native-client.js';
import { CreateMode } from '../support/clients.js';
import { KEY_PASSPHRASE, startTlsZooKeeper, type TlsZooKeeper } from '../support/tls-zookeeper.js';

/** Long enough that no refused handle here gives up or times a handshake out on its own. */
const SESSION_TIMEOUT = 30_000;
const handles: ZkClient[] = [];
afterEach(() => handles.splice(0).forEach((handle) => handle.close()));

function open(connect: string, tls?: TlsOptions): ZkClient {
  const handle = new ZkClient({ connect, sessionTimeout: SESSION_TIMEOUT, clock: systemClock, ...(tls ? { tls } : {}) });
  handles.push(handle);
  return handle;
}

/** 'connected'; or the first TLS error the handle reports; or 'no connection' after `ms`. */
function outcome(handle: ZkClient, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const finish = (result: string): void => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve(result);
    };
    const timer = setTimeout(() => finish(handle.tlsError ?? 'no connection'), ms);
    // A refusal has no event: the handle just tries again. Its reason shows in tlsError.
    const poll = setInterval(() => handle.tlsError !== undefined && finish(handle.tlsError), 20);
    handle.once('connected', () => finish('connected'));
  });
}

async function roundTrip(handle: ZkClient): Promise<string> {
  const path = await handle.create(`/tls-${process.hrtime.bigint()}`, Buffer.from('over TLS'), CreateMode.EPHEMERAL);
  return (await handle.get(path)).data.toString();
}

describe('server-only TLS', () => {
  let server: TlsZooKeeper;
  beforeAll(async () => {
    server = await startTlsZooKeeper({ clientAuth: 'none' });
  }, 60_000);
  afterAll(() => server?.stop());
  const secure = (): string => `127.0.0.1:${server.securePort}`;

  test('with the CA that signed the server certificate: a session, requests, no TLS error', async () => {
    const handle = open(secure(), { ca: server.files.ca });
    expect(await outcome(handle, 15_000)).toBe('connected');
    expect(await roundTrip(handle)).toBe('over TLS');
    expect(handle.tlsError).toBeUndefined();
  });

  test('with another CA: refused, because of the certificate', async () => {
    expect(await outcome(open(secure(), { ca: server.files.otherCa }), 4000)).toMatch(/^TLS handshake failed: the server's certificate: unable to get local issuer certificate/);
  });

  test('a plaintext client on the TLS port gets no session', async () => {
    expect(await outcome(open(secure()), 4000)).toBe('no connection');
  });

  test('a TLS client on the plaintext port: refused, and the reason says so', async () => {
    expect(await outcome(open(`127.0.0.1:${server.plainPort}`, { ca: server.files.ca }), 4000)).toMatch(/the server closed the connection \(is it a TLS port\?\)/);
  });

  test('a CA file that does not load: refused, naming the file', async () => {
    const missing = `${server.files.ca}.missing`;
    expect(await outcome(open(secure(), { ca: missing }), 4000)).toContain(`cannot load the CA file ${missing}`);
  });

  test('a server that accepts the connection and never answers: the handshake times out, the event loop runs on', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as net.AddressInfo;
      const handle = new ZkClient({ connect: `127.0.0.1:${port}`, sessionTimeout: 3000, clock: systemClock, tls: { ca: server.files.ca } });
      handles.push(handle);
      // Timers keep firing while the handshake waits (the stock client blocked in select() here).
      let ticks = 0;
      const ticker = setInterval(() => (ticks += 1), 10);
      const reason = await outcome(handle, 5000);
      clearInterval(ticker);
      expect(sockets.length).toBeGreaterThanOrEqual(1);
      expect(ticks).toBeGreaterThan(100);
      expect(reason).toBe(`TLS handshake timed out: 127.0.0.1:${port} did not answer`);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      silent.close();
    }
  }, 20_000);
});

describe('mutual TLS (the server needs a client certificate)', () => {
  let server: TlsZooKeeper;
  beforeAll(async () => {
    server = await startTlsZooKeeper({ clientAuth: 'need' });
  }, 60_000);
  afterAll(() => server?.stop());
  const secure = (): string => `127.0.0.1:${server.securePort}`;

  test('without a client certificate: refused by the server', async () => {
    expect(await outcome(open(secure(), { ca: server.files.ca }), 4000)).toMatch(/^TLS handshake failed: .*alert/);
  });

  test('with a client certificate: a session', async () => {
    const handle = open(secure(), { ca: server.files.ca, cert: server.files.clientCert, key: server.files.clientKey });
    expect(await outcome(handle, 15_000)).toBe('connected');
    expect(await roundTrip(handle)).toBe('over TLS');
  });

  test('with an encrypted key: its passphrase opens it, a wrong one is named', async () => {
    const { ca, clientCert: cert, encryptedClientKey: key } = server.files;
    expect(await outcome(open(secure(), { ca, cert, key, passphrase: KEY_PASSPHRASE }), 15_000)).toBe('connected');
    expect(await outcome(open(secure(), { ca, cert, key, passphrase: 'wrong' }), 4000)).toContain(`cannot load the client key ${key}`);
  });
});

test('settings the C client cannot take are refused before anything connects', () => {
  const bad: TlsOptions[] = [{ ca: '' }, { ca: '/a,b.pem' }, { ca: '/ca.pem', cert: '/c.pem' }, { ca: '/ca.pem', passphrase: 'p' }];
  for (const tls of bad) expect(() => open('127.0.0.1:1', tls)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
});
