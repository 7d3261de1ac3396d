import { InvalidArgumentError, InvalidConnectStringError, InvalidPathError } from '../errors.js';

/**
 * Validates an election path: absolute, no empty, `.` or `..` components, no trailing slash,
 * not under the reserved `/zookeeper` subtree, no characters ZooKeeper refuses.
 */
export function validateElectionPath(path: unknown): string {
  if (typeof path !== 'string') throw new InvalidPathError(String(path), 'expected a string');
  if (!path.startsWith('/')) throw new InvalidPathError(path, 'must be absolute (start with "/")');
  if (path === '/') throw new InvalidPathError(path, 'the root cannot be an election path');
  if (path.endsWith('/')) throw new InvalidPathError(path, 'must not end with "/"');
  const parts = path.slice(1).split('/');
  for (const part of parts) {
    if (part === '') throw new InvalidPathError(path, 'has an empty component ("//")');
    if (part === '.' || part === '..') throw new InvalidPathError(path, `has a relative component "${part}"`);
  }
  if (parts[0] === 'zookeeper') throw new InvalidPathError(path, 'is under /zookeeper, which the server reserves');
  // ZooKeeper's PathUtils refuses NUL, control characters and a few unicode ranges.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/u.test(path)) {
    throw new InvalidPathError(path, 'contains a character ZooKeeper does not allow');
  }
  return path;
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
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d+))?$/.exec(entry);
  if (!match) throw new InvalidConnectStringError(connect, `cannot parse host "${entry}"`);
  const port = match[2] === undefined ? 2181 : Number(match[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidConnectStringError(connect, `port out of range in "${entry}"`);
  }
  return { host: match[1]!, port };
}

export function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a positive integer, got \`${String(value)}\` (${typeof value})`);
  }
  return value;
}

export function optionalTimeout(name: string, value: unknown): number | undefined {
  if (value === undefined || value === Infinity) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a non-negative number of milliseconds, got \`${String(value)}\``);
  }
  return value;
}

export function optionalSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new InvalidArgumentError(`Expected \`${name}\` to be an AbortSignal`);
  return value;
}
