/**
 * The `tls` option: file paths of PEM files, checked before anything connects. ZooKeeper's C
 * client reads these files itself when it opens a connection, long after the call that was given
 * them; a typo found there would only show as an ensemble that never answers. So every file is
 * read and parsed here, with Node's own OpenSSL, and a bad one is a TLS_CONFIG error naming the
 * option and the file.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TlsConfigError } from '../errors.js';
import type { TlsOptions } from '../zk/handle.js';

/** The option's type is the handle's (lib/zk/handle.ts): the same fields all the way down. */
export type { TlsOptions };

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/** Checks `tls` (undefined: no TLS) and returns it with absolute paths; throws TlsConfigError. */
export function validateTlsOptions(tls: unknown, now: Date = new Date()): TlsOptions | undefined {
  if (tls === undefined) return undefined;
  if (tls === null || typeof tls !== 'object' || Array.isArray(tls)) {
    throw new TlsConfigError('tls', 'expected an object { ca, cert?, key?, passphrase? } of PEM file paths');
  }
  const { ca, cert, key, passphrase } = tls as Record<string, unknown>;
  const caPath = filePath('tls.ca', ca);
  if (caPath === undefined) throw new TlsConfigError('tls.ca', 'is required: the path of the PEM file of the CA that signed the servers\' certificates');
  const certPath = filePath('tls.cert', cert);
  const keyPath = filePath('tls.key', key);
  if (certPath !== undefined && keyPath === undefined) throw new TlsConfigError('tls.cert', 'is given without tls.key (its private key)', { file: certPath });
  if (keyPath !== undefined && certPath === undefined) throw new TlsConfigError('tls.key', 'is given without tls.cert (the certificate it belongs to)', { file: keyPath });
  if (passphrase !== undefined && typeof passphrase !== 'string') throw new TlsConfigError('tls.passphrase', 'expected a string');
  if (passphrase !== undefined && keyPath === undefined) throw new TlsConfigError('tls.passphrase', 'is given without tls.key');
  // The C client takes its TLS settings as one string, "ca,cert,key,passphrase", split at commas.
  for (const [option, value] of [['tls.ca', caPath], ['tls.cert', certPath], ['tls.key', keyPath]] as const) {
    if (value?.includes(',')) throw new TlsConfigError(option, 'must not contain a comma (ZooKeeper\'s C client splits its TLS settings at commas)', { file: value });
  }
  if (passphrase?.includes(',')) throw new TlsConfigError('tls.passphrase', 'must not contain a comma (ZooKeeper\'s C client splits its TLS settings at commas)');

  const caCerts = certificates('tls.ca', caPath);
  if (caCerts.every((c) => expiredOrEarly(c, now) !== undefined)) {
    throw new TlsConfigError('tls.ca', `no certificate in it is valid now (${expiredOrEarly(caCerts[0]!, now)})`, { file: caPath });
  }
  if (certPath === undefined || keyPath === undefined) return { ca: caPath };
  const clientCert = certificates('tls.cert', certPath)[0]!;
  const when = expiredOrEarly(clientCert, now);
  if (when) throw new TlsConfigError('tls.cert', `the certificate ${when}; servers refuse it`, { file: certPath });
  const privateKey = readKey(keyPath, passphrase);
  if (!clientCert.checkPrivateKey(privateKey)) throw new TlsConfigError('tls.key', 'is not the private key of tls.cert', { file: keyPath });
  return { ca: caPath, cert: certPath, key: keyPath, ...(passphrase === undefined ? {} : { passphrase }) };
}

function filePath(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new TlsConfigError(option, 'expected the path of a PEM file');
  return resolve(value);
}

/** The file's text; a missing, unreadable or non-file path is said so plainly. */
function readText(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${code ?? String(error)})`;
    throw new TlsConfigError(option, why, { file, cause: error });
  }
}

/** Every certificate of a PEM file, at least one; each one parsed. */
function certificates(option: string, file: string): X509Certificate[] {
  const text = readText(option, file);
  const blocks = text.match(CERTIFICATE);
  if (!blocks) {
    const hint = PRIVATE_KEY.test(text) ? ' (it holds a private key: is it the key file?)' : text.includes('-----BEGIN') ? '' : ' (not PEM at all: convert a DER or PKCS12 file with openssl)';
    throw new TlsConfigError(option, `holds no PEM certificate (-----BEGIN CERTIFICATE-----)${hint}`, { file });
  }
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsConfigError(option, `holds a certificate that does not parse (${(error as Error).message})`, { file, cause: error });
    }
  });
}

function readKey(file: string, passphrase: string | undefined): KeyObject {
  const text = readText('tls.key', file);
  if (!PRIVATE_KEY.test(text)) {
    const hint = text.includes('-----BEGIN CERTIFICATE-----') ? ' (it holds a certificate: is it the certificate file?)' : text.includes('-----BEGIN') ? '' : ' (not PEM at all)';
    throw new TlsConfigError('tls.key', `holds no PEM private key (-----BEGIN PRIVATE KEY-----)${hint}`, { file });
  }
  try {
    return createPrivateKey({ key: text, format: 'pem', ...(passphrase === undefined ? {} : { passphrase }) });
  } catch (error) {
    // Node says ERR_MISSING_PASSPHRASE, or a bad decrypt, without ever echoing the passphrase.
    const code = (error as { code?: string }).code;
    const encrypted = /ENCRYPTED/.test(text);
    const why =
      code === 'ERR_MISSING_PASSPHRASE' || (encrypted && passphrase === undefined)
        ? 'the key is encrypted: give tls.passphrase'
        : encrypted
          ? 'tls.passphrase does not decrypt the key'
          : `the private key does not parse (${(error as Error).message})`;
    throw new TlsConfigError(encrypted && passphrase !== undefined ? 'tls.passphrase' : 'tls.key', why, { file, cause: error });
  }
}

/** Why a certificate is not valid at `now` ("expired on ...", "is valid only from ..."), or undefined. */
function expiredOrEarly(cert: X509Certificate, now: Date): string | undefined {
  if (new Date(cert.validTo) < now) return `expired on ${new Date(cert.validTo).toISOString()}`;
  if (new Date(cert.validFrom) > now) return `is valid only from ${new Date(cert.validFrom).toISOString()}`;
  return undefined;
}
