/**
 * Credentials and ACLs on the command line: `--auth`, `--auth-file`, `$ZK_AUTH`, `$ZK_AUTH_FILE`,
 * `--acl`, `$ZK_ACL`. Credentials are secrets: no message here repeats them, a file holding them
 * must be readable by its owner only, and `main` takes them out of the environment before any
 * child starts (lib/process/scrub-env.ts).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { AuthInfo } from '../session/session-options.js';
import { validateAcl } from '../zk/acl.js';
import { Perms, type Acl } from '../zk/handle.js';
import { UsageError } from './io.js';

/** The environment variables that hold secrets (credentials, a TLS key's passphrase): removed from our environment and every child's. */
export const SECRET_ENV = ['ZK_AUTH', 'ZK_AUTH_FILE', 'ZK_TLS_PASSPHRASE'] as const;

/** A credentials file is one line; anything longer is not one. */
const MAX_AUTH_FILE_BYTES = 4096;

type Values = Record<string, string | boolean | undefined>;

/**
 * Credentials from, in order: --auth, --auth-file, $ZK_AUTH, $ZK_AUTH_FILE; undefined for none. Two
 * flags, or two variables, at once are refused: which secret applies must never be a guess.
 */
export function resolveAuth(values: Values, env: NodeJS.ProcessEnv): AuthInfo | undefined {
  const flag = typeof values.auth === 'string' ? values.auth : undefined;
  const file = typeof values['auth-file'] === 'string' ? values['auth-file'] : undefined;
  if (flag !== undefined && file !== undefined) throw new UsageError('--auth and --auth-file: give one of them');
  if (flag !== undefined) return parseAuth(flag, '--auth');
  if (file !== undefined) return parseAuth(readAuthFile(file, '--auth-file'), `--auth-file ${file}`);
  const envAuth = env.ZK_AUTH || undefined;
  const envFile = env.ZK_AUTH_FILE || undefined;
  if (envAuth !== undefined && envFile !== undefined) throw new UsageError('$ZK_AUTH and $ZK_AUTH_FILE are both set: set one of them');
  if (envAuth !== undefined) return parseAuth(envAuth, '$ZK_AUTH');
  if (envFile !== undefined) return parseAuth(readAuthFile(envFile, '$ZK_AUTH_FILE'), `$ZK_AUTH_FILE ${envFile}`);
  return undefined;
}

/** SCHEME:CREDENTIALS, split at the first colon. */
function parseAuth(raw: string, source: string): AuthInfo {
  const colon = raw.indexOf(':');
  if (colon <= 0 || colon === raw.length - 1) {
    throw new UsageError(`${source} expects SCHEME:CREDENTIALS, for example digest:user:password (the value is not shown)`);
  }
  return { scheme: raw.slice(0, colon), credentials: raw.slice(colon + 1) };
}

/**
 * The one line of a credentials file, which must be a regular file readable by its owner only
 * (like ssh's keys): a file others can read is refused, not used. Read from the descriptor that
 * was checked, so that the file cannot be swapped between the check and the read.
 */
function readAuthFile(path: string, source: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new UsageError(`${source} ${path}: cannot open it (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UsageError(`${source} ${path}: not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new UsageError(`${source} ${path}: group or others may access it (mode ${(stat.mode & 0o777).toString(8)}); it holds a secret: chmod 600 ${path}`);
    }
    if (stat.size > MAX_AUTH_FILE_BYTES) throw new UsageError(`${source} ${path}: larger than ${MAX_AUTH_FILE_BYTES} bytes, not one line of SCHEME:CREDENTIALS`);
    const buffer = Buffer.alloc(MAX_AUTH_FILE_BYTES + 1);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    const lines = buffer.toString('utf8', 0, length).split(/\r?\n/).filter((line) => line.trim() !== '');
    if (lines.length !== 1) throw new UsageError(`${source} ${path}: expected one line of SCHEME:CREDENTIALS, found ${lines.length} (the contents are not shown)`);
    return lines[0]!.trim();
  } finally {
    closeSync(fd);
  }
}

const PERM_LETTERS: Readonly<Record<string, number>> = { c: Perms.CREATE, d: Perms.DELETE, r: Perms.READ, w: Perms.WRITE, a: Perms.ADMIN };

/**
 * --acl, then $ZK_ACL: `SCHEME:ID:PERMS[,...]`, PERMS letters of `cdrwa` as zkCli writes them
 * (`auth::cdrwa,world:anyone:r`, `digest:ops:HASH:cdrwa`, `ip:10.0.0.0/8:r`). The id is what lies
 * between the first and the last colon, so a digest id keeps its own. Undefined for neither.
 */
export function aclOption(values: Values, env: NodeJS.ProcessEnv): Acl[] | undefined {
  const flag = typeof values.acl === 'string' ? values.acl : undefined;
  const raw = flag ?? (env.ZK_ACL || undefined);
  if (raw === undefined) return undefined;
  const source = flag === undefined ? '$ZK_ACL' : '--acl';
  const acl = raw.split(',').map((entry): Acl => {
    const first = entry.indexOf(':');
    const last = entry.lastIndexOf(':');
    const letters = entry.slice(last + 1);
    if (first <= 0 || last === first || !/^[cdrwa]+$/.test(letters) || new Set(letters).size !== letters.length) {
      throw new UsageError(`${source} expects SCHEME:ID:PERMS[,...] with PERMS letters of cdrwa, for example auth::cdrwa,world:anyone:r; got "${entry}"`);
    }
    return { scheme: entry.slice(0, first), auth: entry.slice(first + 1, last), perms: [...letters].reduce((all, letter) => all | PERM_LETTERS[letter]!, 0) };
  });
  try {
    return validateAcl(acl);
  } catch (error) {
    throw new UsageError(`${source}: ${(error as Error).message}`);
  }
}
