/**
 * Leadership under faults, against a real standalone server: paused and signalled processes,
 * a stalled event loop, a cut or partitioned connection (through the fault proxy), nodes deleted
 * by someone else, and a path we may not write.
 */
import { fileURLToPath } from 'node:url';
import { Election, electLeader, Perms, type Leadership } from 'zk-election';
import { CreateMode, openClient } from '../support/clients.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { abortedWithin, killAllTracked, onceEvent, spawnTracked, waitFor, type TrackedProcess } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
const PARTICIPANT = fileURLToPath(new URL('../../dist/spec/support/participant.js', import.meta.url));
const SHARED_PARTICIPANT = fileURLToPath(new URL('../../dist/spec/support/shared-participant.js', import.meta.url));
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.allSettled(cleanup.splice(0).map((fn) => fn()));
  await killAllTracked();
});

const within = (ms: number): AbortSignal => AbortSignal.timeout(ms);
const lostReason = (l: Leadership): string | undefined => (l.signal.reason as { reason?: string } | undefined)?.reason;
/** The reason the term ended; fails (instead of hanging) if it does not end within 20 s. */
const whenLost = async (l: Leadership): Promise<string | undefined> => {
  await abortedWithin(l.signal, 20_000);
  return lostReason(l);
};

async function participant(config: Record<string, unknown>): Promise<TrackedProcess> {
  const child = await spawnTracked(process.execPath, [PARTICIPANT, JSON.stringify({ connect: zk.connectString, ...config })], { stdin: 'pipe' });
  await child.waitForLine(/"event":"ready"/, 10_000);
  return child;
}

async function election(path: string, id: string, options: Record<string, unknown> = {}): Promise<Election> {
  const e = new Election(path, { connect: zk.connectString, id, ...options });
  cleanup.push(() => e.close());
  await e.start();
  return e;
}

test('a leader paused past its session timeout is replaced, and learns on resume that its session expired', async () => {
  const path = uniquePath();
  const leader = await participant({ path, id: 'paused', sessionTimeout: 1200 });
  const first = JSON.parse(await leader.waitForLine(/"event":"elected"/, 10_000)) as { token: string };
  const successor = await election(path, 'successor', { sessionTimeout: 4000 });
  leader.pause();
  const next = await successor.waitForLeadership(within(20_000));
  expect(next.token).toBeGreaterThan(BigInt(first.token));
  leader.resume();
  const lost = JSON.parse(await leader.waitForLine(/"event":"lost"/, 20_000)) as { reason: string; valid: boolean };
  expect(lost).toMatchObject({ reason: 'session-expired', valid: false });
});

test('with handleSignals, SIGTERM resigns: the successor leads long before the session could expire', async () => {
  const path = uniquePath();
  const leader = await participant({ path, id: 'terminated', sessionTimeout: 20_000, handleSignals: true });
  await leader.waitForLine(/"event":"elected"/, 10_000);
  const successor = await election(path, 'successor');
  const exit = await leader.stop('SIGTERM', 10_000);
  // The hook re-raises the signal: a shell sees 128 + 15.
  expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
  // 20 s session: only a resignation can hand over within the 10 s we allow.
  await successor.waitForLeadership(within(10_000));
  // The term ended as the failure table says: closed on purpose, not an alarming expiry.
  await leader.waitForClose(10_000);
  const lost = leader.lines.map((line) => JSON.parse(line) as { event: string; reason?: string }).find((e) => e.event === 'lost');
  expect(lost?.reason).toMatch(/^(resigned|closed)$/);
});

test('after the event loop stalls past the lease, isValid() is false at once, before any event says so', async () => {
  const leadership = await electLeader(uniquePath(), { connect: zk.connectString, id: 'stalled', sessionTimeout: 800 });
  cleanup.push(() => leadership.resign());
  expect(leadership.isValid()).toBe(true);
  const stallMs = Math.ceil(leadership.expiresAt - performance.now()) + 50;
  // Blocks this thread like a long GC pause or SIGSTOP: no timer or I/O callback can run.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stallMs);
  expect(leadership.signal.aborted).toBe(false);
  expect(leadership.isValid()).toBe(false);
  expect(await whenLost(leadership)).toMatch(/^(connection-suspended|session-expired)$/);
});

