/**
 * `zk-election run --metrics HOST:PORT`: Prometheus text on /metrics and a health check on
 * /healthz, served by `run` itself (lib/cli/run/run-status.ts says what they report and why).
 *
 * `run` imports this module only when the flag is given: prom-client and node:http cost start-up
 * time that a sidecar without metrics, and every other command, should not pay. The server lives
 * and dies with `run`: `close()` drops the scrapers' keep-alive connections, it never holds the
 * event loop open on its own, and the command cannot inherit its socket (Node opens it
 * close-on-exec, and lib/spawn-clean.ts closes whatever else is left before the command starts).
 *
 * Anyone who can reach the port may send anything: lib/cli/run/http-guard.ts keeps malformed,
 * slow and piled-up connections from hurting `run`; here, only GET and HEAD without a body, on two
 * paths, get an answer other than an HTTP error. The server listens exactly where it is told
 * (`[::]` is IPv6 only), never on every interface by default.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Election } from '../../election/election.js';
import type { Logger as Log } from 'winston';
import { healthOf, RunStatus, SESSION_STATES } from './run-status.js';
import { createGuardedServer } from './http-guard.js';

/** Where a server of ours listens: `--metrics HOST:PORT`. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** The address could not be listened on (taken, not ours): `run` reports it as bad usage. */
export class ListenError extends Error {
  override name = 'ListenError';
}

export interface MetricsServer {
  /** Where /metrics is served, with the port the system chose for port 0. */
  readonly url: string;
  /** Stops listening and drops open connections; resolves once the server is closed. Idempotent. */
  close(): Promise<void>;
}

/** What `run` reports of its command besides the election: each restart after the command exited. */
export interface CommandEvents {
  onRestart(listener: () => void): void;
}

/** Listens on `address` (ListenError when it cannot) and serves `election`'s metrics. */
export async function serveMetrics(election: Election, address: ListenAddress, log: Log, command?: CommandEvents): Promise<MetricsServer> {
  const status = new RunStatus(election);
  const register = registry(election, status);
  const restarts = new Counter({
    name: 'zk_election_command_restarts_total',
    help: 'Starts of the command after it exited by itself (quick exits wait a growing delay first; see --restart-delay).',
    registers: [register],
  });
  command?.onRestart(() => restarts.inc());
  const server = createGuardedServer(
    (request, response) => respond(request, response, register, status, log),
    (error) => log.error('metrics request failed', { error: error.message }),
  );
  await listen(server, address);
  // The election and the command keep `run` alive; a scraper's connection must not.
  server.unref();
  server.on('error', (error) => log.error('metrics server error', { error: error.message }));
  // Where it is bound, not what was asked: a name resolves to one address, and that one is logged.
  const { port, address: bound } = server.address() as { port: number; address: string };
  const host = bound.includes(':') ? `[${bound}]` : bound;
  const url = `http://${host}:${port}/metrics`;
  log.info('serving metrics', { url, health: `http://${host}:${port}/healthz` });
  let closed: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closed ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function registry(election: Election, status: RunStatus): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register });
  const registers = [register];
  new Gauge({
    name: 'zk_election_is_leader',
    help: '1 while this participant leads on a valid lease, else 0.',
    registers,
    collect() {
      this.set(status.snapshot().role === 'leader' ? 1 : 0);
    },
  });
  const terms = new Counter({ name: 'zk_election_leader_transitions_total', help: 'Terms this participant began.', registers });
  election.on('elected', () => terms.inc());
  new Gauge({
    name: 'zk_election_lease_remaining_seconds',
    help: 'Seconds until the lease deadline (last contact with ZooKeeper + session timeout - lease margin); 0 when not leader.',
    registers,
    collect() {
      this.set(status.snapshot().leaseRemainingMs / 1000);
    },
  });
  new Gauge({
    name: 'zk_election_session_state',
    help: '1 for the ZooKeeper session state this participant is in, 0 for the others.',
    labelNames: ['state'],
    registers,
    collect() {
      const current = status.snapshot().session;
      for (const state of SESSION_STATES) this.set({ state }, state === current ? 1 : 0);
    },
  });
  new Gauge({
    name: 'zk_election_queue_position',
    help: 'Candidates ahead of this one: 0 for the leader, 1 for the next in line; -1 when not in the queue (joining, stopping).',
    registers,
    async collect() {
      this.set(await status.position());
    },
  });
  return register;
}

/** A body is never read: a request that announces one larger than this gets 413. */
const MAX_BODY_BYTES = 1024;

async function respond(request: IncomingMessage, response: ServerResponse, register: Registry, status: RunStatus, log: Log): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return refuse(response, 405, 'method not allowed: GET or HEAD\n');
  }
  const length = Number(request.headers['content-length'] ?? 0);
  if (request.headers['transfer-encoding'] !== undefined || !(length <= MAX_BODY_BYTES)) return refuse(response, 413, 'a GET takes no body\n');
  const path = pathOf(request.url);
  if (path === undefined) return refuse(response, 400, 'bad request target\n');
  if (path !== '/metrics' && path !== '/healthz') return send(response, 404, 'text/plain; charset=utf-8', 'not found: try /metrics or /healthz\n');
  if (path === '/healthz') {
    const health = healthOf(status.snapshot());
    return send(response, health.status, 'application/json', `${JSON.stringify(health.body)}\n`, request.method === 'HEAD');
  }
  try {
    send(response, 200, register.contentType, await register.metrics(), request.method === 'HEAD');
  } catch (error) {
    log.error('metrics collection failed', { error: (error as Error).message });
    send(response, 500, 'text/plain; charset=utf-8', 'metrics collection failed\n');
  }
}

/** The path of a request target, or undefined when it is not a URL (`//[`, `http://[::1`). */
function pathOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

/** An HTTP error, and the connection closed after it: whatever body follows is never read. */
function refuse(response: ServerResponse, status: number, body: string): void {
  response.setHeader('Connection', 'close');
  send(response, status, 'text/plain; charset=utf-8', body);
}

function send(response: ServerResponse, status: number, type: string, body: string, headOnly = false): void {
  // The connection may have been dropped meanwhile (the scraper gave up, or `run` is closing).
  if (response.destroyed) return;
  response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
  response.end(headOnly ? undefined : body);
}

function listen(server: Server, { host, port }: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      reject(new ListenError(`--metrics ${shown}: cannot listen there (${error.code ?? error.message})`));
    };
    server.once('error', onError);
    // ipv6Only: `[::]` means IPv6 alone, not every IPv4 interface as well.
    server.listen({ port, host, ipv6Only: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
