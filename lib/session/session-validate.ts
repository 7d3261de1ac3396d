/** The options of a Session checked up front: names, credentials. */
import { InvalidArgumentError } from '../errors.js';
import { describeValue, keysOf, optionsObject } from '../util/validate.js';
import type { AuthInfo, SessionOptions } from './session-options.js';

/** Every option a Session (and a one-off read that opens one) takes. */
export const SESSION_KEYS = keysOf<SessionOptions>()('connect', 'sessionTimeout', 'connectTimeout', 'auth', 'tls', 'strictSessionTimeout', 'retry', 'logger', 'signal', 'transport', 'clock');

const AUTH_KEYS = keysOf<AuthInfo>()('scheme', 'credentials');

/**
 * `auth` as a list: each entry { scheme, credentials } with both set (digest: `user:password`).
 * No message repeats the credentials.
 */
export function validateAuth(value: unknown): AuthInfo[] {
  if (value === undefined) return [];
  const entries = Array.isArray(value) ? value : [value];
  if (entries.length === 0) throw new InvalidArgumentError('Expected `auth` to hold at least one { scheme, credentials } (leave it out for none)');
  return entries.map((entry: unknown, i) => {
    const name = Array.isArray(value) ? `auth[${i}]` : 'auth';
    const { scheme, credentials } = optionsObject(name, entry, AUTH_KEYS);
    if (typeof scheme !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(scheme)) throw new InvalidArgumentError(`Expected \`${name}.scheme\` to be a scheme name such as 'digest', got ${describeValue(scheme)}`);
    if (typeof credentials !== 'string' || credentials === '') throw new InvalidArgumentError(`Expected \`${name}.credentials\` to be a non-empty string (the value is not shown)`);
    if (scheme === 'digest' && !/^[^:]+:/.test(credentials)) throw new InvalidArgumentError(`Expected \`${name}.credentials\` of the digest scheme to be user:password (the value is not shown)`);
    return { scheme, credentials };
  });
}

/** Checks a Session's options object: an object, known names only. */
export function validateSessionOptions(options: unknown): SessionOptions {
  return optionsObject('options', options, SESSION_KEYS) as SessionOptions;
}
