/**
 * Every failure to connect is an error, within the connect timeout: a name that does not resolve
 * (a `.invalid` name, RFC 2606: it never resolves), a refused port, and a server that accepts the
 * connection but never answers. In a library script (its own process, with nothing else keeping
 * the event loop alive, where a promise that never settles ends the process with exit 13 and no
 * word) and from every CLI command that connects (exit 3, one line naming the cause).
 */
import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli } from '../support/cli.js';
import { closedPort } from '../support/clients.js';

const BUNDLE = fileURLToPath(new URL('../../dist/bundle/index.js', import.meta.url));
const NOWHERE = 'zk-election-test.invalid:2181';
const CONNECT_TIMEOUT = 1500;

/** Runs `body` as an ES module script in a process of its own; it prints one JSON line. */
async function script(body: string): Promise<{ code: number; result: { code?: string; cause?: string; message?: string; ms?: number } }> {
  const source = `import * as zk from ${JSON.stringify(BUNDLE)};\nconst started = performance.now();\n${body}`;
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', source], { timeout: 30_000 });
    return { code: 0, result: JSON.parse(stdout) as never };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    throw new Error(`the script exited ${e.code} (13: a top-level await never settled) with stdout ${JSON.stringify(e.stdout)}, stderr ${JSON.stringify(e.stderr)}`);
  }
}

const report = `(error) => console.log(JSON.stringify({ code: error.code, cause: error.cause?.message, message: error.message, ms: performance.now() - started }))`;

describe('the library rejects with UNREACHABLE, naming the name that does not resolve', () => {
  test.each([
    ['Session.connect', `await zk.Session.connect({ connect: '${NOWHERE}', connectTimeout: ${CONNECT_TIMEOUT} }).then(() => console.log('{}'), ${report});`],
    ['electLeader', `await zk.electLeader('/p', { connect: '${NOWHERE}', connectTimeout: ${CONNECT_TIMEOUT} }).then(() => console.log('{}'), ${report});`],
    ['listParticipants', `await zk.listParticipants('/p', { connect: '${NOWHERE}', connectTimeout: ${CONNECT_TIMEOUT} }).then(() => console.log('{}'), ${report});`],
  ])('%s', async (_name, body) => {
    const { result } = await script(body);
    expect(result).toMatchObject({ code: 'UNREACHABLE', cause: 'the name zk-election-test.invalid does not resolve' });
    expect(result.message).toBe(`cannot reach ZooKeeper at ${NOWHERE} within ${CONNECT_TIMEOUT} ms: the name zk-election-test.invalid does not resolve`);
    // Within the connect timeout, not at once and not never (bounded generously for a busy machine).
    expect(result.ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT - 50);
    expect(result.ms).toBeLessThan(CONNECT_TIMEOUT + 5000);
  });

  test('a connection string where one name resolves is not refused for the other', async () => {
    // 127.0.0.1:<closed port> resolves and refuses: the session keeps trying it, and the error is a plain UNREACHABLE.
    const port = await closedPort();
    const { result } = await script(`await zk.Session.connect({ connect: '${NOWHERE},127.0.0.1:${port}', connectTimeout: 1000 }).then(() => console.log('{}'), ${report});`);
    // The probe of the servers adds why: the one that resolves refuses connections.
    expect(result).toMatchObject({ code: 'UNREACHABLE', message: `cannot reach ZooKeeper at ${NOWHERE},127.0.0.1:${port} within 1000 ms: 127.0.0.1:${port}: connection refused (nothing listens there) [ECONNREFUSED]` });
  });
});

describe('refused and silent servers are UNREACHABLE within the connect timeout', () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Accepts connections and never answers: a server that hangs, or a firewall that drops.
    silent = createServer((socket) => (sockets.add(socket), socket.on('close', () => sockets.delete(socket))));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  // The probe of the servers says why when it can tell: a refused connection; a silent server gives it nothing to say.
  test.each([
    ['refused', async () => `127.0.0.1:${await closedPort()}`, (connect: string) => `: ${connect}: connection refused (nothing listens there) [ECONNREFUSED]`],
    ['silent', async () => `127.0.0.1:${(silent.address() as { port: number }).port}`, () => ''],
  ])('%s', async (_name, where, why) => {
    const connect = await where();
    const { result } = await script(`await zk.electLeader('/p', { connect: '${connect}', connectTimeout: 1000 }).then(() => console.log('{}'), ${report});`);
    expect(result).toMatchObject({ code: 'UNREACHABLE', message: `cannot reach ZooKeeper at ${connect} within 1000 ms${why(connect)}` });
    expect(result.ms).toBeLessThan(6000);
  });
});

describe('every command that connects exits 3 with one line naming the name', () => {
  test.each([
    [['participants', '/p']],
    [['participants', '/p', '--json']],
    [['leader', '/p']],
    [['step-down', '/p']],
    [['run', '/p', '--', 'true']],
  ])('%j', async (args) => {
    const at = args.indexOf('--');
    const own = at === -1 ? args : args.slice(0, at);
    const rest = at === -1 ? [] : args.slice(at);
    const { code, stdout, stderr } = await runCli([...own, '--connect', NOWHERE, '--timeout', String(CONNECT_TIMEOUT), ...rest]);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    // `run` logs its transitions on stderr too; its last line is the error.
    const last = stderr.trim().split('\n').at(-1);
    expect(last).toBe(`zk-election: cannot reach ZooKeeper at ${NOWHERE} within ${CONNECT_TIMEOUT} ms: the name zk-election-test.invalid does not resolve [UNREACHABLE]`);
    if (args[0] !== 'run') expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
