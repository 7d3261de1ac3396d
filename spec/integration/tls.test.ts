/**
 * Everything over TLS, against a TLS-only server (Netty, a secure client port and no plaintext
 * one, client certificates required): the library's election, observers and step-down, and the
 * CLI's participants, leader --watch, step-down and run, with a failover.
 */
import net from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { Election, getLeader, listParticipants, observeLeader, requestStepDown, Session, type TlsOptions } from 'zk-election';
import { CLI, runCli } from '../support/cli.js';
import { closedPort } from '../support/clients.js';
import { isAlive, killAllTracked, spawnTracked, waitFor } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1, tls: true });
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.allSettled(cleanup.splice(0).map((fn) => fn()));
  await killAllTracked();
});

const tls = (): TlsOptions => zk.ensemble.tls!;
/** The CLI's environment for this server: the connection string and the three files. */
const tlsEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ZK_CONNECT: zk.connectString, ZK_TLS_CA: tls().ca, ZK_TLS_CERT: tls().cert, ZK_TLS_KEY: tls().key });
const within = (ms: number): AbortSignal => AbortSignal.timeout(ms);

async function join(path: string, id: string): Promise<Election> {
  const e = new Election(path, { connect: zk.connectString, tls: tls(), id });
  cleanup.push(() => e.close());
  await e.start();
  return e;
}

/** What a plaintext connection to the port gets for a four-letter word: nothing (the TLS handshake never starts). */
function plaintextSrvr(port: number): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write('srvr'));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => resolve(answer));
    socket.setTimeout(2000, () => socket.destroy());
  });
}

test('the server speaks TLS only: srvr over TLS answers; no plaintext port, and no plaintext answer on its port', async () => {
  const [server] = zk.ensemble.servers;
  expect(await server!.mode()).toBe('standalone');
  const config = readFileSync(`${zk.ensemble.baseDir}/server-1/zoo.cfg`, 'utf8');
  expect(config).toMatch(/^secureClientPort=\d+$/m);
  expect(config).toMatch(/^serverCnxnFactory=org\.apache\.zookeeper\.server\.NettyServerCnxnFactory$/m);
  expect(config).not.toMatch(/^clientPort=/m);
  expect(await plaintextSrvr(server!.clientPort)).not.toContain('Mode:');
});

test('an election over TLS: one leader, a hand-over on resign with a larger token; the observers see it', async () => {
  const path = uniquePath();
  const observed: Array<string | undefined> = [];
  const stopObserving = new AbortController();
  cleanup.push(async () => stopObserving.abort());
  const observing = (async () => {
    for await (const leader of observeLeader(path, { connect: zk.connectString, tls: tls(), signal: stopObserving.signal })) observed.push(leader?.id);
  })();
  const first = await join(path, 'first');
  const second = await join(path, 'second');
  const term1 = await first.waitForLeadership(within(10_000));
  expect((await listParticipants(path, { connect: zk.connectString, tls: tls() })).map((p) => [p.id, p.leader])).toEqual([['first', true], ['second', false]]);
  expect((await getLeader(path, { connect: zk.connectString, tls: tls() }))?.token).toBe(term1.token);
  await term1.resign();
  const term2 = await second.waitForLeadership(within(10_000));
  expect(term2.token).toBeGreaterThan(term1.token);
  await waitFor(() => observed.at(-1) === 'second', { timeoutMs: 10_000, message: 'the observer to see second lead' });
  stopObserving.abort();
  await observing;
  expect(observed.filter((id, i) => id !== observed[i - 1])).toEqual(expect.arrayContaining(['first', 'second']));
});

test('requestStepDown over TLS, on a shared TLS session: the leader steps down and the next one leads', async () => {
  const path = uniquePath();
  const session = await Session.connect({ connect: zk.connectString, tls: tls() });
  cleanup.push(() => session.close());
  const first = new Election(path, { connect: session, id: 'first' });
  const second = new Election(path, { connect: session, id: 'second' });
  cleanup.push(() => first.close(), () => second.close());
  await first.start();
  await second.start();
  const term1 = await first.waitForLeadership(within(10_000));
  const result = await requestStepDown(path, { connect: zk.connectString, tls: tls(), timeout: 10_000 });
  expect(result.previous.id).toBe('first');
  expect(result.next).toMatchObject({ id: 'second', leader: true });
  expect(result.next.token).toBeGreaterThan(term1.token);
  expect(term1.isLeader).toBe(false);
});

