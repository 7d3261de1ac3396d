import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type { TlsOptions } from '../session/tls-options.js';
import { ServerTimeoutError } from './testing-errors.js';
import { LOOPBACK } from './ports.js';

/** What `srvr` reports in its `Mode:` line once a server serves clients. */
export type ServerMode = 'standalone' | 'leader' | 'follower';

export const DEFAULT_FOUR_LETTER_TIMEOUT_MS = 2000;

/**
 * Sends a four-letter word (`ruok`, `srvr`, `stat`, `mntr`, ...) and reads the answer to EOF;
 * the server closes the connection after answering. Rejects with the socket error, or with
 * a ServerTimeoutError when no complete answer arrives within `timeoutMs` (a paused or partitioned
 * server accepts the connection and then says nothing). With `tlsFiles` (PEM paths, as the
 * library's `tls` option), over TLS: a TLS-only server answers four-letter words on its secure
 * client port, to a client it accepts. The server's certificate is not checked: this is the test
 * kit's probe of its own servers, and one made with an expired certificate on purpose serves all
 * the same.
 */
export function fourLetter(
  port: number,
  word: string,
  timeoutMs = DEFAULT_FOUR_LETTER_TIMEOUT_MS,
  host = LOOPBACK,
  tlsFiles?: TlsOptions,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tlsFiles ? tls.connect({ host, port, ...readTls(tlsFiles), rejectUnauthorized: false }) : net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ServerTimeoutError(`four-letter word '${word}' to ${host}:${port} got no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    // write, not end: a FIN right behind the word could make the server drop the connection unanswered.
    socket.on(tlsFiles ? 'secureConnect' : 'connect', () => socket.write(word));
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

function readTls(files: TlsOptions): tls.ConnectionOptions {
  return {
    ca: readFileSync(files.ca),
    ...(files.cert ? { cert: readFileSync(files.cert) } : {}),
    ...(files.key ? { key: readFileSync(files.key) } : {}),
    ...(files.passphrase === undefined ? {} : { passphrase: files.passphrase }),
  };
}
