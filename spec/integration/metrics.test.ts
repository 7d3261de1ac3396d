/**
 * `zk-election run --metrics HOST:PORT` as operators use it: real sidecars against a real server,
 * scraped over HTTP. What /metrics and /healthz say for a leader and its followers, across a
 * failover, a step-down and a stopped ensemble; that the server dies with `run` and is loaded only
 * with the flag; and that the alert rules in docs/operations.md name only metrics that exist.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { startZooKeeper } from 'zk-election/testing';
import { CLI, runCli } from '../support/cli.js';
import { closedPort, openClient } from '../support/clients.js';
import { killAllTracked, settleWithin, spawnTracked, waitFor, type TrackedProcess } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
afterEach(killAllTracked);

const root = fileURLToPath(new URL('../../', import.meta.url));
/** Lines a scripted command prints: its participant id and token, from run's environment. */
const JOB = ['sh', '-c', 'echo "JOB id=$ZK_ELECTION_ID token=$ZK_ELECTION_TOKEN"; exec sleep 300'];

interface Sidecar {
  proc: TrackedProcess;
  /** http://127.0.0.1:PORT, as run logged it. */
  base: string;
}

/** `run --metrics 127.0.0.1:0` (the system picks the port, run logs it): no race for a free port. */
async function sidecar(path: string, id: string, options: { connect?: string; args?: string[]; command?: string[]; stdin?: 'pipe' } = {}): Promise<Sidecar> {
  const { connect = zk.connectString, args = [], command = JOB, stdin } = options;
  const proc = await spawnTracked(process.execPath, [CLI, 'run', path, '--id', id, '--connect', connect, '--metrics', '127.0.0.1:0', ...args, '--', ...command], stdin ? { stdin } : {});
  let base: string | undefined;
  await waitFor(
    () => {
      base = proc.errorLines.map((line) => /serving metrics url=(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(line)?.[1]).find(Boolean);
      return base !== undefined;
    },
    { timeoutMs: 15_000, message: `${id} to log where it serves metrics` },
  );
  return { proc, base: base! };
}

/** The samples of a Prometheus text exposition, by series as printed: `name` or `name{label="v"}`. */
async function scrape(base: string): Promise<{ type: string | null; samples: Map<string, number> }> {
  const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
  expect(response.status).toBe(200);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { type: response.headers.get('content-type'), samples };
}

/** The zk_election_* series of a scrape, session states folded into the one that is 1. */
function election(samples: Map<string, number>): Record<string, number | string> {
  const current = [...samples].filter(([key, value]) => key.startsWith('zk_election_session_state{') && value === 1);
  return {
    isLeader: samples.get('zk_election_is_leader')!,
    transitions: samples.get('zk_election_leader_transitions_total')!,
    leaseRemaining: samples.get('zk_election_lease_remaining_seconds')!,
    position: samples.get('zk_election_queue_position')!,
    session: current.length === 1 ? /state="(\w+)"/.exec(current[0]![0])![1]! : `${current.length} states at 1`,
  };
}

async function health(base: string): Promise<{ status: number; body: { id: string; role: string; token: string | null; session: string } }> {
  const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
  expect(response.headers.get('content-type')).toBe('application/json');
  return { status: response.status, body: (await response.json()) as never };
}

async function waitForRole(s: Sidecar, role: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await health(s.base)).body.role === role, { timeoutMs, intervalMs: 100, message: `${s.base} to report role ${role}` });
}

