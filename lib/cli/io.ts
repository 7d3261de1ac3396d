/** What a CLI command may touch: its streams and environment, injectable for tests. */
import { constants } from 'node:os';
import winston from 'winston';
import { isZkElectionError, ZkElectionError } from '../errors.js';
import { TestingError } from '../testing/testing-errors.js';
import { escapeControl } from './format.js';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/**
 * The documented exit codes. NOT_STEPPED_DOWN: `step-down` waited out --timeout without another
 * leader. HANDED_ELSEWHERE: `step-down --to ID` ended in a normal succession (ID left, or the
 * leader left on its own first): somebody else leads.
 */
export const EXIT = { OK: 0, NO_LEADER: 1, FAILURE: 1, USAGE: 2, UNREACHABLE: 3, NOT_STEPPED_DOWN: 4, HANDED_ELSEWHERE: 5 } as const;

/**
 * The exit status of a command that a signal ended, after its clean-up: 128 + the signal's number,
 * as a shell reports a process killed by it (130 for Ctrl-C, 143 for SIGTERM). One rule for every
 * command that runs until interrupted (`run`, `--watch`, `server`, `demo`).
 */
export function exitForSignal(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Ctrl-C (SIGINT) or SIGTERM as an AbortSignal for a command that runs until interrupted; `dispose`
 * removes the handlers; `exitCode()` is {@link exitForSignal} of the signal received, else 0.
 * `once`: the first signal also removes them, so that a second Ctrl-C ends a command stuck on its
 * way out; without it the handlers stay until `dispose`, so that a second Ctrl-C cannot cut a
 * clean-up short.
 */
export function interruption(options: { once: boolean }): { signal: AbortSignal; dispose(): void; exitCode(): number } {
  const stop = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (options.once) dispose();
    received ??= signal;
    stop.abort();
  };
  const dispose = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { signal: stop.signal, dispose, exitCode: () => (received ? exitForSignal(received) : EXIT.OK) };
}

/** Bad usage, reported as one line and exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Maps an error to the documented exit code. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT.USAGE;
  // `demo` and `server` start local servers through the test kit: a taken port or a bad option is bad usage.
  if (error instanceof TestingError) return error.code === 'PORT_IN_USE' || error.code === 'INVALID_ARGUMENT' ? EXIT.USAGE : EXIT.FAILURE;
  if (error instanceof ZkElectionError) {
    switch (error.code) {
      case 'UNREACHABLE':
        return EXIT.UNREACHABLE;
      case 'HANDOFF_TARGET_GONE':
      case 'HANDOFF_INTERRUPTED':
        return EXIT.HANDED_ELSEWHERE;
      case 'TLS_CONFIG':
      case 'INVALID_PATH':
      case 'INVALID_ARGUMENT':
      case 'INVALID_CONNECT_STRING':
      case 'NATIVE_CLIENT':
      case 'DATA_TOO_LARGE':
      case 'SESSION_TIMEOUT_OUT_OF_RANGE':
      case 'NO_AUTH':
      case 'AUTH_FAILED':
        return EXIT.USAGE;
      default:
        return EXIT.FAILURE;
    }
  }
  return EXIT.FAILURE;
}

/** One clear line on stderr; the stack only with --verbose. */
export function reportError(io: CliIo, error: unknown, verbose: boolean): void {
  // Any error's code is shown (ours, the test kit's, a system call's); only ours are branched on.
  const err = error as Error & { code?: string };
  const code = err.code ? ` [${err.code}]` : '';
  // Which credentials were tried is never said: only that some are needed.
  const hint = isZkElectionError(error, 'NO_AUTH') ? '; this needs credentials the session lacks: --auth SCHEME:CREDENTIALS or $ZK_AUTH' : '';
  // A message can carry what a node held (an id, a path): shown, never obeyed.
  io.stderr.write(`zk-election: ${escapeControl(String(err.message ?? error))}${hint}${escapeControl(code)}\n`);
  if (verbose && err.stack) io.stderr.write(`${escapedStack(err)}\n`);
}

/** A stack as lines: the message part escaped whole (a newline in it forges no line), the frames line by line. */
function escapedStack(err: Error): string {
  const stack = err.stack ?? '';
  const head = `${err.name}: ${err.message}`;
  const [first, rest] = stack.startsWith(head) ? [head, stack.slice(head.length)] : ['', stack];
  return escapeControl(first) + rest.split('\n').map(escapeControl).join('\n');
}

/** The CLI's own log: one line per transition on stderr, text or JSON. */
export function cliLogger(io: CliIo, format: 'text' | 'json', level = 'info'): winston.Logger {
  const text = winston.format.printf((info) => {
    const { level: lvl, message, timestamp, ...rest } = info as Record<string, unknown>;
    const fields = Object.entries(rest)
      .filter(([key]) => typeof key === 'string')
      .map(([key, value]) => `${key}=${escapeControl(typeof value === 'string' ? value : String(JSON.stringify(value)))}`)
      .join(' ');
    // Fields and messages can carry what a node held: one line each, whatever they contain.
    return `${String(timestamp)} ${String(lvl)} ${escapeControl(String(message))}${fields ? ` ${fields}` : ''}`;
  });
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), format === 'json' ? winston.format.json() : text),
    transports: [new winston.transports.Stream({ stream: io.stderr })],
  });
}
