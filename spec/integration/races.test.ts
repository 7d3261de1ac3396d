/**
 * The core's races against a real standalone server (their every-await-point enumeration is in
 * spec/unit/interleavings.test.ts): close and abort right after start, a create whose reply is
 * lost, a node with our marker that is not ours, a deleted leader node, and an error that closes
 * an election after it started.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Election, electLeader, listParticipants, Perms, Session, type Leadership } from 'zk-election';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateMode, ensurePath, openClient } from '../support/clients.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { onceEvent, settleWithin, waitFor } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  // Last registered, first undone: an election closes before the proxy it talks through.
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
});

const ROUNDS = 100;

async function operator(): Promise<Awaited<ReturnType<typeof openClient>>> {
  const client = await openClient(zk.connectString);
  cleanup.push(async () => client.close());
  return client;
}

/** Nodes under `path` owned by `sessionId`. */
async function nodesOf(client: Awaited<ReturnType<typeof openClient>>, path: string, sessionId: string): Promise<string[]> {
  const children = await client.getChildren(path).catch(() => [] as string[]);
  const owned: string[] = [];
  for (const child of children) {
    const stat = await client.exists(`${path}/${child}`);
    if (stat?.ephemeralOwner === sessionId) owned.push(child);
  }
  return owned;
}

/** The create reply the proxy drops: it must come within 10 s. */
async function dropped(lost: Promise<{ requestedPath: string }>): Promise<{ requestedPath: string }> {
  const result = await settleWithin(lost, 10_000);
  if (!result) throw new Error('the proxy saw no create reply to drop within 10 s');
  return result;
}

async function sharedSession(): Promise<Session> {
  const session = await Session.connect({ connect: zk.connectString });
  cleanup.push(() => session.close());
  return session;
}

async function standingLeader(path: string): Promise<Leadership> {
  const leadership = await electLeader(path, { connect: zk.connectString, id: 'standing', timeout: 10_000 });
  cleanup.push(() => leadership.resign());
  return leadership;
}

/** After all rounds, a newcomer on its own session must be elected: no orphan sits lowest in the queue. */
async function newcomerElected(path: string): Promise<number> {
  const started = performance.now();
  const leadership = await electLeader(path, { connect: zk.connectString, id: 'newcomer', timeout: 10_000 });
  const ms = performance.now() - started;
  await leadership.resign();
  return ms;
}

describe.each([
  ['alone', false],
  ['behind a standing leader', true],
])('%s', (_name, behind) => {
  test(`start() then close() after 0-4 ms, ${ROUNDS} times on a shared Session: no node left after each close`, async () => {
    const path = uniquePath();
    const ops = await operator();
    const leader = behind ? await standingLeader(path) : undefined;
    const session = await sharedSession();
    const left: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const election = new Election(path, { connect: session, id: `r${round}` });
      const starting = election.start().catch(() => undefined);
      await sleep(round % 5);
      await election.close();
      await starting;
      expect(election.state).toBe('closed');
      left.push(...(await nodesOf(ops, path, session.sessionId)));
    }
    expect(left).toEqual([]);
    await leader?.resign();
    const ms = await newcomerElected(path);
    process.stderr.write(`races: start/close x${ROUNDS} ${_name}: 0 nodes left; newcomer elected after ${ms.toFixed(1)} ms\n`);
  });

  test(`electLeader aborted after 0-4 ms, ${ROUNDS} times on a shared Session: no node left after each rejection`, async () => {
    const path = uniquePath();
    const ops = await operator();
    const leader = behind ? await standingLeader(path) : undefined;
    const session = await sharedSession();
    const left: string[] = [];
    let elected = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const abort = new AbortController();
      const attempt = electLeader(path, { connect: session, id: `a${round}`, signal: abort.signal });
      await sleep(round % 5);
      abort.abort();
      // Alone it may have been elected before the abort: then it holds a leadership to give back.
      const outcome = await attempt.then((leadership) => leadership, (error: unknown) => error as { code?: string });
      if ('resign' in outcome) {
        elected += 1;
        await outcome.resign();
      } else {
        expect(outcome.code).toBe('ABORTED');
      }
      left.push(...(await nodesOf(ops, path, session.sessionId)));
    }
    expect(left).toEqual([]);
    if (behind) expect(elected).toBe(0);
    await leader?.resign();
    const ms = await newcomerElected(path);
    process.stderr.write(`races: electLeader abort x${ROUNDS} ${_name}: 0 nodes left (${elected} elected before the abort); newcomer elected after ${ms.toFixed(1)} ms\n`);
  });
});

test('a create whose reply is lost: the node the server made is found by its marker and adopted, exactly one node', async () => {
  const path = uniquePath();
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: zk.ensemble.servers[0]!.clientPort });
  cleanup.push(() => proxy.close());
  // The parent first: the create whose reply goes missing must be the candidate's own.
  const ops = await operator();
  await ensurePath(ops, path);
  const lost = proxy.loseCreateReply();
  const election = new Election(path, { connect: proxy.address, id: 'ghost', sessionTimeout: 10_000 });
  cleanup.push(() => election.close());
  await election.start();
  const { requestedPath } = await dropped(lost);
  const children = await ops.getChildren(path);
  expect(children).toHaveLength(1);
  expect(`${path}/${children[0]}`).toBe(election.node);
  expect(election.node!.startsWith(requestedPath)).toBe(true);
  expect(election.state).toBe('leading');
});