test('CLI over TLS: participants (flags), leader --watch and step-down ($ZK_TLS_*)', async () => {
  const path = uniquePath();
  const watch = await spawnTracked(process.execPath, [CLI, 'leader', path, '--watch', '--json'], { env: tlsEnv() });
  await watch.waitForLine(/^null$/, 15_000);
  await join(path, 'first');
  await watch.waitForLine(/"id":"first"/, 15_000);
  await join(path, 'second');
  const listed = await runCli(['participants', path, '--json', '--connect', zk.connectString, '--tls-ca', tls().ca, '--tls-cert', tls().cert!, '--tls-key', tls().key!]);
  expect(listed.code).toBe(0);
  expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((p) => p.id)).toEqual(['first', 'second']);
  const stepped = await runCli(['step-down', path], tlsEnv());
  expect(stepped).toMatchObject({ code: 0, stdout: expect.stringMatching(/^first stepped down; new leader second token \d+\n$/) });
  await watch.waitForLine(/"id":"second"/, 15_000);
  await watch.stop('SIGINT');
  expect(watch.lines.map((line) => (JSON.parse(line) as { id?: string } | null)?.id ?? null)).toEqual([null, 'first', 'second']);
});

test('CLI over TLS: run keeps one copy of its command through a kill -9 of the leading sidecar', async () => {
  const path = uniquePath();
  const job = ['--', process.execPath, '-e', "console.log('JOB token=' + process.env.ZK_ELECTION_TOKEN + ' pid=' + process.pid + ' pass=' + (process.env.ZK_TLS_PASSPHRASE ?? 'none')); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)"];
  const env = { ...tlsEnv(), ZK_TLS_PASSPHRASE: 'unused-by-a-plain-key' };
  const first = await spawnTracked(process.execPath, [CLI, 'run', path, '--id', 'one', '--session-timeout', '1000', ...job], { env });
  const started = await first.waitForLine(/^JOB token=\d+ pid=\d+ pass=none$/, 20_000);
  const second = await spawnTracked(process.execPath, [CLI, 'run', path, '--id', 'two', '--session-timeout', '1000', ...job], { env });
  await waitFor(async () => (await listParticipants(path, { connect: zk.connectString, tls: tls() })).some((p) => p.id === 'two'), { timeoutMs: 15_000, message: 'two to join' });
  const firstJob = Number(/pid=(\d+)/.exec(started)![1]);
  await first.kill9();
  await waitFor(() => !isAlive(firstJob), { timeoutMs: 5000, message: "the killed sidecar's command to exit" });
  const takeover = await second.waitForLine(/^JOB token=\d+ pid=\d+ pass=none$/, 20_000);
  const token = (line: string): bigint => BigInt(/token=(\d+)/.exec(line)![1]!);
  expect(token(takeover)).toBeGreaterThan(token(started));
  expect((await second.stop('SIGTERM', 10_000)).code).toBe(143);
  expect(await listParticipants(path, { connect: zk.connectString, tls: tls() })).toEqual([]);
});

test('zk-election server --tls serves TLS only and prints the flags that connect to it; Ctrl-C removes everything', async () => {
  const port = await closedPort();
  const server = await spawnTracked(process.execPath, [CLI, 'server', '--tls', '--port', String(port)]);
  await server.waitForLine(new RegExp(`^ZooKeeper \\(standalone, TLS only\\) serving at 127\\.0\\.0\\.1:${port}$`), 60_000);
  const flagsLine = await server.waitForLine(/^  or, per command: /, 5000);
  const flags = flagsLine.replace(/^  or, per command: /, '').split(' ');
  const exported = Object.fromEntries(server.lines.flatMap((line) => [...line.matchAll(/^  export (ZK_\w+)=(\S+)$/g)].map((m) => [m[1]!, m[2]!])));
  expect(Object.keys(exported).sort()).toEqual(['ZK_CONNECT', 'ZK_TLS_CA', 'ZK_TLS_CERT', 'ZK_TLS_KEY']);
  const dataDir = /data in (\S+);/.exec(await server.waitForLine(/data in /, 5000))![1]!;
  // With the printed flags, and with the printed variables; without them, a plaintext client is refused.
  expect(await runCli(['participants', '/nobody/here', ...flags])).toMatchObject({ code: 0, stdout: 'no participants\n' });
  expect(await runCli(['leader', '/nobody/here'], { ...process.env, ...exported })).toMatchObject({ code: 1, stderr: expect.stringContaining('no leader') });
  const plaintext = await runCli(['leader', '/nobody/here', '--connect', exported.ZK_CONNECT!, '--timeout', '2000']);
  expect(plaintext).toMatchObject({ code: 3, stderr: expect.stringContaining('speaks TLS') });
  server.child.kill('SIGINT');
  expect(await server.waitForExit(30_000)).toEqual({ code: 130, signal: null });
  expect(server.lines.at(-1)).toBe('stopped; nothing left behind');
  expect(existsSync(dataDir)).toBe(false);
}, 90_000);
