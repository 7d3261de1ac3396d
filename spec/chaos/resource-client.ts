/**
 * The worker's side of the fenced resource: one loopback TCP connection per worker process,
 * newline-delimited JSON requests, each answered by `{n, ok}`. Every write is bounded in time.
 */
import net from 'node:net';
import readline from 'node:readline';
import type { WriteOutcome, WriteReply, WriteRequest } from './protocol.js';

const WRITE_TIMEOUT_MS = 2000;

export class ResourceClient {
  #socket: net.Socket | undefined;
  #next = 0;
  readonly #pending = new Map<number, (ok: boolean | undefined) => void>();

  constructor(private readonly port: number) {}

  /** Sends one write; 'failed' when the connection broke or no answer came in time. */
  write(token: bigint, id: string, claimAt: number): Promise<WriteOutcome> {
    const socket = this.#connect();
    const n = (this.#next += 1);
    const request: WriteRequest = { n, token: token.toString(), id, claimAt };
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#settle(n, undefined), WRITE_TIMEOUT_MS);
      this.#pending.set(n, (ok) => {
        clearTimeout(timer);
        resolve(ok === undefined ? 'failed' : ok ? 'accepted' : 'rejected');
      });
      socket.write(`${JSON.stringify(request)}\n`);
    });
  }

  close(): void {
    this.#socket?.end();
    this.#socket = undefined;
  }

  #connect(): net.Socket {
    if (this.#socket) return this.#socket;
    const socket = net.connect({ host: '127.0.0.1', port: this.port });
    socket.setNoDelay(true);
    const lines = readline.createInterface({ input: socket });
    lines.on('line', (line) => {
      const reply = JSON.parse(line) as WriteReply;
      this.#settle(reply.n, reply.ok);
    });
    // 'close' follows every error and fails whatever was pending. readline passes its input's
    // errors on as its own 'error' event, uncaught without a listener.
    lines.on('error', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      for (const n of [...this.#pending.keys()]) this.#settle(n, undefined);
    });
    this.#socket = socket;
    return socket;
  }

  #settle(n: number, ok: boolean | undefined): void {
    const settle = this.#pending.get(n);
    if (!settle) return;
    this.#pending.delete(n);
    settle(ok);
  }
}
