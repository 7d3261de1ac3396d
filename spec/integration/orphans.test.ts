/**
 * No orphaned servers: `zk-election server` and the zk-election/testing kit's servers die with the
 * process that started them, whatever kills it (here SIGKILL, which runs no exit handler), and
 * their data directory goes too. The kernel's parent-death signal kills the JVMs; the exit
 * watchdog (lib/process/watchdog.ts) removes the directory, and kills what the kernel did not.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from '../support/cli.js';
import { closedPort } from '../support/clients.js';
import { descendantsOf, isAlive, killAllTracked, spawnTracked, waitFor } from '../support/processes.js';

afterEach(killAllTracked);

const root = fileURLToPath(new URL('../../', import.meta.url));
/** How long the kernel, the watchdog and the JVMs' sockets may take to be gone. */
const GONE_WITHIN_MS = 15_000;

/** True when nothing accepts connections on the loopback port. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

/** The JVMs among the descendants of `pid`. */
function javaPids(pid: number): number[] {
  return descendantsOf(pid).filter((child) => {
    try {
      return /(^|\/)java$/.test(readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0')[0]!);
    } catch {
      return false;
    }
  });
}

async function expectAllGone(jvms: number[], ports: number[], dir: string): Promise<void> {
  await waitFor(async () => jvms.every((pid) => !isAlive(pid)) && (await Promise.all(ports.map(refused))).every(Boolean) && !existsSync(dir), {
    timeoutMs: GONE_WITHIN_MS,
    message: `JVMs ${jvms.join(', ')} to be gone, ports ${ports.join(', ')} free and ${dir} removed`,
  });
}

test('zk-election server killed with SIGKILL takes its JVM, its port and its data directory with it', async () => {
  const port = await closedPort();
  const server = await spawnTracked(process.execPath, [CLI, 'server', '--port', String(port)]);
  await server.waitForLine(/serving at/, 60_000);
  const dir = /data in (\S+);/.exec(await server.waitForLine(/data in /, 5000))![1]!;
  const jvms = javaPids(server.pid);
  expect(jvms).toHaveLength(1);
  expect(await refused(port)).toBe(false);
  await server.kill9();
  await expectAllGone(jvms, [port], dir);
}, 90_000);

test('a process using zk-election/testing killed with SIGKILL takes its 3-server ensemble and its directory with it', async () => {
  const script = `
    import { startZooKeeper } from ${JSON.stringify(`${root}dist/bundle/testing/index.js`)};
    const ensemble = await startZooKeeper({ servers: 3 });
    console.log(JSON.stringify({ dir: ensemble.baseDir, ports: ensemble.servers.map((s) => s.clientPort), pids: ensemble.servers.map((s) => s.pid) }));
    setInterval(() => {}, 1000);`;
  const host = await spawnTracked(process.execPath, ['--input-type=module', '-e', script]);
  const started = JSON.parse(await host.waitForLine(/^\{"dir"/, 90_000)) as { dir: string; ports: number[]; pids: number[] };
  expect(started.pids.every((pid) => isAlive(pid))).toBe(true);
  expect(existsSync(started.dir)).toBe(true);
  await host.kill9();
  await expectAllGone(started.pids, started.ports, started.dir);
}, 120_000);

test('the exit watchdog alone kills a registered process and removes a registered directory when its host is killed', async () => {
  // A plain child (no parent-death signal) in a session of its own: only the watchdog can end it.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'zk-election-watchdog-'));
  writeFileSync(path.join(dir, 'data'), 'x');
  const script = `
    import { spawn } from 'node:child_process';
    import { killOnExit, removeOnExit } from ${JSON.stringify(`${root}dist/lib/testing/host-exit.js`)};
    const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    child.unref();
    killOnExit(child.pid);
    removeOnExit(${JSON.stringify(dir)});
    console.log('CHILD ' + child.pid);
    setInterval(() => {}, 1000);`;
  try {
    const host = await spawnTracked(process.execPath, ['--input-type=module', '-e', script]);
    const child = Number(/CHILD (\d+)/.exec(await host.waitForLine(/^CHILD \d+$/, 15_000))![1]);
    expect(isAlive(child)).toBe(true);
    await host.kill9();
    await waitFor(() => !isAlive(child) && !existsSync(dir), { timeoutMs: GONE_WITHIN_MS, message: `sleep ${child} killed and ${dir} removed` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
