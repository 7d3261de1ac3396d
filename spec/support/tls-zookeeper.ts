/**
 * A TLS-only ZooKeeper for the native client's own TLS test (spec/integration/native-tls.test.ts):
 * one standalone server from the test kit's runtime (Debian's jars), Netty's connection factory
 * with a `secureClientPort`, a PKCS12 keystore, and certificates made with openssl and keytool at
 * test time: a CA, another CA, the server's certificate (localhost, 127.0.0.1), a client
 * certificate, and its key encrypted with a passphrase. It also has a plaintext port, to try a TLS
 * client against it. `clientAuth: 'need'` makes client certificates mandatory (mutual TLS).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { findZooKeeperRuntime } from 'zk-election/testing';
import { freeLoopbackPorts } from '../../lib/testing/ports.js';
import { spawnTracked, waitFor, type TrackedProcess } from './processes.js';

/** Netty's jars the server needs beyond those zookeeper.jar's manifest names (Debian's layout). */
const NETTY = ['netty-codec', 'netty-resolver', 'netty-transport-native-unix-common'].map((name) => `/usr/share/java/${name}.jar`);
const PASSWORD = 'changeit';
export const KEY_PASSPHRASE = 'hunter2';

export interface TlsFiles {
  ca: string;
  otherCa: string;
  clientCert: string;
  clientKey: string;
  /** clientKey, encrypted with KEY_PASSPHRASE. */
  encryptedClientKey: string;
}

export interface TlsZooKeeper {
  readonly securePort: number;
  readonly plainPort: number;
  readonly files: TlsFiles;
  readonly logFile: string;
  stop(): Promise<void>;
}

function sh(dir: string, command: string, args: string[]): void {
  execFileSync(command, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A certificate for `subject` signed by `ca`, valid for localhost and 127.0.0.1. */
function signed(dir: string, name: string, subject: string, ca: string): void {
  sh(dir, 'openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${subject}`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  sh(dir, 'openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
}

function makeCertificates(dir: string): TlsFiles {
  for (const ca of ['ca', 'other-ca']) sh(dir, 'openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=zk-election test ${ca}`]);
  signed(dir, 'server', 'localhost', 'ca');
  signed(dir, 'client', 'zk-election test client', 'ca');
  sh(dir, 'openssl', ['pkcs12', '-export', '-in', 'server.pem', '-inkey', 'server.key', '-out', 'server.p12', '-passout', `pass:${PASSWORD}`, '-name', 'server']);
  sh(dir, 'keytool', ['-importcert', '-noprompt', '-storetype', 'PKCS12', '-keystore', 'trust.p12', '-storepass', PASSWORD, '-alias', 'ca', '-file', 'ca.pem']);
  sh(dir, 'openssl', ['pkey', '-in', 'client.key', '-out', 'client-encrypted.key', '-aes256', '-passout', `pass:${KEY_PASSPHRASE}`]);
  const at = (file: string): string => path.join(dir, file);
  return { ca: at('ca.pem'), otherCa: at('other-ca.pem'), clientCert: at('client.pem'), clientKey: at('client.key'), encryptedClientKey: at('client-encrypted.key') };
}

function config(dir: string, securePort: number, plainPort: number, clientAuth: 'none' | 'need'): string {
  return [
    'tickTime=200',
    `dataDir=${path.join(dir, 'data')}`,
    `clientPort=${plainPort}`,
    `secureClientPort=${securePort}`,
    'clientPortAddress=127.0.0.1',
    'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
    ...['keyStore', 'trustStore'].flatMap((store) => [
      `ssl.${store}.location=${path.join(dir, store === 'keyStore' ? 'server.p12' : 'trust.p12')}`,
      `ssl.${store}.password=${PASSWORD}`,
      `ssl.${store}.type=PKCS12`,
    ]),
    `ssl.clientAuth=${clientAuth}`,
    'admin.enableServer=false',
    'maxSessionTimeout=30000',
    '',
  ].join('\n');
}

/** Whether a TLS client that trusts the CA (and shows the client certificate) completes a handshake on the port. */
function handshakes(port: number, files: TlsFiles): Promise<boolean> {
  const [ca, cert, key] = [files.ca, files.clientCert, files.clientKey].map((file) => fs.readFileSync(file));
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, cert, key, servername: 'localhost' }, () => (socket.end(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
  });
}

export async function startTlsZooKeeper(options: { clientAuth: 'none' | 'need' }): Promise<TlsZooKeeper> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-tls-'));
  const files = makeCertificates(dir);
  const [securePort, plainPort] = (await freeLoopbackPorts(2)) as [number, number];
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'zoo.cfg'), config(dir, securePort, plainPort, options.clientAuth));
  const { java, classpath } = await findZooKeeperRuntime();
  const logFile = path.join(dir, 'server.log');
  let server: TrackedProcess | undefined;
  const stop = async (): Promise<void> => {
    await server?.stop('SIGTERM', 5000);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    server = await spawnTracked('/bin/sh', ['-c', `exec "$0" "$@" >>${JSON.stringify(logFile)} 2>&1`, java, '-Xmx192m', '-cp', [classpath, ...NETTY].join(':'), 'org.apache.zookeeper.server.ZooKeeperServerMain', path.join(dir, 'zoo.cfg')]);
    await waitFor(async () => {
      if (server?.exitInfo) throw new Error(`the TLS server exited: ${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').slice(-2000) : 'no log'}`);
      return handshakes(securePort, files);
    }, { timeoutMs: 30_000, intervalMs: 200, message: `the TLS ZooKeeper on port ${securePort}` });
  } catch (error) {
    await stop();
    throw error;
  }
  return { securePort, plainPort, files, logFile, stop };
}
