/**
 * The fenced resource, in the test process: a loopback TCP server that accepts a write only if its
 * token is at least the highest token it has accepted, and records every write, accepted or not,
 * with its arrival time on this process's monotonic clock.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import type { WriteReply, WriteRequest } from './protocol.js';

export interface WriteRecord {
  token: bigint;
  id: string;
  /** When the writer saw `isValid()` true: epoch ms, on the writer's clock. */
  claimAt: number;
  /** When the write arrived: this process's `performance.now()`. */
  arrival: number;
  accepted: boolean;
}

export interface FencedResource {
  readonly port: number;
  /** Every write, in arrival order. */
  readonly writes: readonly WriteRecord[];
  /** The last accepted write, if any. */
  readonly lastAccepted: WriteRecord | undefined;
  close(): Promise<void>;
}

class Resource implements FencedResource {
  readonly writes: WriteRecord[] = [];
  lastAccepted: WriteRecord | undefined;
  #highest = -1n;
  readonly #sockets = new Set<net.Socket>();
  readonly #server = net.createServer((socket) => this.#serve(socket));

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
  }

  #serve(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.#sockets.delete(socket));
    // A writer killed with a reply still unread resets the connection (ECONNRESET). readline passes
    // its input's errors on as its own 'error' event, which would be uncaught without a listener.
    socket.on('error', () => {});
    const lines = readline.createInterface({ input: socket });
    lines.on('error', () => {});
    lines.on('line', (line) => {
      const arrival = performance.now();
      const request = JSON.parse(line) as WriteRequest;
      const reply: WriteReply = { n: request.n, ok: this.#accept(request, arrival) };
      if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
    });
  }

  /** The fencing rule: a token lower than one already accepted is refused. */
  #accept(request: WriteRequest, arrival: number): boolean {
    const token = BigInt(request.token);
    const accepted = token >= this.#highest;
    const record: WriteRecord = { token, id: request.id, claimAt: request.claimAt, arrival, accepted };
    this.writes.push(record);
    if (accepted) {
      this.#highest = token;
      this.lastAccepted = record;
    }
    return accepted;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export async function startFencedResource(): Promise<FencedResource> {
  const resource = new Resource();
  await resource.listen();
  return resource;
}
