/**
 * The HTTP server of `run --metrics`, hardened: whoever can reach the port may send anything, and
 * `run` (with its command, and the election) must outlive every request. So:
 *
 * - a request the parser refuses (an unknown method, TLS bytes, 200 KB of headers) is answered
 *   with its status (405, 400, 431) and the connection closed: node's `clientError`, never a throw;
 * - a request that is too slow to send its headers (5 s) or itself (10 s) is dropped, checked
 *   every second: silent connections do not pile up;
 * - at most MAX_CONNECTIONS connections: one more evicts the oldest one that has no request in
 *   flight (a silent one first), so that a flood of idle connections cannot keep a scraper or a
 *   health check out; when every one is busy, the newcomer is closed instead.
 *
 * What a parsed request may ask (only GET and HEAD, no body) is the handler's business (metrics.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Bounds of the metrics server: small, since a scraper sends one small GET every few seconds. */
export const HTTP_LIMITS = Object.freeze({
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5000,
  checkEveryMs: 1000,
  maxHeaderBytes: 16 * 1024,
  maxConnections: 64,
});

const STATUS: Readonly<Record<string, readonly [number, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_INVALID_METHOD: [405, 'Method Not Allowed'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/** A server whose handler errors, parse errors and idle connections can neither crash nor starve it. */
export function createGuardedServer(handler: (request: IncomingMessage, response: ServerResponse) => Promise<void>, onError: (error: Error) => void): Server {
  const server = createServer(
    {
      headersTimeout: HTTP_LIMITS.headersTimeoutMs,
      requestTimeout: HTTP_LIMITS.requestTimeoutMs,
      keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
      connectionsCheckingInterval: HTTP_LIMITS.checkEveryMs,
      maxHeaderSize: HTTP_LIMITS.maxHeaderBytes,
    },
    (request, response) => {
      busy.add(request.socket);
      response.once('close', () => busy.delete(request.socket));
      handler(request, response).catch((error: unknown) => {
        onError(error as Error);
        // Whatever went wrong, the client gets an answer or a closed connection, and `run` goes on.
        if (!response.headersSent && !response.destroyed) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end('internal error\n');
        else response.destroy();
      });
    },
  );
  const open = new Set<Socket>();
  const busy = new Set<Socket>();
  /** Connections being closed: an answer went out, whatever follows is read and dropped. */
  const closing = new WeakSet<Socket>();
  const linger = (socket: Socket): void => {
    if (closing.has(socket)) return;
    closing.add(socket);
    // Closing with unread data resets the connection, and the client may lose the answer we just
    // sent (413 to a body we never read). So: FIN, read and drop for 1 s, then close.
    socket.end();
    socket.resume();
    setTimeout(() => socket.destroy(), 1000).unref();
  };
  server.on('connection', (socket: Socket) => {
    // Node closes after a `Connection: close` response with destroySoon(): linger instead.
    socket.destroySoon = () => linger(socket);
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      busy.delete(socket);
    });
    if (open.size <= HTTP_LIMITS.maxConnections) return;
    // Insertion order is age: the oldest idle connection makes room, else the newcomer goes.
    const idle = [...open].find((s) => s !== socket && !busy.has(s));
    (idle ?? socket).destroy();
  });
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    // The parser can report more than once for one connection (and on what follows an answer): one answer.
    if (closing.has(socket)) return;
    if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const [status, reason] = STATUS[error.code ?? ''] ?? [400, 'Bad Request'];
    const allow = status === 405 ? 'Allow: GET, HEAD\r\n' : '';
    socket.write(`HTTP/1.1 ${status} ${reason}\r\n${allow}Connection: close\r\nContent-Length: 0\r\n\r\n`);
    linger(socket);
  });
  return server;
}