async function refused(base: string): Promise<boolean> {
  return fetch(`${base}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
    () => false,
    (error: Error & { cause?: { code?: string } }) => error.cause?.code === 'ECONNREFUSED',
  );
}

test('/metrics of a leader and of its followers, /healthz 200 for both; positions exact after a failover; the documented alert rules name only metrics that exist', async () => {
  const path = uniquePath();
  const alpha = await sidecar(path, 'alpha', { args: ['--session-timeout', '4000'] });
  const token = /token=(\d+)/.exec(await alpha.proc.waitForLine(/^JOB id=alpha token=\d+$/, 15_000))![1]!;
  const beta = await sidecar(path, 'beta');
  await waitForRole(beta, 'follower');
  const gamma = await sidecar(path, 'gamma');
  await waitForRole(gamma, 'follower');

  const leader = await scrape(alpha.base);
  expect(leader.type).toBe('text/plain; version=0.0.4; charset=utf-8');
  expect(election(leader.samples)).toEqual({ isLeader: 1, transitions: 1, leaseRemaining: expect.any(Number), position: 0, session: 'connected' });
  // At most T - M (4 s - 10 %) of lease, and some of it left: run renews it every T/10.
  expect(leader.samples.get('zk_election_lease_remaining_seconds')).toBeGreaterThan(0);
  expect(leader.samples.get('zk_election_lease_remaining_seconds')).toBeLessThanOrEqual(3.6);
  for (const state of ['connecting', 'connected', 'suspended', 'reconnected', 'expired', 'closed']) expect(leader.samples.has(`zk_election_session_state{state="${state}"}`)).toBe(true);
  for (const processMetric of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
    expect(leader.samples.get(processMetric)).toEqual(expect.any(Number));
  }
  expect(await health(alpha.base)).toEqual({ status: 200, body: { id: 'alpha', role: 'leader', token, session: 'connected' } });

  expect(election((await scrape(beta.base)).samples)).toEqual({ isLeader: 0, transitions: 0, leaseRemaining: 0, position: 1, session: 'connected' });
  expect(election((await scrape(gamma.base)).samples)).toEqual({ isLeader: 0, transitions: 0, leaseRemaining: 0, position: 2, session: 'connected' });
  expect(await health(beta.base)).toEqual({ status: 200, body: { id: 'beta', role: 'follower', token: null, session: 'connected' } });

  // The documented alert rules and scrape config (spec/examples) speak of these very series.
  const rules = readFileSync(`${root}spec/examples/zk-election-alerts.yml`, 'utf8');
  const named = new Set(rules.match(/zk_election_[a-z_]+/g));
  expect(named.size).toBeGreaterThanOrEqual(2);
  for (const name of named) expect([...leader.samples.keys()].some((key) => key === name || key.startsWith(`${name}{`))).toBe(true);
  const config = parseYaml(readFileSync(`${root}spec/examples/prometheus.yml`, 'utf8')) as { scrape_configs: Array<{ job_name: string; metrics_path: string }> };
  expect(config.scrape_configs[0]).toMatchObject({ metrics_path: '/metrics' });
  expect(rules).toContain(`up{job="${config.scrape_configs[0]!.job_name}"}`);

  // Failover: beta leads. gamma's predecessor (beta) did not change, so no event told it that it
  // moved up: only the listing at scrape time does.
  expect((await alpha.proc.stop('SIGTERM', 15_000)).code).toBe(143);
  const betaToken = /token=(\d+)/.exec(await beta.proc.waitForLine(/^JOB id=beta token=\d+$/, 20_000))![1]!;
  await waitForRole(beta, 'leader');
  expect(election((await scrape(beta.base)).samples)).toMatchObject({ isLeader: 1, transitions: 1, position: 0, session: 'connected' });
  expect(election((await scrape(gamma.base)).samples)).toEqual({ isLeader: 0, transitions: 0, leaseRemaining: 0, position: 1, session: 'connected' });
  expect((await health(beta.base)).body).toEqual({ id: 'beta', role: 'leader', token: betaToken, session: 'connected' });
  // The server went with alpha.
  expect(await refused(alpha.base)).toBe(true);
});

test('zk_election_leader_transitions_total counts the terms a participant began: 2 after two step-downs hand leadership back', async () => {
  const path = uniquePath();
  const first = await sidecar(path, 'first');
  await first.proc.waitForLine(/^JOB id=first /, 15_000);
  const second = await sidecar(path, 'second');
  await waitForRole(second, 'follower');
  const cli = (...args: string[]) => runCli(args, { ...process.env, ZK_CONNECT: zk.connectString });
  expect(await cli('step-down', path, '--id', 'first')).toMatchObject({ code: 0, stdout: expect.stringContaining('new leader second') });
  await waitForRole(second, 'leader');
  await waitForRole(first, 'follower');
  expect(election((await scrape(first.base)).samples)).toMatchObject({ isLeader: 0, transitions: 1, position: 1 });
  expect(await cli('step-down', path, '--id', 'second')).toMatchObject({ code: 0, stdout: expect.stringContaining('new leader first') });
  await waitForRole(first, 'leader');
  expect(election((await scrape(first.base)).samples)).toMatchObject({ isLeader: 1, transitions: 2, position: 0 });
  expect(election((await scrape(second.base)).samples)).toMatchObject({ isLeader: 0, transitions: 1 });
});

test('/healthz: 200, then 503 after the ensemble is stopped, a follower at once, the leader once its lease has run out', async () => {
  // An ensemble of this test's own: the file's fixture stays up for the other tests.
  const ensemble = await startZooKeeper({ servers: 1 });
  try {
    const path = uniquePath();
    // T = 10 s and a grace of 1 s: the leader's lease outlives the disconnection by seconds.
    const leader = await sidecar(path, 'leader', { connect: ensemble.connectString, args: ['--grace', '1000'] });
    await leader.proc.waitForLine(/^JOB id=leader /, 15_000);
    const follower = await sidecar(path, 'follower', { connect: ensemble.connectString });
    await waitForRole(follower, 'follower');
    const seen = { leader: [] as string[], follower: [] as string[] };
    const observe = async (who: 'leader' | 'follower', s: Sidecar): Promise<string> => {
      const { status, body } = await health(s.base);
      const line = `${status} ${body.role} ${body.session}`;
      if (seen[who].at(-1) !== line) seen[who].push(line);
      return line;
    };
    await observe('leader', leader);
    await observe('follower', follower);

    await ensemble.stop();
    await waitFor(async () => (await observe('follower', follower), (await observe('leader', leader)).startsWith('503')), {
      timeoutMs: 40_000,
      intervalMs: 100,
      message: 'the leader to report 503 once its lease has run out',
    });
    expect(seen).toEqual({
      leader: ['200 leader connected', '200 leader suspended', '503 candidate suspended'],
      follower: ['200 follower connected', '503 follower suspended'],
    });
    expect(election((await scrape(leader.base)).samples)).toMatchObject({ isLeader: 0, leaseRemaining: 0, session: 'suspended' });
    expect(election((await scrape(follower.base)).samples)).toMatchObject({ isLeader: 0, position: 1, session: 'suspended' });
    // Unreachable, run closes once the server must have expired its session: within T, bounded here.
    await Promise.all([leader.proc.stop('SIGTERM', 30_000), follower.proc.stop('SIGTERM', 30_000)]);
  } finally {
    await ensemble.stop();
  }
}, 120_000);

test('--once: run exits with its command\'s status while scrapers hold connections open; the command holds none of its TCP sockets', async () => {
  const path = uniquePath();
  const s = await sidecar(path, 'once', { args: ['--once'], command: ['sh', '-c', 'echo "JOB pid=$$"; read line; exit 3'], stdin: 'pipe' });
  const job = Number(/pid=(\d+)/.exec(await s.proc.waitForLine(/^JOB pid=\d+$/, 15_000))![1]);
  // A finished request on a kept-alive connection, and one whose headers never end.
  const agent = new http.Agent({ keepAlive: true });
  const kept = await new Promise<net.Socket>((resolve, reject) => {
    let socket: net.Socket;
    http
      .get(`${s.base}/metrics`, { agent }, (response) => response.resume().on('end', () => resolve(socket)))
      .on('socket', (assigned) => (socket = assigned))
      .on('error', reject);
  });
  const port = Number(new URL(s.base).port);
  const partial = net.connect(port, '127.0.0.1', () => partial.write('GET /metrics HTTP/1.1\r\nHost: x\r\n'));
  const closed = [kept, partial].map((socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())));

  // run's sockets (its ZooKeeper connection, its listener) are TCP; none of them is in the command.
  expect(tcpSocketsOf(s.proc.pid).size).toBeGreaterThanOrEqual(2);
  expect(tcpSocketsOf(job)).toEqual(new Set());

  s.proc.child.stdin!.write('done\n');
  // Well inside the 60 s an unfinished request may hold a server that only stops listening.
  expect(await s.proc.waitForExit(30_000)).toEqual({ code: 3, signal: null });
  expect(await settleWithin(Promise.all(closed), 5000)).toBeDefined();
  agent.destroy();
  partial.destroy();
  expect(await refused(s.base)).toBe(true);
});

test('a --metrics port already taken is bad usage (exit 2), found before anything is created in ZooKeeper', async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = taken.address() as net.AddressInfo;
    const path = uniquePath();
    const result = await runCli(['run', path, '--connect', zk.connectString, '--metrics', `127.0.0.1:${port}`, '--', 'true']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--metrics 127.0.0.1:${port}: cannot listen there (EADDRINUSE)`);
    const client = await openClient(zk.connectString);
    try {
      expect(await client.exists(path.slice(0, path.lastIndexOf('/')))).toBeUndefined();
    } finally {
      client.close();
    }
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});

