/**
 * README's walk-through, as a user runs it: three copies of the payment-scheduler example in
 * separate processes, `zk-election participants` to see the leader, Ctrl-C of the leader (hand-over
 * at once), kill -9 of the next (hand-over after its session timeout). The example is the very
 * file README shows (spec/unit/readme.test.ts checks they are equal).
 */
import { fileURLToPath } from 'node:url';
import { runCli } from '../support/cli.js';
import { CreateMode, openClient } from '../support/clients.js';
import { killAllTracked, spawnTracked, waitFor, type TrackedProcess } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
const EXAMPLE = fileURLToPath(new URL('../../dist/spec/examples/payment-scheduler.js', import.meta.url));
afterEach(() => killAllTracked());

/** A chroot of its own, so the example's fixed path /examples/payments is fresh for this test. */
async function freshChroot(): Promise<string> {
  const chroot = uniquePath('').slice(0, -1);
  const client = await openClient(zk.connectString);
  try {
    await client.create(chroot, Buffer.alloc(0), CreateMode.PERSISTENT);
  } finally {
    client.close();
  }
  return `${zk.connectString}${chroot}`;
}

async function participants(connect: string): Promise<string[][]> {
  const { code, stdout, stderr } = await runCli(['participants', '/examples/payments', '--connect', connect]);
  if (code !== 0) throw new Error(`zk-election participants exited ${code}: ${stderr}`);
  return stdout.trim().split('\n').slice(1).map((row) => row.trim().split(/\s+/));
}

const tokenOf = (line: string): bigint => BigInt(/token (\d+)/.exec(line)![1]!);

test('three schedulers: one charges; Ctrl-C hands over at once, kill -9 after the session timeout; tokens increase', async () => {
  const connect = await freshChroot();
  const start = (id: string): Promise<TrackedProcess> => spawnTracked(process.execPath, [EXAMPLE, id], { env: { ...process.env, ZK_CONNECT: connect } });
  const alice = await start('alice');
  const aliceElected = await alice.waitForLine(/alice: elected/, 20_000);
  // "campaigning" is printed before connecting: wait until each has joined, so the order is known.
  const joined = (count: number): Promise<void> =>
    waitFor(async () => (await participants(connect)).length === count, { timeoutMs: 20_000, message: `${count} schedulers to join` });
  const bob = await start('bob');
  await joined(2);
  const carol = await start('carol');
  await joined(3);
  await alice.waitForLine(/alice: charging due contracts with token \d+/, 20_000);

  const table = await participants(connect);
  expect(table.map((row) => (row[0] === '*' ? `*${row[1]}` : row[0]))).toEqual(['*alice', 'bob', 'carol']);

  // Ctrl-C: runAsLeader aborts the task, deletes the node, and the example exits cleanly.
  alice.child.kill('SIGINT');
  expect(await alice.waitForExit(10_000)).toEqual({ code: 0, signal: null });
  expect(alice.lines.slice(-2)).toEqual(['alice: no longer leader (leadership lost: closed)', 'alice: resigned and left']);
  const bobElected = await bob.waitForLine(/bob: elected/, 10_000);
  expect(tokenOf(bobElected)).toBeGreaterThan(tokenOf(aliceElected));
  expect(carol.lines.some((line) => line.includes('elected'))).toBe(false);

  // kill -9: nobody resigns; the node goes when the server expires bob's session (default 10 s).
  await bob.kill9();
  const carolElected = await carol.waitForLine(/carol: elected/, 30_000);
  expect(tokenOf(carolElected)).toBeGreaterThan(tokenOf(bobElected));
  expect((await participants(connect)).map((row) => row[1])).toEqual(['carol']);

  carol.child.kill('SIGTERM');
  expect(await carol.waitForExit(10_000)).toEqual({ code: 0, signal: null });
  expect(await participants(connect)).toEqual([]);
}, 90_000);