describe('through a fault proxy', () => {
  let proxy: FaultProxy;
  beforeEach(async () => {
    const [host, port] = zk.connectString.split(',')[0]!.split(':');
    proxy = await startFaultProxy({ host: host!, port: Number(port) });
    cleanup.push(() => proxy.close());
  });

  test('a short cut suspends leadership and a reconnect with the same session resumes it, same token', async () => {
    const path = uniquePath();
    const e = await election(path, 'resumes', { connect: proxy.address, sessionTimeout: 4000 });
    const leadership = await e.waitForLeadership(within(10_000));
    const sessionId = e.session!.sessionId;
    const suspended = onceEvent(e, 'suspended', 10_000);
    const resumed = onceEvent(e, 'resumed', 10_000);
    proxy.cut();
    await suspended;
    await resumed;
    expect(e.session!.sessionId).toBe(sessionId);
    expect(leadership.isLeader).toBe(true);
    expect(e.leadership?.token).toBe(leadership.token);
    await leadership.verify();
  });

  test('a partition longer than the lease ends leadership with connection-suspended', async () => {
    const path = uniquePath();
    const e = await election(path, 'partitioned', { connect: proxy.address, sessionTimeout: 1500, requeue: false });
    const leadership = await e.waitForLeadership(within(10_000));
    proxy.blackhole();
    expect(await whenLost(leadership)).toBe('connection-suspended');
    expect(leadership.isValid()).toBe(false);
    proxy.restore();
  });

  test("the strict policy gives leadership up at the first disconnection", async () => {
    const path = uniquePath();
    const e = await election(path, 'strict', { connect: proxy.address, sessionTimeout: 4000, suspendedPolicy: 'strict', requeue: false });
    const leadership = await e.waitForLeadership(within(10_000));
    proxy.cut();
    expect(await whenLost(leadership)).toBe('connection-suspended');
  });
});

test('a candidate node deleted by someone else ends leadership with node-deleted; Election rejoins', async () => {
  const path = uniquePath();
  const e = await election(path, 'victim', { sessionTimeout: 1500 });
  const first = await e.waitForLeadership(within(10_000));
  const operator = await openClient(zk.connectString);
  cleanup.push(async () => operator.close());
  await operator.delete(first.node);
  expect(await whenLost(first)).toBe('node-deleted');
  const second = await e.waitForLeadership(within(10_000));
  expect(second.node).not.toBe(first.node);
  expect(second.token).toBeGreaterThan(first.token);
});

test('if the election parent is deleted under a waiting candidate, it is recreated and the candidate rejoins', async () => {
  const path = uniquePath();
  const holder = await election(path, 'holder', { requeue: false });
  await holder.waitForLeadership(within(10_000));
  const waiting = await election(path, 'waiter');
  expect(waiting.state).toBe('waiting');
  const oldNode = waiting.node!;
  const operator = await openClient(zk.connectString);
  cleanup.push(async () => operator.close());
  // An operator wipes the election like `deleteall`: every child, then the parent, again if a
  // candidate rejoined in between. The waiter's own node goes first: deleting the holder's first
  // would let the waiter lead, for a moment, with the node that is about to go.
  await operator.delete(oldNode);
  await waitFor(async () => {
    for (const child of await operator.getChildren(path).catch(() => [])) await operator.delete(`${path}/${child}`).catch(() => {});
    return operator.delete(path).then(() => true, () => false);
  }, { timeoutMs: 10_000, message: 'the election path to be wiped' });
  // The loop may also have deleted a node the waiter had rejoined with; wait for a term whose node
  // (and so the recreated parent) is really there.
  let leadership: Leadership | undefined;
  await waitFor(async () => {
    leadership = await waiting.waitForLeadership(within(10_000));
    return (await operator.exists(leadership.node)) !== undefined;
  }, { timeoutMs: 15_000, message: 'the waiter to lead with a node that exists' });
  if (!leadership) throw new Error('unreachable: waitFor resolved without a leadership');
  expect(leadership.node).not.toBe(oldNode);
  expect(leadership.node.startsWith(`${path}/`)).toBe(true);
  expect(await operator.exists(path)).toBeDefined();
});

test('a path we may not write gives NO_AUTH and leaves nothing behind', async () => {
  const parent = uniquePath('locked');
  const operator = await openClient(zk.connectString);
  cleanup.push(async () => operator.close());
  await operator.create(parent.slice(0, parent.lastIndexOf('/')), Buffer.alloc(0), CreateMode.PERSISTENT);
  await operator.create(parent, Buffer.alloc(0), CreateMode.PERSISTENT);
  await operator.setAcl(parent, [{ perms: Perms.READ, scheme: 'world', auth: 'anyone' }]);
  await expect(electLeader(`${parent}/election`, { connect: zk.connectString })).rejects.toMatchObject({ code: 'NO_AUTH' });
  expect(await operator.getChildren(parent)).toEqual([]);
});

test('with handleSignals, SIGTERM of a process that leads 20 elections on one shared session hands every one over at once', async () => {
  const paths = Array.from({ length: 20 }, (_, i) => `${uniquePath()}-${i}`);
  // Long enough that a hand-over before it can only come from the hook, not from an expiry.
  const leader = await spawnTracked(process.execPath, [SHARED_PARTICIPANT, JSON.stringify({ connect: zk.connectString, paths, sessionTimeout: 20_000 })]);
  await leader.waitForLine(/"event":"ready"/, 20_000);
  const successors = await Promise.all(paths.map((path, i) => election(path, `successor-${i}`)));
  expect(successors.every((e) => e.state === 'waiting')).toBe(true);
  const exited = leader.stop('SIGTERM', 10_000);
  await Promise.all(successors.map((e) => e.waitForLeadership(within(10_000))));
  expect((await exited).signal).toBe('SIGTERM');
});
