/**
 * Why a session could not be opened, when the native client cannot say. ZooKeeper's C client
 * treats a refused TLS handshake (a wrong CA, an expired certificate, a plaintext port) and a
 * plaintext hello to a TLS port like any broken connection: it tries the next host, silently,
 * until our connect timeout ends the wait with UNREACHABLE. A user then needs to know which of
 * these it was. So, once an opening has waited a while, one TLS handshake per server is tried from
 * Node, with the same files and the same checks as the C client (the CA, the validity dates, no
 * host name), and what it found goes into the UNREACHABLE error's message.
 *
 * It only explains: it never decides whether a session opens. Bounded by the caller's deadline.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { TlsOptions } from './tls-options.js';
import { parseConnectString } from '../util/validate.js';

export interface ProbeResult {
  /** One line: each server and what the probe found there. */
  detail: string;
  /** The error of the first server's probe, if it failed. */
  cause: Error | undefined;
}

/** After a TLS handshake completes, how long to wait for a late alert (TLS 1.3 refuses a client certificate after it). */
const ALERT_WAIT_MS = 250;

/** Codes of Node's TLS stack that mean "the server's certificate is not signed by the CA we trust". */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** Probes every server of `connect` (at most `timeoutMs`); undefined when nothing was found worth saying. */
export async function probeServers(connect: string, options: TlsOptions | undefined, timeoutMs: number): Promise<ProbeResult | undefined> {
  const { hosts } = parseConnectString(connect);
  const files = options ? readFiles(options) : undefined;
  const found = await Promise.all(hosts.map(({ host, port }) => probeOne(host, port, files, timeoutMs)));
  const said = found.flatMap((result, i) => (result.finding ? [`${hosts[i]!.host}:${hosts[i]!.port}: ${result.finding}`] : []));
  if (said.length === 0) return undefined;
  return { detail: said.join('; '), cause: found.find((result) => result.error)?.error };
}

interface Finding {
  finding: string | undefined;
  error?: Error;
}

type Files = tls.ConnectionOptions;

function readFiles(options: TlsOptions): Files {
  return {
    ca: readFileSync(options.ca),
    ...(options.cert ? { cert: readFileSync(options.cert) } : {}),
    ...(options.key ? { key: readFileSync(options.key) } : {}),
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
  };
}

async function probeOne(host: string, port: number, files: Files | undefined, timeoutMs: number): Promise<Finding> {
  const outcome = await handshake(host, port, files, timeoutMs);
  return files ? explainTls(outcome, files) : explainPlaintext(outcome);
}

type Outcome = { kind: 'secure' } | { kind: 'error'; error: Error & { code?: string }; secure: boolean } | { kind: 'timeout' };

/** One handshake: the C client's checks with `files` (CA and dates, no host name); none without (only: does it speak TLS?). */
function handshake(host: string, port: number, files: Files | undefined, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let secure = false;
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const socket = tls.connect({
      host,
      port,
      ...(files ?? {}),
      rejectUnauthorized: files !== undefined,
      // The C client checks no host name (docs/native-client.md): neither does the probe.
      checkServerIdentity: () => undefined,
    });
    const finish = (outcome: Outcome): void => {
      if (done) return;
      done = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const after = (ms: number, outcome: () => Outcome): void => void timers.push(setTimeout(() => finish(outcome()), ms).unref());
    after(timeoutMs, () => (secure ? { kind: 'secure' } : { kind: 'timeout' }));
    socket.once('secureConnect', () => {
      secure = true;
      after(Math.min(ALERT_WAIT_MS, timeoutMs), () => ({ kind: 'secure' }));
    });
    socket.on('error', (error) => finish({ kind: 'error', error, secure }));
    socket.once('close', () => finish(secure ? { kind: 'secure' } : { kind: 'error', error: Object.assign(new Error('connection closed during the TLS handshake'), { code: 'ECONNRESET' }), secure }));
  });
}

/** A TLS client's probe: what stands between it and the server. */
function explainTls(outcome: Outcome, files: Files): Finding {
  if (outcome.kind === 'secure') return { finding: undefined };
  if (outcome.kind === 'timeout') return { finding: 'no TLS handshake within the connect timeout (a paused or overloaded server, or a firewall)' };
  const { error } = outcome;
  const code = error.code ?? '';
  const say = (finding: string): Finding => ({ finding: `${finding} [${code || error.message}]`, error });
  if (code === 'ECONNREFUSED') return say('connection refused (nothing listens there)');
  if (code === 'CERT_HAS_EXPIRED') return say("TLS refused: the server's certificate has expired");
  if (code === 'CERT_NOT_YET_VALID') return say("TLS refused: the server's certificate is not valid yet (check the clocks)");
  if (UNTRUSTED.has(code)) return say("TLS refused: the server's certificate is not signed by the given CA (tls.ca, --tls-ca)");
  if (/ALERT/.test(code)) {
    const client = files.cert
      ? "the server refused this client's certificate (is it signed by a CA the server trusts, and valid?)"
      : 'the server asks for a client certificate: give one (tls.cert and tls.key, --tls-cert and --tls-key)';
    return say(`TLS refused: ${client}`);
  }
  if (!outcome.secure && (code === 'ECONNRESET' || code === 'EPIPE' || /WRONG_VERSION_NUMBER|PACKET_LENGTH|RECORD_LAYER|UNKNOWN_PROTOCOL/.test(code))) {
    return say('TLS handshake failed: the server does not speak TLS on this port (a plaintext clientPort? TLS clients need its secureClientPort)');
  }
  return say(`TLS handshake failed: ${error.message}`);
}

/** A plaintext client's probe: is it talking to a port that wants TLS? */
function explainPlaintext(outcome: Outcome): Finding {
  if (outcome.kind === 'timeout') return { finding: undefined };
  // A handshake that went through, or a TLS alert: this port speaks TLS, and a plaintext client never gets through.
  if (outcome.kind === 'secure' || /ALERT/.test(outcome.error.code ?? '') || outcome.secure) {
    return { finding: 'this port speaks TLS (a secureClientPort): connect over TLS (the tls option, --tls-ca FILE)' };
  }
  if (outcome.error.code === 'ECONNREFUSED') return { finding: `connection refused (nothing listens there) [ECONNREFUSED]`, error: outcome.error };
  return { finding: undefined };
}