test('a node with our marker owned by another session is left alone; we create our own', async () => {
  const path = uniquePath();
  const proxy = await startFaultProxy({ host: '127.0.0.1', port: zk.ensemble.servers[0]!.clientPort });
  cleanup.push(() => proxy.close());
  const ops = await operator();
  await ensurePath(ops, path);
  const lost = proxy.loseCreateReply({ thenReject: true });
  const election = new Election(path, { connect: proxy.address, id: 'owned', sessionTimeout: 10_000 });
  cleanup.push(() => election.close());
  const starting = election.start();
  const { requestedPath } = await dropped(lost);
  // While the client cannot reconnect: our real node goes, an impostor with our marker comes.
  const [ours] = await ops.getChildren(path);
  await ops.delete(`${path}/${ours!}`);
  const impostor = await ops.create(requestedPath, Buffer.from('{"id":"impostor"}'), CreateMode.EPHEMERAL_SEQUENTIAL);
  proxy.restore();
  await starting;
  expect(election.node).not.toBe(impostor);
  expect(election.state).toBe('waiting');
  const children = (await ops.getChildren(path)).map((c) => `${path}/${c}`).sort();
  expect(children).toEqual([impostor, election.node!].sort());
  expect((await ops.exists(impostor))?.ephemeralOwner).toBe(ops.sessionId);
  expect((await ops.exists(election.node!))?.ephemeralOwner).toBe(election.session!.sessionId);
  await ops.delete(impostor);
  await election.waitForLeadership(AbortSignal.timeout(10_000));
});

test("a deleted leader node ends the term through the leader's own watch; the successor's token is higher", async () => {
  const path = uniquePath();
  const ops = await operator();
  const figures: Array<{ toLost: number; toElected: number }> = [];
  let overlapping = 0;
  const leader = new Election(path, { connect: zk.connectString, id: 'leader' });
  const successor = new Election(path, { connect: zk.connectString, id: 'successor' });
  cleanup.push(() => leader.close());
  cleanup.push(() => successor.close());
  await leader.start();
  await successor.start();
  for (let trial = 0; trial < 10; trial += 1) {
    const [holder, next] = leader.isLeader ? [leader, successor] : [successor, leader];
    const term = holder.leadership!;
    let lostAt = 0;
    let electedAt = 0;
    let validWhenSuccessorElected: boolean | undefined;
    holder.once('lost', () => (lostAt = performance.now()));
    // Read at the event itself: by the time a promise of it resolves, the term may have ended since.
    next.once('elected', () => {
      electedAt = performance.now();
      validWhenSuccessorElected = term.isValid();
    });
    const elected = onceEvent(next, 'elected', 10_000);
    await waitFor(() => next.state === 'waiting', { timeoutMs: 10_000, message: 'the successor to wait' });
    const deletedAt = performance.now();
    await ops.delete(term.node);
    await elected;
    // Both learn of the deletion from the same change, each on its own session: the old leader's
    // term ends with its watch, the successor (first in line) leads on its notification. Which of
    // the two is processed first is not ordered, so the fencing token decides between them.
    await waitFor(() => lostAt > 0, { timeoutMs: 10_000, message: 'the old leader to learn of the deletion' });
    expect((term.signal.reason as { reason: string }).reason).toBe('node-deleted');
    expect(next.leadership!.token).toBeGreaterThan(term.token);
    if (validWhenSuccessorElected) overlapping += 1;
    figures.push({ toLost: lostAt - deletedAt, toElected: electedAt - deletedAt });
    // The old leader requeues behind the new one.
    await waitFor(() => holder.state === 'waiting', { timeoutMs: 10_000, message: 'the old leader to requeue' });
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stderr.write(
    `races: leader node deleted x10: old leader lost after ${median(figures.map((f) => f.toLost)).toFixed(2)} ms (median, max ${Math.max(...figures.map((f) => f.toLost)).toFixed(2)}), ` +
      `successor elected after ${median(figures.map((f) => f.toElected)).toFixed(2)} ms (median) from the delete reply; ` +
      `old term still valid at the successor's election in ${overlapping} of 10\n`,
  );
});

test('an error that closes the election after it started is what electLeader rejects with, not a bare CLOSED', async () => {
  const path = uniquePath();
  const ops = await operator();
  await ops.addAuth('digest', 'admin:secret');
  const holder = await electLeader(path, { connect: zk.connectString, id: 'holder', timeout: 10_000 });
  cleanup.push(() => holder.resign());
  const waiting = electLeader(path, { connect: zk.connectString, id: 'waiter', timeout: 20_000 });
  await waitFor(async () => (await ops.getChildren(path)).length === 2, { timeoutMs: 10_000, message: 'the waiter to join' });
  // From now on only admin may create under the path; then the waiter's node goes, and its rejoin is refused.
  await ops.setAcl(path, [{ perms: Perms.ALL, scheme: 'digest', auth: `admin:${createHash('sha1').update('admin:secret').digest('base64')}` }, { perms: Perms.READ, scheme: 'world', auth: 'anyone' }]);
  const waiter = (await listParticipants(path, { connect: zk.connectString })).find((p) => p.id === 'waiter');
  await ops.delete(waiter!.node);
  await expect(waiting).rejects.toMatchObject({ code: 'NO_AUTH' });
});
