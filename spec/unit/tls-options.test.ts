/**
 * The `tls` option is checked before anything connects: every bad file is a TLS_CONFIG error that
 * names the option and the file, never the passphrase. No server: files made with openssl.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Election, listParticipants, observeLeader, requestStepDown, Session, TlsConfigError, type TlsOptions } from 'zk-election';
import { MemoryZooKeeper } from 'zk-election/testing';
import { validateTlsOptions } from '../../lib/session/tls-options.js';
import { makeCertificateSet, type CertificateSet } from '../support/certificates.js';

let certs: CertificateSet;
beforeAll(async () => {
  certs = await makeCertificateSet();
}, 60_000);
afterAll(() => certs?.remove());

function failure(tls: unknown): TlsConfigError {
  try {
    validateTlsOptions(tls);
  } catch (error) {
    expect(error).toBeInstanceOf(TlsConfigError);
    expect((error as TlsConfigError).code).toBe('TLS_CONFIG');
    return error as TlsConfigError;
  }
  throw new Error(`validateTlsOptions accepted ${JSON.stringify(tls)}`);
}

describe('validateTlsOptions', () => {
  test('a CA alone, or a CA with a client certificate and its key: returned with absolute paths', () => {
    expect(validateTlsOptions(undefined)).toBeUndefined();
    expect(validateTlsOptions({ ca: certs.ca })).toEqual({ ca: certs.ca });
    const relative = path.relative(process.cwd(), certs.ca);
    expect(validateTlsOptions({ ca: relative, cert: certs.cert, key: certs.key })).toEqual({ ca: certs.ca, cert: certs.cert, key: certs.key });
    expect(validateTlsOptions({ ca: certs.ca, cert: certs.cert, key: certs.encryptedKey, passphrase: certs.passphrase })).toEqual({
      ca: certs.ca,
      cert: certs.cert,
      key: certs.encryptedKey,
      passphrase: certs.passphrase,
    });
  });

  test('not an object, or no ca', () => {
    expect(failure('ca.pem').option).toBe('tls');
    expect(failure(null).option).toBe('tls');
    expect(failure({ cert: certs.cert, key: certs.key }).option).toBe('tls.ca');
    expect(failure({ ca: '' }).message).toMatch(/tls\.ca: expected the path of a PEM file/);
  });

  test('a missing file, and one that cannot be read as a file', async () => {
    const missing = path.join(certs.dir, 'nope.pem');
    const error = failure({ ca: missing });
    expect(error).toMatchObject({ option: 'tls.ca', file: missing });
    expect(error.message).toBe(`tls.ca (${missing}): no such file`);
    const dir = path.join(certs.dir, 'a-directory');
    await fs.mkdir(dir, { recursive: true });
    expect(failure({ ca: certs.ca, cert: dir, key: certs.key }).message).toBe(`tls.cert (${dir}): is a directory, not a file`);
  });

  test('not PEM: a DER file, a key where a certificate belongs, a certificate where a key belongs', async () => {
    const der = path.join(certs.dir, 'ca.der');
    await fs.writeFile(der, Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x02, 0x82]));
    expect(failure({ ca: der }).message).toMatch(/holds no PEM certificate .*not PEM at all/);
    expect(failure({ ca: certs.key }).message).toMatch(/tls\.ca .*holds no PEM certificate .*is it the key file\?/);
    expect(failure({ ca: certs.ca, cert: certs.cert, key: certs.cert }).message).toMatch(/tls\.key .*holds no PEM private key .*is it the certificate file\?/);
    const garbled = path.join(certs.dir, 'garbled.pem');
    await fs.writeFile(garbled, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
    expect(failure({ ca: garbled }).message).toMatch(/holds a certificate that does not parse/);
  });

  test('a key without its certificate, a certificate without its key, a passphrase without a key', () => {
    expect(failure({ ca: certs.ca, key: certs.key })).toMatchObject({ option: 'tls.key', message: expect.stringMatching(/without tls\.cert/) });
    expect(failure({ ca: certs.ca, cert: certs.cert })).toMatchObject({ option: 'tls.cert', message: expect.stringMatching(/without tls\.key/) });
    expect(failure({ ca: certs.ca, passphrase: 'x' }).option).toBe('tls.passphrase');
  });

  test('a comma in a path or the passphrase (the C client splits its settings at commas), never echoing the passphrase', () => {
    expect(failure({ ca: '/etc/a,b/ca.pem' })).toMatchObject({ option: 'tls.ca', message: expect.stringMatching(/must not contain a comma/) });
    const comma = failure({ ca: certs.ca, cert: certs.cert, key: certs.encryptedKey, passphrase: 'se,cret' });
    expect(comma.option).toBe('tls.passphrase');
    expect(comma.message).not.toContain('se,cret');
  });

  test("a key that is not the certificate's, and an expired certificate", () => {
    expect(failure({ ca: certs.ca, cert: certs.cert, key: certs.strayKey }).message).toMatch(/tls\.key .*is not the private key of tls\.cert/);
    expect(failure({ ca: certs.ca, cert: certs.expiredCert, key: certs.expiredKey }).message).toMatch(/tls\.cert .*the certificate expired on \d{4}-/);
  });

  test('an encrypted key without its passphrase, or with a wrong one; the passphrase is never shown', () => {
    expect(failure({ ca: certs.ca, cert: certs.cert, key: certs.encryptedKey }).message).toMatch(/tls\.key .*encrypted: give tls\.passphrase/);
    const wrong = failure({ ca: certs.ca, cert: certs.cert, key: certs.encryptedKey, passphrase: 'wrong-secret-value' });
    expect(wrong.option).toBe('tls.passphrase');
    expect(wrong.message).toMatch(/does not decrypt the key/);
    expect(wrong.message).not.toContain('wrong-secret-value');
  });
});

describe('every entry point checks tls before it connects', () => {
  const bad: TlsOptions = { ca: '/nonexistent/ca.pem' };
  // An in-memory transport that counts handles: none may be made.
  const counted = (): { transport: MemoryZooKeeper['transport']; made: () => number } => {
    const zk = new MemoryZooKeeper();
    let made = 0;
    return { transport: (options) => ((made += 1), zk.transport(options)), made: () => made };
  };

  test('Session, Election (at construction), listParticipants, observeLeader, requestStepDown', async () => {
    const { transport, made } = counted();
    expect(() => new Session({ tls: bad, transport })).toThrow(TlsConfigError);
    await expect(Session.connect({ tls: bad, transport })).rejects.toThrow(TlsConfigError);
    expect(() => new Election('/e', { tls: bad })).toThrow(TlsConfigError);
    await expect(listParticipants('/e', { tls: bad, transport })).rejects.toMatchObject({ code: 'TLS_CONFIG' });
    expect(() => observeLeader('/e', { tls: bad })).toThrow(TlsConfigError);
    await expect(requestStepDown('/e', { tls: bad })).rejects.toMatchObject({ code: 'TLS_CONFIG' });
    expect(made()).toBe(0);
  });
});
