import winston from 'winston';

/**
 * The library never writes to the console on its own. Without an injected logger it logs
 * into a silent winston logger; pass `logger` in the options to see transitions (info),
 * retries (debug) and recoverable trouble (warn).
 */
export type Logger = winston.Logger;

let silent: Logger | undefined;

export function silentLogger(): Logger {
  silent ??= winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
  return silent;
}

/** A child logger carrying `{ path, id }` (or any context) on every line. */
export function withContext(logger: Logger | undefined, context: Record<string, unknown>): Logger {
  return (logger ?? silentLogger()).child(context);
}
