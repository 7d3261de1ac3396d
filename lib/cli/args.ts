/** Argument parsing for every command: node's parseArgs, strict, with our usage errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AuthInfo } from '../session/session.js';
import { UsageError } from './io.js';
import { MAX_TIMER_MS } from '../util/validate.js';
import { resolveAuth } from './credentials.js';
import type { ListenAddress } from './run/metrics.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Flags every command takes. */
export const COMMON_OPTIONS = {
  connect: { type: 'string' },
  auth: { type: 'string' },
  'auth-file': { type: 'string' },
  timeout: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: OptionSpec): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad usage');
  }
}

export function requirePath(parsed: Parsed, usage: string): string {
  const [path, ...extra] = parsed.positionals;
  if (path === undefined) throw new UsageError(`missing <path>; usage: ${usage}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"; usage: ${usage}`);
  return path;
}

export function msOption(parsed: Parsed, name: string, fallback: number): number {
  const raw = parsed.values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(value) || value <= 0 || !Number.isInteger(value)) {
    throw new UsageError(`--${name} expects a positive whole number of milliseconds, got "${String(raw)}"`);
  }
  if (value > MAX_TIMER_MS) throw new UsageError(`--${name} expects at most ${MAX_TIMER_MS} ms (what a timer can wait), got "${raw}"`);
  return value;
}

/** The connection string: --connect, then $ZK_CONNECT, then 127.0.0.1:2181. */
export function connectOption(parsed: Parsed, env: NodeJS.ProcessEnv): string {
  const value = parsed.values.connect;
  if (typeof value === 'string') return value;
  return env.ZK_CONNECT || '127.0.0.1:2181';
}

/**
 * Credentials to add to the session: --auth SCHEME:CREDENTIALS, --auth-file PATH, then $ZK_AUTH,
 * $ZK_AUTH_FILE (lib/cli/credentials.ts); undefined for none. A secret: no message repeats it.
 */
export function authOption(parsed: Parsed, env: NodeJS.ProcessEnv): AuthInfo | undefined {
  return resolveAuth(parsed.values, env);
}

/** What every command that talks to ZooKeeper takes from the common flags. */
export function sessionOptions(parsed: Parsed, env: NodeJS.ProcessEnv): { connect: string; connectTimeout: number; auth?: AuthInfo } {
  const auth = authOption(parsed, env);
  return { connect: connectOption(parsed, env), connectTimeout: msOption(parsed, 'timeout', 10_000), ...(auth ? { auth } : {}) };
}

/**
 * HOST:PORT to listen on: a name or an IPv4 address, or an IPv6 address in brackets
 * (`[::1]:9464`); port 0 asks the system for a free one. Checked before anything starts, so a typo
 * is a usage error (exit 2), not a sidecar campaigning without the metrics it was asked for.
 */
export function listenOption(parsed: Parsed, name: string): ListenAddress | undefined {
  const raw = parsed.values[name];
  if (raw === undefined) return undefined;
  const match = typeof raw === 'string' ? /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/.exec(raw) : null;
  const port = Number(match?.[3]);
  if (!match || port > 65_535) {
    throw new UsageError(`--${name} expects HOST:PORT (for example 127.0.0.1:9464, a pod IP such as 10.1.2.3:9464, or [::1]:9464; port 0: any free port), got "${String(raw)}"`);
  }
  return { host: (match[1] ?? match[2])!, port };
}
