/**
 * ACLs of the nodes we create: the default with credentials, validation of a caller's, and the
 * comparison that tells an election path left more open than what we would create.
 */
import { InvalidArgumentError } from '../errors.js';
import { describeValue, optionsObject } from '../util/validate.js';
import type { Logger } from '../util/logger.js';
import { Perms, type Acl, type ZkHandle } from './handle.js';

/**
 * With credentials and no `acl`: every permission for the creator (the `auth` scheme stands for
 * every identity the creating session authenticated as) and READ for everyone else, so that
 * observers without credentials can still list the election, read who leads and watch it, but
 * cannot create, change or delete anything in it.
 */
export const CREATOR_ALL_WORLD_READ: readonly Acl[] = Object.freeze([
  Object.freeze({ perms: Perms.ALL, scheme: 'auth', auth: '' }),
  Object.freeze({ perms: Perms.READ, scheme: 'world', auth: 'anyone' }),
]);

/** What the ACL of our requests may take of the 1 KiB a create leaves beside the data (see MAX_PATH_BYTES). */
export const MAX_ACL_BYTES = 384;

const ACL_KEYS = ['perms', 'scheme', 'auth'] as const satisfies ReadonlyArray<keyof Acl>;

/** Validates an `acl` option: a non-empty array of { perms, scheme, auth }; undefined stays undefined. */
export function validateAcl(value: unknown): Acl[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) throw new InvalidArgumentError(`Expected \`acl\` to be a non-empty array of { perms, scheme, auth }, got ${describeValue(value)}`);
  let bytes = 4;
  const acl = value.map((entry: unknown, i): Acl => {
    const { perms, scheme, auth } = optionsObject(`acl[${i}]`, entry, ACL_KEYS);
    if (typeof perms !== 'number' || !Number.isInteger(perms) || perms < 1 || perms > Perms.ALL) {
      throw new InvalidArgumentError(`Expected \`acl[${i}].perms\` to be a combination of Perms (1 to ${Perms.ALL}), got ${describeValue(perms)}`);
    }
    if (typeof scheme !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(scheme)) throw new InvalidArgumentError(`Expected \`acl[${i}].scheme\` to be a scheme name such as 'digest', 'auth' or 'world', got ${describeValue(scheme)}`);
    // eslint-disable-next-line no-control-regex
    if (typeof auth !== 'string' || /[\u0000-\u001f\u007f]/.test(auth)) throw new InvalidArgumentError(`Expected \`acl[${i}].auth\` to be the id as a string without control characters ('' for the auth scheme)`);
    bytes += 12 + Buffer.byteLength(scheme) + Buffer.byteLength(auth);
    return { perms, scheme, auth };
  });
  if (bytes > MAX_ACL_BYTES) throw new InvalidArgumentError(`Expected \`acl\` to take at most ${MAX_ACL_BYTES} bytes in a request, got ${bytes}`);
  return acl;
}

/** `cdrwa`-style letters, as zkCli shows permissions. */
export function permsString(perms: number): string {
  const letters: Array<[number, string]> = [[Perms.CREATE, 'c'], [Perms.DELETE, 'd'], [Perms.READ, 'r'], [Perms.WRITE, 'w'], [Perms.ADMIN, 'a']];
  return letters.map(([bit, letter]) => (perms & bit ? letter : '')).join('') || '-';
}

/**
 * What `existing` grants everyone (`world:anyone`) beyond what `ours` would, as `cdrwa` letters;
 * undefined when nothing. That is the part that can be told from the client: the `auth` entry of
 * ours stands for identities the server resolves, which named entries cannot be matched against.
 */
export function openBeyond(existing: readonly Acl[], ours: readonly Acl[]): string | undefined {
  const world = (acl: readonly Acl[]): number => acl.filter((e) => e.scheme === 'world' && e.auth === 'anyone').reduce((all, e) => all | e.perms, 0);
  const extra = world(existing) & ~world(ours);
  return extra === 0 ? undefined : permsString(extra);
}

/**
 * Warns, naming the path, when the existing election path grants everyone more than the ACL we
 * create would: anyone could then plant nodes or delete candidates. Its ACL is not changed for
 * the operator (that is theirs to decide); a read that fails (no permission) is only logged at debug.
 */
export async function warnIfMoreOpen(handle: ZkHandle, parent: string, acl: readonly Acl[], logger: Logger): Promise<void> {
  try {
    const extra = openBeyond((await handle.getAcl(parent)).acl, acl);
    if (extra) logger.warn(`the election path grants everyone (world:anyone) "${extra}" beyond the ACL of the nodes this election creates; it is left as it is: restrict it with setAcl`, { path: parent });
  } catch (error) {
    logger.debug('could not read the ACL of the election path', { path: parent, error: (error as Error).message });
  }
}
