/**
 * A chaos worker: one OS process holding several participants, each with its own session and its
 * own runAsLeader(). While leading and while `isValid()`, a participant writes
 * (token, id, claim time) to the fenced resource every few tens of milliseconds.
 * Usage: node dist/spec/chaos/worker.js '<WorkerConfig as JSON>'
 *
 * It prints JSON lines (see protocol.ts). On SIGTERM or SIGINT it aborts every runAsLeader, waits
 * for them to settle and exits 0; an unhandled rejection or an uncaught exception prints an
 * `error` line (and the latter exits 1).
 */
import { Writable } from 'node:stream';
import winston from 'winston';
import { runAsLeader, type Leadership } from 'zk-election';
import { epochNow, type WorkerConfig, type WorkerLine } from './protocol.js';
import { ResourceClient } from './resource-client.js';

type Fields<E extends WorkerLine['event']> = Omit<Extract<WorkerLine, { event: E }>, 'event' | 'worker' | 'at'>;

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const SETTLE_MS = 15_000;
const LINGER_MS = 3000;

function say<E extends WorkerLine['event']>(event: E, fields: Fields<E>): void {
  process.stdout.write(`${JSON.stringify({ event, worker: config.worker, at: epochNow(), ...fields })}\n`);
}

function describe(error: unknown): { code?: string; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return typeof code === 'string' ? { code, message } : { message };
}

process.on('unhandledRejection', (reason) => {
  say('error', { kind: 'unhandledRejection', ...describe(reason) });
  process.exitCode = 1;
});
process.on('uncaughtException', (error) => {
  say('error', { kind: 'uncaughtException', ...describe(error) });
  process.exit(1);
});

/** Session and election trouble (warn and up) and the burial of sessions the binding closed, as `log` lines. */
const FORWARDED_INFO = /closed the previous session|session connected|leadership lost/;
function loggerFor(id: string): winston.Logger {
  const sink = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _encoding, done) {
      const message = String(info.message);
      if (info.level !== 'info' || FORWARDED_INFO.test(message)) {
        say('log', {
          id,
          level: String(info.level),
          message,
          ...(typeof info.code === 'number' ? { code: info.code } : {}),
          ...(typeof info.sessionId === 'string' ? { sessionId: info.sessionId } : {}),
          ...(typeof info.reason === 'string' ? { reason: info.reason } : {}),
        });
      }
      done();
    },
  });
  return winston.createLogger({ level: 'info', transports: [new winston.transports.Stream({ stream: sink })] });
}

const resource = new ResourceClient(config.resourcePort);
const stop = new AbortController();

const draw = ([low, high]: [number, number]): number => low + Math.random() * (high - low);

function pause(ms: number, signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const any = AbortSignal.any(signals);
    const timer = setTimeout(done, ms);
    any.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      any.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** The task: write while valid until the term ends (or the worker stops). */
async function lead(leadership: Leadership, id: string): Promise<void> {
  const token = leadership.token.toString();
  say('elected', { id, token });
  let writes = 0;
  leadership.signal.addEventListener('abort', () => {
    const reason = (leadership.signal.reason as { reason?: string } | undefined)?.reason ?? 'unknown';
    say('lost', { id, token, reason, validAtLoss: leadership.isValid(), writes });
  }, { once: true });
  // runAsLeader's `signal` (the worker's stop) ends the term too, so the leadership's signal is enough.
  while (!leadership.signal.aborted) {
    // The claim time is read before the check: whatever happens after it, the claim held then.
    const claimAt = epochNow();
    if (leadership.isValid()) {
      writes += 1;
      await pause(draw(config.prepareMs), []);
      const outcome = await resource.write(leadership.token, id, claimAt);
      if (outcome !== 'accepted') say('write', { id, token, claimAt, outcome });
    }
    await pause(draw(config.writeGapMs), [leadership.signal]);
  }
}

async function participate(id: string): Promise<void> {
  try {
    await runAsLeader(config.path, {
      connect: config.connect,
      id,
      sessionTimeout: config.sessionTimeout,
      priority: config.priorities?.[id] ?? 0,
      ...(config.preferAfterMs === undefined ? {} : { preferAfter: config.preferAfterMs }),
      signal: stop.signal,
      logger: loggerFor(id),
    }, (leadership) => lead(leadership, id));
    say('stopped', { id, how: 'returned' });
  } catch (error) {
    const { code, message } = describe(error);
    if (stop.signal.aborted && code === 'ABORTED') say('stopped', { id, how: 'aborted' });
    else say('error', { kind: 'runAsLeader', id, ...(code ? { code } : {}), message });
  }
}

function onSignal(): void {
  if (stop.signal.aborted) return;
  stop.abort();
  const settle = setTimeout(() => {
    say('error', { kind: 'shutdown', message: `runAsLeader did not settle within ${SETTLE_MS} ms of SIGTERM` });
    process.exit(1);
  }, SETTLE_MS);
  settle.unref();
}
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

say('ready', { pid: process.pid });
await Promise.all(config.ids.map((id) => participate(id)));
resource.close();
say('exit', {});
// The process should now end on its own; if a handle keeps it alive, say so and leave anyway.
setTimeout(() => {
  say('lingering', {});
  process.exit(process.exitCode ?? 0);
}, LINGER_MS).unref();
