/**
 * PEM files for the tests of the `tls` option, made with openssl at test time in a temporary
 * directory: a CA, a second CA nobody's certificate is signed by, a client certificate and its
 * key (plain and encrypted), an expired certificate, a key of nobody's certificate. Removed with
 * `remove()`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const openssl = (args: string[]): Promise<unknown> => promisify(execFile)('openssl', args, { timeout: 20_000 });

export interface CertificateSet {
  dir: string;
  ca: string;
  otherCa: string;
  cert: string;
  key: string;
  encryptedKey: string;
  passphrase: string;
  expiredCert: string;
  expiredKey: string;
  strayKey: string;
  remove(): Promise<void>;
}

export async function makeCertificateSet(): Promise<CertificateSet> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zk-election-certs-'));
  const file = (name: string): string => path.join(dir, name);
  const set: CertificateSet = {
    dir,
    ca: file('ca.pem'),
    otherCa: file('other-ca.pem'),
    cert: file('client.pem'),
    key: file('client-key.pem'),
    encryptedKey: file('client-key-encrypted.pem'),
    passphrase: 'not-in-any-message',
    expiredCert: file('expired.pem'),
    expiredKey: file('expired-key.pem'),
    strayKey: file('stray-key.pem'),
    remove: () => fs.rm(dir, { recursive: true, force: true }),
  };
  const selfSigned = (cert: string, key: string, cn: string): Promise<unknown> =>
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`]);
  await selfSigned(set.ca, file('ca-key.pem'), 'test CA');
  await selfSigned(set.otherCa, file('other-ca-key.pem'), 'other CA');
  const signed = async (cert: string, key: string, days: number): Promise<void> => {
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', `${cert}.csr`, '-subj', '/CN=client']);
    await openssl(['x509', '-req', '-in', `${cert}.csr`, '-CA', set.ca, '-CAkey', file('ca-key.pem'), '-CAcreateserial', '-days', String(days), '-out', cert]);
  };
  await signed(set.cert, set.key, 2);
  await signed(set.expiredCert, set.expiredKey, -1);
  await openssl(['pkey', '-in', set.key, '-aes256', '-passout', `pass:${set.passphrase}`, '-out', set.encryptedKey]);
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', set.strayKey]);
  return set;
}
