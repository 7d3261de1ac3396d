import { InvalidArgumentError, InvalidConnectStringError, InvalidPathError } from '../errors.js';

/** Node's timers hold a signed 32-bit count of ms: anything above fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The longest election path (and, separately, the longest chroot), in UTF-8 bytes. ZooKeeper has
 * no path limit of its own but refuses (by dropping the connection, again and again) any request
 * larger than jute.maxbuffer, 1 MiB by default. A candidate's create carries its data (at most
 * MAX_PAYLOAD_BYTES, which leaves 1 KiB of that) plus the chroot, the path, the node name (47
 * bytes), the ACL (at most MAX_ACL_BYTES) and the framing: 256 + 256 + 47 + 384 + 60 fit in it.
 */
export const MAX_PATH_BYTES = 256;

/**
 * Validates an election path: absolute, no empty, `.` or `..` components, no trailing slash,
 * not under the reserved `/zookeeper` subtree, no characters ZooKeeper refuses, at most
 * MAX_PATH_BYTES. Checked before anything is sent, so no parent is left behind by a refusal.
 */
export function validateElectionPath(path: unknown): string {
  if (typeof path !== 'string') throw new InvalidPathError(String(path), 'expected a string');
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes > MAX_PATH_BYTES) throw new InvalidPathError(path, `is ${bytes} bytes long in UTF-8; at most ${MAX_PATH_BYTES} fit in a ZooKeeper request beside the node's data`);
  if (!path.startsWith('/')) throw new InvalidPathError(path, 'must be absolute (start with "/")');
  if (path === '/') throw new InvalidPathError(path, 'the root cannot be an election path');
  if (path.endsWith('/')) throw new InvalidPathError(path, 'must not end with "/"');
  const parts = path.slice(1).split('/');
  for (const part of parts) {
    if (part === '') throw new InvalidPathError(path, 'has an empty component ("//")');
    if (part === '.' || part === '..') throw new InvalidPathError(path, `has a relative component "${part}"`);
  }
  if (parts[0] === 'zookeeper') throw new InvalidPathError(path, 'is under /zookeeper, which the server reserves');
  // ZooKeeper's PathUtils refuses these UTF-16 code units: NUL, control characters, surrogates
  // (so every character beyond the BMP, an emoji among them), private use and the specials. No
  // `u` flag: the test must see code units, as Java's does, not code points.
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/.exec(path);
  if (bad) throw new InvalidPathError(path, `contains ${codeUnit(bad[0])}, which ZooKeeper does not allow in a path`);
  return path;
}

function codeUnit(char: string): string {
  const unit = char.charCodeAt(0);
  const hex = `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
  return unit >= 0xd800 && unit <= 0xdfff ? `${hex} (half of a character beyond the BMP, such as an emoji)` : hex;
}

export interface ParsedConnectString {
  hosts: Array<{ host: string; port: number }>;
  chroot: string | undefined;
}

/** Parses `host:port,host:port[/chroot]`; a host without a port gets 2181. */
export function parseConnectString(connect: unknown): ParsedConnectString {
  if (typeof connect !== 'string' || connect.trim() === '') {
    throw new InvalidConnectStringError(String(connect), 'expected "host:port[,host:port...][/chroot]"');
  }
  const slash = connect.indexOf('/');
  const hostPart = slash === -1 ? connect : connect.slice(0, slash);
  const chroot = slash === -1 ? undefined : connect.slice(slash);
  if (chroot !== undefined && chroot !== '/') {
    try {
      validateElectionPath(chroot);
    } catch (error) {
      throw new InvalidConnectStringError(connect, `bad chroot: ${(error as Error).message}`);
    }
  }
  const hosts = hostPart.split(',').map((entry) => parseHost(connect, entry.trim()));
  return { hosts, chroot: chroot === '/' ? undefined : chroot };
}

function parseHost(connect: string, entry: string): { host: string; port: number } {
  if (entry === '') throw new InvalidConnectStringError(connect, 'empty host entry');
  // ZooKeeper takes no user:password@ in a connection string: whatever is there is a secret in the wrong place.
  if (entry.includes('@')) throw new InvalidConnectStringError(connect, 'credentials do not belong in a connection string: use the auth option (--auth, $ZK_AUTH_FILE)');
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d+))?$/.exec(entry);
  if (!match) throw new InvalidConnectStringError(connect, `cannot parse host "${entry}"`);
  const port = match[2] === undefined ? 2181 : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidConnectStringError(connect, `port out of range in "${entry}"`);
  }
  return { host: match[1]!, port };
}

/** `value` as a caller wrote it, for a message: short, and never more than a type for an object. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (value === null || Array.isArray(value)) return value === null ? 'null' : 'an array';
  if (typeof value === 'object' || typeof value === 'function') return `a ${typeof value}`;
  return `${String(value)} (${typeof value})`;
}

/** A whole number of ms a timer can wait: 1 to MAX_TIMER_MS; `fallback` when undefined. */
export function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a positive integer, got \`${String(value)}\` (${typeof value})`);
  }
  if (value > MAX_TIMER_MS) throw new InvalidArgumentError(`Expected \`${name}\` to be at most ${MAX_TIMER_MS} ms (what a timer can wait), got \`${value}\``);
  return value;
}

/** A non-negative number of ms, or undefined for none (Infinity too). */
export function optionalTimeout(name: string, value: unknown): number | undefined {
  if (value === undefined || value === Infinity) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a non-negative number of milliseconds, got \`${String(value)}\``);
  }
  if (value > MAX_TIMER_MS) throw new InvalidArgumentError(`Expected \`${name}\` to be at most ${MAX_TIMER_MS} ms (what a timer can wait) or Infinity, got \`${value}\``);
  return value;
}

export function optionalSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new InvalidArgumentError(`Expected \`${name}\` to be an AbortSignal`);
  return value;
}

/**
 * `value` as an options object whose keys are all among `known`; undefined gives {}. A key we do
 * not know is refused by name: a typo must not silently leave a setting at its default.
 */
export function optionsObject<K extends string>(name: string, value: unknown, known: readonly K[]): { [P in K]?: unknown } {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be an object, got ${describeValue(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!(known as readonly string[]).includes(key)) {
      // The closest known key, if it is close at all.
      const [near] = known
        .map((candidate) => ({ candidate, distance: editDistance(candidate.toLowerCase(), key.toLowerCase()) }))
        .filter(({ distance }) => distance <= 2)
        .sort((a, b) => a.distance - b.distance)
        .map(({ candidate }) => candidate);
      throw new InvalidArgumentError(`Unknown option \`${JSON.stringify(key).slice(1, -1)}\` in \`${name}\`${near ? ` (did you mean \`${near}\`?)` : ''}; known: ${known.join(', ')}`);
    }
  }
  return value as { [P in K]?: unknown };
}

/** Levenshtein distance, for "did you mean": option names are short. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The option names of `T`, every one of them (a name left out is a compile error): the list an
 * options object is checked against. `keysOf<Options>()('a', 'b')`.
 */
export function keysOf<T>() {
  return <const K extends ReadonlyArray<keyof T & string>>(...keys: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : [`missing: ${Exclude<keyof T, K[number]> & string}`])): K => keys;
}
