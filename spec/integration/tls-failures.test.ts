/**
 * TLS's failure modes, each a typed error within the connect timeout that names TLS, with nothing
 * created on the server: a plaintext client at a TLS port, a TLS client at a plaintext port, a
 * wrong CA, an expired server certificate; and, before anything connects, an expired client
 * certificate. The CLI exits 3 for the first four (as for an unreachable ensemble), 2 for the last.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { electLeader, isZkElectionError, listParticipants, type TlsOptions } from 'zk-election';
import type { LocalEnsemble } from 'zk-election/testing';
import { runCli } from '../support/cli.js';
import { makeCertificateSet, type CertificateSet } from '../support/certificates.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const CONNECT_TIMEOUT = 3000;
/** Room past the connect timeout for closing the handle and a loaded machine; far below a second timeout. */
const SLACK_MS = 1500;

/** The server's node count, read over its own kind of connection: the proof that nothing was created. */
async function nodeCount(ensemble: LocalEnsemble): Promise<number> {
  const answer = await ensemble.servers[0]!.fourLetter('srvr');
  return Number(/^Node count: (\d+)$/m.exec(answer)?.[1]);
}

/** electLeader with these options fails with UNREACHABLE naming `reason`, in time, creating nothing. */
async function refused(ensemble: LocalEnsemble, tls: TlsOptions | undefined, reason: RegExp): Promise<void> {
  const before = await nodeCount(ensemble);
  const started = performance.now();
  const error = await electLeader(uniquePath(), { connect: ensemble.connectString, connectTimeout: CONNECT_TIMEOUT, ...(tls ? { tls } : {}) }).then(
    (leadership) => (void leadership.resign(), new Error('electLeader resolved')),
    (caught: unknown) => caught,
  );
  const elapsed = performance.now() - started;
  expect(isZkElectionError(error, 'UNREACHABLE')).toBe(true);
  expect((error as Error).message).toMatch(/TLS/);
  expect((error as Error).message).toMatch(reason);
  expect(elapsed).toBeLessThan(CONNECT_TIMEOUT + SLACK_MS);
  // A TLS client's cause is the native client's own reason for refusing (or being refused).
  if (tls) expect((error as Error).cause).toMatchObject({ name: 'TlsHandshakeError', message: expect.stringMatching(/^TLS handshake failed/) });
  expect(await nodeCount(ensemble)).toBe(before);
}

/** The same through the CLI: exit 3 and one line that names TLS. */
async function cliRefused(ensemble: LocalEnsemble, flags: string[], reason: RegExp): Promise<void> {
  const result = await runCli(['participants', '/x', '--connect', ensemble.connectString, '--timeout', String(CONNECT_TIMEOUT), ...flags]);
  expect(result).toMatchObject({ code: 3, stdout: '' });
  expect(result.stderr).toMatch(/^zk-election: cannot reach ZooKeeper at .*TLS.*\[UNREACHABLE\]\n$/);
  expect(result.stderr).toMatch(reason);
}

const flagsOf = (tls: TlsOptions): string[] => ['--tls-ca', tls.ca, ...(tls.cert ? ['--tls-cert', tls.cert, '--tls-key', tls.key!] : [])];

/** A CA of nobody's server, and a client certificate it signed. */
let certs: CertificateSet;
beforeAll(async () => {
  certs = await makeCertificateSet();
}, 60_000);
afterAll(() => certs?.remove());

describe('a TLS-only server', () => {
  const zk = useZooKeeper({ servers: 1, tls: true });

  test('a plaintext client: UNREACHABLE, "this port speaks TLS"; CLI exit 3', async () => {
    await refused(zk.ensemble, undefined, /speaks TLS/);
    await cliRefused(zk.ensemble, [], /speaks TLS/);
  });

  test("a wrong CA: the server's certificate is refused; CLI exit 3", async () => {
    const wrong = { ...zk.ensemble.tls!, ca: certs.otherCa };
    await refused(zk.ensemble, wrong, /not signed by the given CA/);
    await cliRefused(zk.ensemble, flagsOf(wrong), /not signed by the given CA/);
  });

  test('no client certificate for a server that asks for one: refused; CLI exit 3', async () => {
    const anonymous = { ca: zk.ensemble.tls!.ca };
    await refused(zk.ensemble, anonymous, /asks for a client certificate/);
    await cliRefused(zk.ensemble, flagsOf(anonymous), /asks for a client certificate/);
  });

  test('a client certificate the server does not trust (another CA signed it): refused; CLI exit 3', async () => {
    const stranger = { ca: zk.ensemble.tls!.ca, cert: certs.cert, key: certs.key };
    await refused(zk.ensemble, stranger, /refused this client's certificate/);
    await cliRefused(zk.ensemble, flagsOf(stranger), /refused this client's certificate/);
  });

  test('an expired client certificate, signed by the right CA: TLS_CONFIG before connecting; CLI exit 2', async () => {
    const { certificates } = zk.ensemble;
    const cert = path.join(certs.dir, 'expired-client.pem');
    await promisify(execFile)('openssl', ['x509', '-req', '-in', `${certs.cert}.csr`, '-CA', certificates!.ca, '-CAkey', certificates!.caKey, '-CAcreateserial', '-days', '-1', '-out', cert], { timeout: 20_000 });
    const expired = { ca: certificates!.ca, cert, key: certs.key };
    await expect(listParticipants('/x', { connect: zk.connectString, tls: expired })).rejects.toMatchObject({ code: 'TLS_CONFIG', message: expect.stringMatching(/expired on/) });
    const result = await runCli(['participants', '/x', '--connect', zk.connectString, ...flagsOf(expired)]);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringMatching(/^zk-election: --tls-cert .*the certificate expired on .*\[TLS_CONFIG\]\n$/) });
  });
});

describe('a plaintext server', () => {
  const zk = useZooKeeper({ servers: 1 });

  test('a TLS client: "does not speak TLS"; CLI exit 3', async () => {
    const tls = { ca: certs.ca, cert: certs.cert, key: certs.key };
    await refused(zk.ensemble, tls, /does not speak TLS/);
    await cliRefused(zk.ensemble, flagsOf(tls), /does not speak TLS/);
  });
});

describe('a TLS server whose certificate has expired', () => {
  const zk = useZooKeeper({ servers: 1, tls: { serverCertificateDays: -1 } });

  test('a TLS client refuses it: "has expired"; CLI exit 3', async () => {
    await refused(zk.ensemble, zk.ensemble.tls, /certificate has expired/);
    await cliRefused(zk.ensemble, flagsOf(zk.ensemble.tls!), /certificate has expired/);
  });
});
