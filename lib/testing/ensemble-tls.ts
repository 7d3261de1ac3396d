/** The `tls` option of startZooKeeper: a TLS-only ensemble with certificates made for it. */
import path from 'node:path';
import type { TlsOptions } from '../session/tls-options.js';
import { makeTestCertificates, type TestCertificates } from './certificates.js';
import type { ServerTls } from './ensemble-config.js';
import { TestingError } from './testing-errors.js';

export interface TestTlsOptions {
  /**
   * Whether the servers ask clients for a certificate (ZooKeeper's `ssl.clientAuth`): 'need'
   * refuses a client without one, 'want' asks, 'none' does not. @default 'need'
   */
  clientAuth?: 'need' | 'want' | 'none' | undefined;
  /** Servers of a 3-node ensemble also talk to each other over TLS (`sslQuorum`). @default false */
  quorum?: boolean | undefined;
  /** Days the servers' certificate is valid from now; negative: expired already (to test that clients refuse it). @default 7 */
  serverCertificateDays?: number | undefined;
}

export type ResolvedTestTls = Required<TestTlsOptions>;

/** `true` for the defaults, an object for some of them; undefined (or false) for plaintext. */
export function resolveTestTls(value: boolean | TestTlsOptions | undefined): ResolvedTestTls | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (value === null || typeof value !== 'object')) throw new TestingError(`tls must be a boolean or an object, got ${String(value)}`, 'INVALID_ARGUMENT');
  const options = value === true ? {} : value;
  const clientAuth = options.clientAuth ?? 'need';
  if (!['need', 'want', 'none'].includes(clientAuth)) throw new TestingError(`tls.clientAuth must be 'need', 'want' or 'none', got ${String(clientAuth)}`, 'INVALID_ARGUMENT');
  const days = options.serverCertificateDays ?? 7;
  if (!Number.isInteger(days) || days === 0) throw new TestingError(`tls.serverCertificateDays must be a non-zero integer, got ${String(days)}`, 'INVALID_ARGUMENT');
  return { clientAuth, quorum: options.quorum ?? false, serverCertificateDays: days };
}

/** Makes the ensemble's certificates in `baseDir/tls`. */
export async function prepareServerTls(baseDir: string, tls: ResolvedTestTls, timeoutMs: number, signal: AbortSignal | undefined): Promise<ServerTls> {
  const certificates = await makeTestCertificates(path.join(baseDir, 'tls'), { serverDays: tls.serverCertificateDays, timeoutMs, ...(signal ? { signal } : {}) });
  return { certificates, clientAuth: tls.clientAuth, quorum: tls.quorum };
}

/** What a client of the ensemble passes as the library's `tls`: the CA and the client certificate. */
export function clientTls(certificates: TestCertificates): TlsOptions {
  return { ca: certificates.ca, cert: certificates.clientCert, key: certificates.clientKey };
}