test('prom-client is loaded by run --metrics only: not by run without it, nor by importing zk-election', async () => {
  const loaded = async (args: string[]): Promise<string[]> => {
    const { stderr } = await promisify(execFile)(process.execPath, ['--require', `${root}spec/support/loaded-packages.cjs`, ...args], { timeout: 30_000 }).catch((error: { stderr: string }) => error);
    return JSON.parse(/^LOADED-PACKAGES (.*)$/m.exec(stderr)![1]!) as string[];
  };
  // Against a closed port: run gets as far as connecting, then exits 3.
  const unreachable = ['run', '/x', '--connect', `127.0.0.1:${await closedPort()}`, '--timeout', '500', '--', 'true'];
  const withMetrics = await loaded([CLI, ...unreachable.slice(0, -2), '--metrics', '127.0.0.1:0', '--', 'true']);
  // prom-client is CommonJS, so the check sees it when it is loaded.
  expect(withMetrics).toContain('prom-client');
  expect(await loaded([CLI, ...unreachable])).not.toContain('prom-client');
  const bundle = `${root}dist/bundle/index.js`;
  const library = await loaded(['--input-type=module', '-e', `await import(${JSON.stringify(bundle)}); await import(${JSON.stringify(`${root}dist/bundle/testing/index.js`)})`]);
  expect(library).not.toContain('prom-client');
});

/** Inodes of the TCP sockets (v4 and v6) that process `pid` holds open. */
function tcpSocketsOf(pid: number): Set<string> {
  const tcp = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const inode = row.trim().split(/\s+/)[9];
      if (inode && inode !== '0') tcp.add(inode);
    }
  }
  const held = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode && tcp.has(inode)) held.add(inode);
    } catch {
      // Closed between the listing and the read.
    }
  }
  return held;
}
