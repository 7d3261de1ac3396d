import fs from 'node:fs/promises';
import path from 'node:path';
import type { TestCertificates } from './certificates.js';
import { LOOPBACK } from './ports.js';
import { TestingError } from './testing-errors.js';

/** Ports and directories of one ensemble member. */
export interface MemberSpec {
  id: number;
  clientPort: number;
  /** Followers connect to the leader here; absent for a standalone server. */
  quorumPort: number | undefined;
  /** Leader election runs here; absent for a standalone server. */
  electionPort: number | undefined;
  dir: string;
  dataDir: string;
  configFile: string;
  logFile: string;
}

export interface Timing {
  tickTime: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
}

/** A TLS-only ensemble: its stores, whether it asks clients for certificates, whether peers talk TLS too. */
export interface ServerTls {
  certificates: TestCertificates;
  clientAuth: 'need' | 'want' | 'none';
  quorum: boolean;
}

export function memberSpec(baseDir: string, id: number, ports: readonly number[]): MemberSpec {
  const dir = path.join(baseDir, `server-${id}`);
  const [clientPort, quorumPort, electionPort] = ports;
  if (clientPort === undefined) throw new RangeError(`no client port for server ${id}`);
  return {
    id,
    clientPort,
    quorumPort,
    electionPort,
    dir,
    dataDir: path.join(dir, 'data'),
    configFile: path.join(dir, 'zoo.cfg'),
    logFile: path.join(dir, 'zookeeper.log'),
  };
}

function serverLine(member: MemberSpec, tls: ServerTls | undefined): string {
  // The client address after ';' keeps the client port on loopback as well; a TLS-only member
  // has none (it would open a plaintext port): its secureClientPort is set on its own.
  const client = tls ? '' : `;${LOOPBACK}:${member.clientPort}`;
  return `server.${member.id}=${LOOPBACK}:${member.quorumPort}:${member.electionPort}${client}`;
}

/**
 * TLS only: Netty serves the secure client port, and there is no plaintext one. The stores are
 * PKCS12, as keytool and openssl make them; `ssl.clientAuth` need is ZooKeeper's default.
 */
function tlsLines(member: MemberSpec, tls: ServerTls): string[] {
  const { keyStore, trustStore, storePassword } = tls.certificates;
  const stores = (prefix: string): string[] => [
    `${prefix}.keyStore.location=${keyStore}`,
    `${prefix}.keyStore.password=${storePassword}`,
    `${prefix}.keyStore.type=PKCS12`,
    `${prefix}.trustStore.location=${trustStore}`,
    `${prefix}.trustStore.password=${storePassword}`,
    `${prefix}.trustStore.type=PKCS12`,
  ];
  return [
    'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
    `secureClientPort=${member.clientPort}`,
    `secureClientPortAddress=${LOOPBACK}`,
    ...stores('ssl'),
    `ssl.clientAuth=${tls.clientAuth}`,
    ...(tls.quorum ? ['sslQuorum=true', ...stores('ssl.quorum')] : []),
  ];
}

/**
 * zoo.cfg for one member. Limits are counted in ticks: with a 200 ms tick, followers get
 * 5 s to sync at start and 2 s of silence before the leader drops them, roomy enough for a
 * shared 2-core machine yet quick to notice a killed or paused peer.
 */
export function renderConfig(member: MemberSpec, members: readonly MemberSpec[], timing: Timing, tls?: ServerTls): string {
  const lines = [
    `tickTime=${timing.tickTime}`,
    `dataDir=${member.dataDir}`,
    ...(tls ? tlsLines(member, tls) : [`clientPort=${member.clientPort}`, `clientPortAddress=${LOOPBACK}`]),
    `minSessionTimeout=${timing.minSessionTimeout}`,
    `maxSessionTimeout=${timing.maxSessionTimeout}`,
    '4lw.commands.whitelist=*',
    'admin.enableServer=false',
    // Tests open many sessions from one address; the default cap is 60.
    'maxClientCnxns=0',
  ];
  if (members.length > 1) {
    lines.push('initLimit=25', 'syncLimit=10', ...members.map((m) => serverLine(m, tls)));
  }
  return `${lines.join('\n')}\n`;
}

/** Creates the member's directories and writes its zoo.cfg (and myid, for an ensemble). */
export async function writeMemberFiles(member: MemberSpec, members: readonly MemberSpec[], timing: Timing, tls?: ServerTls): Promise<void> {
  await fs.mkdir(member.dataDir, { recursive: true });
  await fs.writeFile(member.configFile, renderConfig(member, members, timing, tls));
  if (members.length > 1) await fs.writeFile(path.join(member.dataDir, 'myid'), `${member.id}\n`);
}

/**
 * JVM flags for Java system properties. Names and values come from a caller: a name is a dotted
 * identifier, a value a string without control characters (each flag is one argument of the JVM,
 * never seen by a shell).
 */
export function systemPropertyArgs(properties: Record<string, string> | undefined): string[] {
  if (properties === undefined) return [];
  if (properties === null || typeof properties !== 'object') throw new TestingError('systemProperties must be an object of strings', 'INVALID_ARGUMENT');
  return Object.entries(properties).map(([name, value]) => {
    if (!/^[A-Za-z_][\w.-]*$/.test(name)) throw new TestingError(`systemProperties: ${JSON.stringify(name)} is not a property name`, 'INVALID_ARGUMENT');
    // eslint-disable-next-line no-control-regex
    if (typeof value !== 'string' || /[\u0000-\u001f]/.test(value)) throw new TestingError(`systemProperties: the value of ${name} must be a string without control characters`, 'INVALID_ARGUMENT');
    return `-D${name}=${value}`;
  });
}
