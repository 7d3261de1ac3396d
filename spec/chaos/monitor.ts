/**
 * The chaos test's eye on the election, in its own process: the `zookeeper` binding opens its
 * sockets without close-on-exec, so a session held by the test process itself would leak into
 * every worker and ZooKeeper JVM it spawns (see lib/process/spawn-clean.ts for what that does).
 * Usage: node dist/spec/chaos/monitor.js '<MonitorConfig as JSON>'
 * For each line `list <n>` on stdin it prints `{event:'listing', n, ids}` (the participants' ids in
 * election order, read after a sync) or `{event:'listing', n, error}`, within a bounded time.
 */
import { createInterface } from 'node:readline';
import { listParticipants, Session } from 'zk-election';
import { epochNow, type ListingLine, type MonitorConfig } from './protocol.js';

const config = JSON.parse(process.argv[2] ?? '{}') as MonitorConfig;
const LIST_TIMEOUT_MS = 4000;

function say(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...line, at: epochNow() })}\n`);
}

process.on('unhandledRejection', (reason) => say({ event: 'error', kind: 'unhandledRejection', message: String(reason) }));

const session = new Session({ connect: config.connect, sessionTimeout: 4000, connectTimeout: LIST_TIMEOUT_MS });

async function list(n: number): Promise<void> {
  const signal = AbortSignal.timeout(LIST_TIMEOUT_MS);
  const reply: Omit<ListingLine, 'at'> = { event: 'listing', n };
  try {
    const listing = (async () => {
      await session.retrying('sync', (handle) => handle.sync(config.path), { signal }).catch(() => undefined);
      return listParticipants(config.path, { connect: session, signal });
    })();
    const timeout = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(new Error(`no listing within ${LIST_TIMEOUT_MS} ms`)), { once: true });
    });
    listing.catch(() => undefined);
    reply.ids = (await Promise.race([listing, timeout])).map((p) => p.id);
  } catch (error) {
    reply.error = error instanceof Error ? error.message : String(error);
  }
  say(reply);
}

createInterface({ input: process.stdin })
  .on('line', (line) => {
    const match = /^list (\d+)$/.exec(line);
    if (match) void list(Number(match[1]));
  })
  .on('close', () => {
    void session.close().then(() => process.exit(0));
  });

say({ event: 'ready', pid: process.pid });
