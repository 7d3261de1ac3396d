/** Argument parsing for every command: node's parseArgs, strict, with our usage errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Flags every command takes. */
export const COMMON_OPTIONS = {
  connect: { type: 'string' },
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
  return value;
}

/** The connection string: --connect, then $ZK_CONNECT, then 127.0.0.1:2181. */
export function connectOption(parsed: Parsed, env: NodeJS.ProcessEnv): string {
  const value = parsed.values.connect;
  if (typeof value === 'string') return value;
  return env.ZK_CONNECT || '127.0.0.1:2181';
}
