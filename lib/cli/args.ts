/**
 * Argument parsing for every command, with our own one-line usage errors (exit 2): node's
 * parseArgs would do, but its messages are its own (and refuse `--timeout -5` as "ambiguous"
 * instead of saying what --timeout expects).
 */
import type { ParseArgsConfig } from 'node:util';
import { isZkElectionError } from '../errors.js';
import type { AuthInfo } from '../session/session.js';
import { validateTlsOptions, type TlsOptions } from '../session/tls-options.js';
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
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * `--name value`, `--name=value`, `--flag`, `-v`, `-vh`; `--` ends the options. A string option
 * takes the next argument as its value even when it starts with a dash (`--timeout -5`, then
 * reported by the option's own check), unless that argument is one of our options
 * (`--connect --json`: the value is missing). The last occurrence of an option wins.
 */
export function parse(argv: string[], options: OptionSpec): Parsed {
  const spec: OptionSpec = { ...COMMON_OPTIONS, ...options };
  const shorts = new Map(Object.entries(spec).flatMap(([name, option]) => (option.short ? [[option.short, name] as const] : [])));
  const isOption = (arg: string): boolean =>
    arg.startsWith('--') ? arg.slice(2).split('=')[0]! in spec : /^-[a-zA-Z]+$/.test(arg) && [...arg.slice(1)].every((letter) => shorts.has(letter));
  const values: Parsed['values'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      const option = spec[name];
      if (!option) throw new UsageError(`unknown option --${name}`);
      if (option.type === 'boolean') {
        if (eq !== -1) throw new UsageError(`--${name} takes no value`);
        values[name] = true;
        continue;
      }
      const value = eq !== -1 ? arg.slice(eq + 1) : argv[i + 1];
      if (value === undefined || (eq === -1 && isOption(value))) throw new UsageError(`--${name} needs a value`);
      if (eq === -1) i += 1;
      values[name] = value;
    } else if (/^-[^-\d]/.test(arg)) {
      for (const letter of arg.slice(1)) {
        const name = shorts.get(letter);
        if (name === undefined) throw new UsageError(`unknown option -${letter}`);
        // Every short option is a flag; one that took a value would be written out in full.
        if (spec[name]!.type !== 'boolean') throw new UsageError(`-${letter} needs a value: use --${name} VALUE`);
        values[name] = true;
      }
    } else {
      positionals.push(arg);
    }
  }
  return { values, positionals };
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

/** The CLI's names for the `tls` option's fields, in its error messages. */
const TLS_NAMES: Record<string, string> = { ca: '--tls-ca', cert: '--tls-cert', key: '--tls-key', passphrase: '$ZK_TLS_PASSPHRASE' };

/**
 * TLS from --tls-ca/--tls-cert/--tls-key, each falling back to $ZK_TLS_CA/$ZK_TLS_CERT/$ZK_TLS_KEY,
 * and the key's passphrase from $ZK_TLS_PASSPHRASE only (a flag would show it in ps); undefined
 * for plaintext. Checked here, before anything starts: a bad file is TLS_CONFIG, exit 2.
 */
export function tlsOption(parsed: Parsed, env: NodeJS.ProcessEnv): TlsOptions | undefined {
  const pick = (flag: string, variable: string): string | undefined => {
    const value = parsed.values[flag];
    return typeof value === 'string' ? value : env[variable] || undefined;
  };
  const ca = pick('tls-ca', 'ZK_TLS_CA');
  const cert = pick('tls-cert', 'ZK_TLS_CERT');
  const key = pick('tls-key', 'ZK_TLS_KEY');
  const passphrase = env.ZK_TLS_PASSPHRASE || undefined;
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  try {
    return validateTlsOptions({ ca, cert, key, passphrase });
  } catch (error) {
    // The library names its fields (tls.cert); a CLI user typed flags.
    if (isZkElectionError(error, 'TLS_CONFIG')) error.message = error.message.replace(/\btls\.(ca|cert|key|passphrase)\b/g, (_, field: string) => TLS_NAMES[field]!);
    throw error;
  }
}

/** What every command that talks to ZooKeeper takes from the common flags. */
export function sessionOptions(parsed: Parsed, env: NodeJS.ProcessEnv): { connect: string; connectTimeout: number; auth?: AuthInfo; tls?: TlsOptions } {
  const auth = authOption(parsed, env);
  const tls = tlsOption(parsed, env);
  return { connect: connectOption(parsed, env), connectTimeout: msOption(parsed, 'timeout', 10_000), ...(auth ? { auth } : {}), ...(tls ? { tls } : {}) };
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
