/**
 * Certificates for a TLS-only test ensemble, made at test time with `openssl` and Java's
 * `keytool`, as an operator would: a CA, a server certificate for 127.0.0.1/localhost in a PKCS12
 * keystore, the CA in a PKCS12 truststore (keytool marks it trusted, which Java requires of a
 * truststore entry), and a client certificate for mutual TLS. Nothing here is secret beyond the
 * test: the store password is random per ensemble and written into its zoo.cfg.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { findJava } from './classpath.js';
import { TestingError, ZooKeeperNotFoundError } from './testing-errors.js';

const run = promisify(execFile);

/** Every file made for one ensemble: PEM files for clients, PKCS12 stores for the servers. */
export interface TestCertificates {
  /** The directory holding them (`baseDir/tls`). */
  readonly dir: string;
  /** The test CA's certificate (PEM): what clients pass as `tls.ca`. */
  readonly ca: string;
  /** The test CA's private key (PEM), to sign more certificates in a test. */
  readonly caKey: string;
  /** The servers' certificate (PEM; subject alternative names IP 127.0.0.1 and DNS localhost) and its key. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** A client certificate signed by the CA (PEM) and its unencrypted key: `tls.cert` and `tls.key`. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** The servers' PKCS12 keystore (certificate and key) and truststore (the CA), and their password. */
  readonly keyStore: string;
  readonly trustStore: string;
  readonly storePassword: string;
}

export interface CertificateOptions {
  /** Days the server certificate is valid from now; negative: it has expired already. @default 7 */
  serverDays?: number;
  /** Bounds every tool run. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Makes the CA, server and client certificates and the servers' stores under `dir`. */
export async function makeTestCertificates(dir: string, options: CertificateOptions): Promise<TestCertificates> {
  const openssl = 'openssl';
  const keytool = path.join(path.dirname(findJava()), 'keytool');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = (name: string): string => path.join(dir, name);
  const certs: TestCertificates = {
    dir,
    ca: file('ca.pem'),
    caKey: file('ca-key.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server-key.pem'),
    clientCert: file('client.pem'),
    clientKey: file('client-key.pem'),
    keyStore: file('keystore.p12'),
    trustStore: file('truststore.p12'),
    storePassword: randomBytes(12).toString('hex'),
  };
  const tool = (command: string, args: string[]): Promise<void> => runTool(command, args, options);
  await tool(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', certs.caKey, '-out', certs.ca, '-days', '7', '-subj', '/CN=zk-election test CA']);
  await signed(tool, certs, 'server', '/CN=localhost', options.serverDays ?? 7, 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  await signed(tool, certs, 'client', '/CN=zk-election test client', 7, undefined);
  await tool(openssl, ['pkcs12', '-export', '-in', certs.serverCert, '-inkey', certs.serverKey, '-certfile', certs.ca, '-name', 'server', '-out', certs.keyStore, '-passout', `pass:${certs.storePassword}`]);
  await tool(keytool, ['-importcert', '-noprompt', '-storetype', 'PKCS12', '-keystore', certs.trustStore, '-storepass', certs.storePassword, '-alias', 'ca', '-file', certs.ca]);
  return certs;
}

/** A key and a certificate signed by the CA, valid for `days` from now (negative: expired). */
async function signed(tool: (command: string, args: string[]) => Promise<void>, certs: TestCertificates, who: 'server' | 'client', subject: string, days: number, extension: string | undefined): Promise<void> {
  const [cert, key] = who === 'server' ? [certs.serverCert, certs.serverKey] : [certs.clientCert, certs.clientKey];
  const request = path.join(certs.dir, `${who}.csr`);
  await tool('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', request, '-subj', subject]);
  const ext = path.join(certs.dir, `${who}.ext`);
  if (extension) await fs.writeFile(ext, `${extension}\n`);
  await tool('openssl', [
    'x509', '-req', '-in', request, '-CA', certs.ca, '-CAkey', certs.caKey, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
    '-days', String(days), '-out', cert, ...(extension ? ['-extfile', ext] : []),
  ]);
}

async function runTool(command: string, args: string[], options: CertificateOptions): Promise<void> {
  try {
    await run(command, args, { timeout: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      const what = path.basename(command) === 'keytool' ? `Java's keytool (${command})` : "'openssl'";
      throw new ZooKeeperNotFoundError(`a TLS test ensemble needs ${what} to make its certificates: apt-get install openssl default-jre-headless`);
    }
    if (e.name === 'AbortError') throw new TestingError('making the TLS test certificates was aborted', 'ABORTED', { cause: options.signal?.reason });
    throw new TestingError(`${path.basename(command)} ${args[0]} failed while making the TLS test certificates: ${(e.stderr ?? e.message).trim()}`, 'TLS_SETUP', { cause: error });
  }
}
