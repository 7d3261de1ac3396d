import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TimeoutError } from 'zk-election';
import { findZooKeeperClasspath, ServerTimeoutError, startZooKeeper, TestingError, ZooKeeperNotFoundError, type LocalServer } from 'zk-election/testing';
import { startEnsembleProxies, startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { isAlive, killAllTracked, onceEvent, spawnTracked, waitFor } from '../support/processes.js';
import { fourLetter, uniquePath, useZooKeeper } from '../support/zookeeper.js';

/** The test bed itself, against real servers: what every other integration test stands on. */

const SHORT_MS = 500;

function pidsOf(servers: readonly LocalServer[]): number[] {
  return servers.map((server) => {
    if (server.pid === undefined) throw new Error(`server ${server.id} has no pid`);
    return server.pid;
  });
}

async function modes(servers: readonly LocalServer[]): Promise<Array<string | undefined>> {
  return Promise.all(servers.map((server) => server.mode()));
}

describe('findZooKeeperClasspath', () => {
  let emptyDir: string;
  beforeAll(() => {
    emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-empty-'));
  });
  afterAll(() => fs.rmSync(emptyDir, { recursive: true, force: true }));

  test('finds the installed server jar', () => {
    expect(findZooKeeperClasspath()).toMatch(/zookeeper[^/]*\.jar/);
  });

  test('throws ZooKeeperNotFoundError naming where it looked when there is no jar', () => {
    const env = { PATH: process.env.PATH, ZOOKEEPER_HOME: emptyDir };
    const error = catchError(() => findZooKeeperClasspath(env, [path.join(emptyDir, 'java')]));
    expect(error).toBeInstanceOf(ZooKeeperNotFoundError);
    expect(error).toMatchObject({ code: 'ZOOKEEPER_NOT_FOUND' });
    expect((error as Error).message).toContain(emptyDir);
    expect((error as Error).message).toContain('apt-get install zookeeper');
  });

  test('throws ZooKeeperNotFoundError when java is not on PATH', () => {
    const error = catchError(() => findZooKeeperClasspath({ PATH: emptyDir }));
    expect(error).toBeInstanceOf(ZooKeeperNotFoundError);
    expect(error).toMatchObject({ code: 'ZOOKEEPER_NOT_FOUND' });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('a standalone server', () => {
  const zk = useZooKeeper({ servers: 1 });

  test('answers ruok with imok and srvr with Mode: standalone', async () => {
    expect(await fourLetter(zk.connectString, 'ruok')).toBe('imok');
    expect(await fourLetter(zk.connectString, 'srvr')).toMatch(/^Mode: standalone$/m);
    const [server] = zk.ensemble.servers;
    expect(await server?.mode()).toBe('standalone');
    expect(await zk.ensemble.leader()).toBe(server);
  });

  test('uniquePath gives every call its own subtree', () => {
    const a = uniquePath();
    expect(a).toMatch(/^\/t-[0-9a-f]+\/election$/);
    expect(uniquePath('lock')).toMatch(/\/lock$/);
    expect(uniquePath()).not.toBe(a);
  });

  describe('behind a fault proxy', () => {
    let proxy: FaultProxy;
    beforeAll(async () => {
      proxy = await startFaultProxy({ host: '127.0.0.1', port: zk.ensemble.servers[0]?.clientPort ?? 0 });
    });
    afterAll(() => proxy.close());

    test('forwards a four-letter word', async () => {
      expect(await fourLetter(proxy.address, 'ruok')).toBe('imok');
      expect(proxy.bytesForwarded).toBeGreaterThan(0);
    });

    test('cut() closes a live connection', async () => {
      const socket = await openThrough(proxy);
      await waitFor(() => proxy.connections === 1, { timeoutMs: 5000, message: 'the proxy to count the connection' });
      const closed = onceEvent(socket, 'close', 5000);
      proxy.cut();
      await closed;
      expect(proxy.connections).toBe(0);
    });

    test('blackhole() makes a request hang; restore() makes new requests work', async () => {
      proxy.blackhole();
      await expect(fourLetter(proxy.address, 'ruok', SHORT_MS)).rejects.toBeInstanceOf(ServerTimeoutError);
      proxy.restore();
      expect(await fourLetter(proxy.address, 'ruok')).toBe('imok');
      await waitFor(() => proxy.connections === 0, { timeoutMs: 5000, message: 'the blackholed connection to be torn down' });
    });

    test('reject() closes new connections; restore() accepts them again', async () => {
      proxy.reject();
      const answer = await fourLetter(proxy.address, 'ruok').catch((error: unknown) => error);
      expect(answer).not.toBe('imok');
      // Refused at once, not held open like a black hole (which would end in a timeout).
      expect(answer).not.toBeInstanceOf(ServerTimeoutError);
      proxy.restore();
      expect(await fourLetter(proxy.address, 'ruok')).toBe('imok');
    });
  });
});

function openThrough(proxy: FaultProxy): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port: proxy.port });
  return onceEvent(socket, 'connect', 5000).then(() => socket);
}

test('stop() through asyncDispose kills every JVM and removes baseDir', async () => {
  let pids: number[];
  let baseDir: string;
  {
    await using ensemble = await startZooKeeper();
    pids = pidsOf(ensemble.servers);
    baseDir = ensemble.baseDir;
    expect(fs.existsSync(baseDir)).toBe(true);
  }
  expect(pids.filter(isAlive)).toEqual([]);
  expect(fs.existsSync(baseDir)).toBe(false);
});

/** Pids of processes whose command line mentions `text` (Linux /proc). */
function pidsMentioning(text: string): number[] {
  return fs.readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      return fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text) ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

test('a start that times out kills what it started and shows the server log', async () => {
  const error = await startZooKeeper({ startTimeoutMs: 1 }).then(
    () => {
      throw new Error('expected a timeout');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ServerTimeoutError);
  const logFile = /(\S+\/server-1\/zookeeper\.log)/.exec((error as Error).message)?.[1];
  if (!logFile) throw new Error(`no log file named in: ${(error as Error).message}`);
  const baseDir = path.dirname(path.dirname(logFile));
  expect(pidsMentioning(baseDir)).toEqual([]);
  expect(fs.existsSync(baseDir)).toBe(false);
});

test('an aborted start kills the servers it launched and rejects ABORTED', async () => {
  const baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-election-abort-test-'));
  try {
    const controller = new AbortController();
    const starting = startZooKeeper({ servers: 3, baseDir, signal: controller.signal });
    // Abort once the JVMs are up but (most likely) before they have formed a quorum.
    await waitFor(() => pidsMentioning(baseDir).length === 3, { timeoutMs: 20_000, message: 'three JVMs to be launched' });
    controller.abort();
    await expect(starting).rejects.toMatchObject({ code: 'ABORTED' });
    expect(pidsMentioning(baseDir)).toEqual([]);
  } finally {
    fs.rmSync(baseDir, { recursive: true, force: true });
  }
});

describe('a three-server ensemble', () => {
  const zk = useZooKeeper({ servers: 3 });

  test('has exactly one leader and two followers', async () => {
    expect(zk.connectString.split(',')).toHaveLength(3);
    expect((await modes(zk.ensemble.servers)).sort()).toEqual(['follower', 'follower', 'leader']);
  });

  test('serves through a proxy per server', async () => {
    const proxies = await startEnsembleProxies(zk.ensemble);
    try {
      expect(proxies.connectString.split(',')).toHaveLength(3);
      const answers = await Promise.all(proxies.proxies.map((proxy) => fourLetter(proxy.address, 'ruok')));
      expect(answers).toEqual(['imok', 'imok', 'imok']);
    } finally {
      await proxies.close();
    }
  });

  test('killing the leader elects a new one among the other two; the old one rejoins as a follower', async () => {
    const oldLeader = await zk.ensemble.leader();
    if (!oldLeader) throw new Error('no leader');
    await oldLeader.kill();
    expect(oldLeader.running).toBe(false);
    await zk.ensemble.waitForQuorum(20_000);
    const newLeader = await zk.ensemble.leader();
    expect(newLeader).toBeDefined();
    expect(newLeader?.id).not.toBe(oldLeader.id);

    await oldLeader.start();
    expect(await oldLeader.mode()).toBe('follower');
  });

  test('a paused server stops answering and serves again once resumed', async () => {
    // The last test restarted a server: let the ensemble settle before picking a follower.
    await zk.ensemble.waitForQuorum(20_000);
    const serverModes = await modes(zk.ensemble.servers);
    const follower = zk.ensemble.servers.find((_, i) => serverModes[i] === 'follower');
    if (!follower) throw new Error(`no follower among ${JSON.stringify(serverModes)}`);
    follower.pause();
    try {
      await expect(follower.fourLetter('ruok', SHORT_MS)).rejects.toBeInstanceOf(ServerTimeoutError);
    } finally {
      follower.resume();
    }
    await zk.ensemble.waitForQuorum(20_000);
    // On a loaded machine a JVM just resumed may take a while over its first answer: wait for it.
    await waitFor(() => follower.fourLetter('ruok').then((answer) => answer === 'imok', () => false), {
      timeoutMs: 20_000,
      message: `server ${follower.id} to answer ruok with imok after SIGCONT`,
    });
  });

  test('stop() leaves no JVM alive, removes baseDir and may be called again', async () => {
    const { ensemble } = zk;
    const pids = pidsOf(ensemble.servers);
    await ensemble.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(ensemble.servers.every((server) => !server.running && server.pid === undefined)).toBe(true);
    expect(fs.existsSync(ensemble.baseDir)).toBe(false);
    await expect(ensemble.stop()).resolves.toBeUndefined();
    await expect(ensemble.servers[0]?.start()).rejects.toMatchObject({ name: 'TestingError', code: 'NOT_RUNNING' });
    await expect(ensemble.servers[0]?.start()).rejects.toBeInstanceOf(TestingError);
  });
});

describe('tracked processes', () => {
  afterAll(() => killAllTracked());

  test('waitForLine sees earlier and later lines; stop() ends the process', async () => {
    const script = "console.log('ready'); setTimeout(() => console.log('later'), 50); setInterval(() => {}, 1000);";
    const child = await spawnTracked(process.execPath, ['-e', script]);
    expect(await child.waitForLine(/later/, 5000)).toBe('later');
    expect(await child.waitForLine(/ready/, 10)).toBe('ready');
    await expect(child.waitForLine(/ready/, 100, child.lines.length)).rejects.toBeInstanceOf(TimeoutError);
    const exit = await child.stop('SIGTERM', 5000);
    expect(exit.signal).toBe('SIGTERM');
    expect(isAlive(child.pid)).toBe(false);
  });

  test('waitFor and waitForLine time out with their message', async () => {
    await expect(waitFor(() => false, { timeoutMs: 100, message: 'never true' })).rejects.toThrow(/never true/);
    const child = await spawnTracked(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await expect(child.waitForLine(/nothing/, 100)).rejects.toBeInstanceOf(TimeoutError);
    await killAllTracked();
    expect(child.exitInfo?.signal).toBe('SIGKILL');
  });
});
