/**
 * `run --metrics` against whatever anyone who can reach the port may send: malformed request
 * targets, unknown methods, TLS bytes, huge headers, bodies, and hundreds of connections that say
 * nothing. Real sidecars, real server: after every one of them `run` and its command live on and
 * `/healthz` still answers (issue 18: `GET //[` once killed the sidecar with an unhandled rejection).
 */
import net from 'node:net';
import { CLI } from '../support/cli.js';
import { isAlive, killAllTracked, spawnTracked, waitFor, type TrackedProcess } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
afterEach(killAllTracked);

const JOB = ['sh', '-c', 'echo "JOB pid=$$"; exec sleep 300'];

async function sidecar(listen: string): Promise<{ proc: TrackedProcess; host: string; port: number; job: number }> {
  const proc = await spawnTracked(process.execPath, [CLI, 'run', uniquePath(), '--id', 'target', '--connect', zk.connectString, '--metrics', listen, '--', ...JOB]);
  const job = Number(/pid=(\d+)/.exec(await proc.waitForLine(/^JOB pid=\d+$/, 20_000))![1]);
  const url = proc.errorLines.map((line) => /serving metrics url=http:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/metrics/.exec(line)).find(Boolean)!;
  return { proc, host: url[1]!.replace(/^\[|\]$/g, ''), port: Number(url[2]), job };
}

/** Sends `bytes` on a fresh connection; resolves with the status of the answer (undefined: none) once the server closes it. */
function send(port: number, bytes: string | Buffer, options: { host?: string; body?: number } = {}): Promise<{ status: number | undefined; closed: boolean }> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect(port, options.host ?? '127.0.0.1', () => {
      socket.write(bytes);
      // A body that goes on and on: the server must answer and close rather than read it.
      if (options.body) socket.write(Buffer.alloc(options.body));
    });
    const timer = setTimeout(() => finish(false), 10_000);
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1];
      resolve({ status: status === undefined ? undefined : Number(status), closed });
    };
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
  });
}

async function healthz(host: string, port: number): Promise<number> {
  const base = host.includes(':') ? `[${host}]` : host;
  return (await fetch(`http://${base}:${port}/healthz`, { signal: AbortSignal.timeout(10_000) })).status;
}

const TLS_CLIENT_HELLO = Buffer.from('16030100c4010000c00303' + 'ab'.repeat(32) + '00001cc02bc02fc02cc030cca9cca8c013c014009c009d002f0035000a0100007b', 'hex');

test('every malformed or unwanted request gets an HTTP error and a closed connection; run, its command and /healthz live on', async () => {
  const s = await sidecar('127.0.0.1:0');
  const cases: Array<[string, string | Buffer, number, { body?: number }?]> = [
    ['a request target that is no URL', 'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['an absolute target with an open bracket', 'GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['bad percent-encoding', 'GET /metrics%zz%e0%80 HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ['a NUL in the path', 'GET /healthz%00 HTTP/1.1\r\nHost: x\r\n\r\n', 404],
    ['an unknown method', 'BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n', 405],
    ['a method other than GET or HEAD', 'DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n', 405],
    ['200 KB of headers', `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(200 * 1024)}\r\n\r\n`, 431],
    ['TLS bytes', TLS_CLIENT_HELLO, 405],
    ['an oversized body', 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n', 413, { body: 4 * 1024 * 1024 }],
    ['a chunked body', 'GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', 413],
  ];
  const seen: Record<string, { status: number | undefined; closed: boolean }> = {};
  const expected: typeof seen = {};
  for (const [what, bytes, status, options] of cases) {
    seen[what] = await send(s.port, bytes, options);
    expected[what] = { status, closed: true };
  }
  expect(seen).toEqual(expected);
  // A well-formed scrape still works on the same server, HEAD included.
  expect(await send(s.port, 'HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toEqual({ status: 200, closed: true });
  expect(await healthz(s.host, s.port)).toBe(200);
  expect(isAlive(s.proc.pid)).toBe(true);
  expect(isAlive(s.job)).toBe(true);
  expect(s.proc.errorLines.join('\n')).not.toMatch(/Unhandled|ERR_INVALID_URL|uncaught/i);
}, 90_000);

test('hundreds of silent connections: /healthz answers while they are open, the oldest are evicted past the cap, the rest dropped after the headers timeout', async () => {
  const s = await sidecar('127.0.0.1:0');
  const silent: net.Socket[] = [];
  const closedAt: number[] = [];
  const opened = performance.now();
  for (let i = 0; i < 300; i += 1) {
    const socket = net.connect(s.port, '127.0.0.1');
    socket.on('error', () => {});
    // Reading, as any client does: that is how it learns the server closed the connection.
    socket.resume();
    socket.on('close', () => closedAt.push(performance.now() - opened));
    silent.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
  }
  try {
    // With 300 idle connections open, a health check still gets in: the oldest idle one makes room.
    expect(await healthz(s.host, s.port)).toBe(200);
    // Past the cap (64), every newcomer evicted one: at least 300 - 64 are closed by now or soon.
    await waitFor(() => closedAt.length >= 300 - 64, { timeoutMs: 5000, message: 'connections past the cap to be evicted' });
    // The rest say nothing for 5 s (the headers timeout, checked every second): all gone within 20 s.
    await waitFor(() => closedAt.length === 300, { timeoutMs: 20_000, message: 'every silent connection to be dropped' });
    expect(await healthz(s.host, s.port)).toBe(200);
    expect(isAlive(s.proc.pid)).toBe(true);
    expect(isAlive(s.job)).toBe(true);
  } finally {
    for (const socket of silent) socket.destroy();
  }
}, 90_000);

test('--metrics binds exactly where told: [::1] answers on IPv6 loopback only, and [::] is not also every IPv4 address', async () => {
  const v6 = await sidecar('[::1]:0');
  expect(v6.host).toBe('::1');
  expect(await healthz('::1', v6.port)).toBe(200);
  expect(await send(v6.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).toEqual({ status: undefined, closed: true });
  const any6 = await sidecar('[::]:0');
  expect(await healthz('::1', any6.port)).toBe(200);
  expect(await send(any6.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).toEqual({ status: undefined, closed: true });
}, 90_000);
