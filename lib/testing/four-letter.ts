import net from 'node:net';
import { ServerTimeoutError } from './testing-errors.js';
import { LOOPBACK } from './ports.js';

/** What `srvr` reports in its `Mode:` line once a server serves clients. */
export type ServerMode = 'standalone' | 'leader' | 'follower';

export const DEFAULT_FOUR_LETTER_TIMEOUT_MS = 2000;

/**
 * Sends a four-letter word (`ruok`, `srvr`, `stat`, `mntr`, ...) and reads the answer to EOF;
 * the server closes the connection after answering. Rejects with the socket error, or with
 * a ServerTimeoutError when no complete answer arrives within `timeoutMs` (a paused or partitioned
 * server accepts the connection and then says nothing).
 */
export function fourLetter(
  port: number,
  word: string,
  timeoutMs = DEFAULT_FOUR_LETTER_TIMEOUT_MS,
  host = LOOPBACK,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ServerTimeoutError(`four-letter word '${word}' to ${host}:${port} got no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    // write, not end: a FIN right behind the word could make the server drop the connection unanswered.
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** The `Mode:` of a `srvr` answer; undefined when the server does not serve (no quorum yet). */
export function parseMode(srvrAnswer: string): ServerMode | undefined {
  const match = /^Mode: (standalone|leader|follower)\s*$/m.exec(srvrAnswer);
  return match?.[1] as ServerMode | undefined;
}
