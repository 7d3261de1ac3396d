/**
 * The library never writes to the console on its own, and never loads a logging library on its
 * own either: without an injected logger every call goes to a no-op. Pass a winston logger (or
 * anything with the same five methods) as `logger` to see transitions (info), retries (debug) and
 * recoverable trouble (warn).
 */

type LogMethod = (message: string, meta?: Record<string, unknown>) => unknown;

/** What the library calls on a logger; a winston.Logger fits. */
export interface Logger {
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
  child(meta: Record<string, unknown>): Logger;
}

const noop = (): void => {};

/** Logs nothing, costs a call. */
export const silentLogger: Logger = { error: noop, warn: noop, info: noop, debug: noop, child: () => silentLogger };

/** A child logger carrying `{ path, id }` (or any context) on every line; the silent one without a logger. */
export function withContext(logger: Logger | undefined, context: Record<string, unknown>): Logger {
  return logger ? logger.child(context) : silentLogger;
}
