/**
 * The recipe against a real standalone ZooKeeper: leadership order, handover, fencing tokens,
 * the herd-free watch layout as the server itself reports it, and typed errors.
 */
import { Election, electLeader, getLeader, listParticipants, runAsLeader, Session } from 'zk-election';
import { expireSession } from 'zk-election/testing';
import { closedPort, CreateMode, openClient } from '../support/clients.js';
import { countingTransport, newCounts, type RequestCounts } from '../support/counting-transport.js';
import { abortedWithin, waitFor } from '../support/processes.js';
import { useZooKeeper, uniquePath } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.allSettled(cleanup.splice(0).map((fn) => fn()));
});

async function candidates(path: string, count: number, prefix = 'p'): Promise<Election[]> {
  const list: Election[] = [];
  for (let i = 0; i < count; i += 1) {
    const election = new Election(path, { connect: zk.connectString, id: `${prefix}${i}`, requeue: false });
    cleanup.push(() => election.close());
    await election.start();
    list.push(election);
  }
  return list;
}

const within = (ms: number): AbortSignal => AbortSignal.timeout(ms);

test('one participant leads, with a token, a live signal and a valid lease', async () => {
  const path = uniquePath();
  const leadership = await electLeader(path, { connect: zk.connectString, id: 'solo' });
  cleanup.push(() => leadership.resign());
  expect(leadership.isLeader).toBe(true);
  expect(leadership.isValid()).toBe(true);
  expect(leadership.signal.aborted).toBe(false);
  expect(leadership.token).toBeGreaterThan(0n);
  expect(leadership.node.startsWith(`${path}/c_`)).toBe(true);
  const [only, ...rest] = await listParticipants(path, { connect: zk.connectString });
  expect(rest).toEqual([]);
  expect(only).toMatchObject({ id: 'solo', leader: true, node: leadership.node, token: leadership.token, pid: process.pid });
});

test('five participants in five sessions: exactly one leader at a time, in join order, tokens increasing', async () => {
  const path = uniquePath();
  const elections = await candidates(path, 5);
  const listed = await listParticipants(path, { connect: zk.connectString });
  expect(listed.map((p) => p.id)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
  expect(listed.map((p) => p.leader)).toEqual([true, false, false, false, false]);
  expect(new Set(listed.map((p) => p.sessionId)).size).toBe(5);

  let previous = 0n;
  for (const [index, election] of elections.entries()) {
    const leadership = await election.waitForLeadership(within(10_000));
    expect(elections.filter((e) => e.isLeader).map((e) => e.id)).toEqual([`p${index}`]);
    expect(leadership.token).toBeGreaterThan(previous);
    previous = leadership.token;
    await leadership.resign();
    await abortedWithin(leadership.signal, 1000);
    expect((leadership.signal.reason as { reason: string }).reason).toBe('resigned');
  }
  expect(await listParticipants(path, { connect: zk.connectString })).toEqual([]);
});

test('20 waiting candidates: each node watched by its owner and its successor only, the parent by none; a resignation wakes one', async () => {
  const path = uniquePath();
  const counted: Array<{ session: Session; counts: RequestCounts }> = [];
  const elections: Election[] = [];
  for (let i = 0; i < 21; i += 1) {
    const counts = newCounts();
    const session = await Session.connect({ connect: zk.connectString, transport: countingTransport(counts) });
    cleanup.push(() => session.close());
    counted.push({ session, counts });
    const election = new Election(path, { connect: session, id: `w${i}`, requeue: false });
    cleanup.push(() => election.close());
    await election.start();
    elections.push(election);
  }
  const leader = await elections[0]!.waitForLeadership(within(10_000));
  const listed = await listParticipants(path, { connect: zk.connectString });
  expect(listed.map((p) => p.id)).toEqual(elections.map((e) => e.id));

  // Two watches per candidate: its own node (deletion, step-down requests) and its predecessor.
  const watchers = parseWatchesByPath(await zk.ensemble.servers[0]!.fourLetter('wchp'));
  expect(watchers.get(path)).toBeUndefined();
  for (const [index, participant] of listed.entries()) {
    const successor = listed[index + 1];
    const expected = [participant.sessionId, ...(successor ? [successor.sessionId] : [])].map((id) => `0x${id}`).sort();
    expect({ node: index, sessions: [...(watchers.get(participant.node) ?? [])].sort() }).toEqual({ node: index, sessions: expected });
  }

  const events = (i: number): number => counted[i]!.counts.byOperation.watchEvent ?? 0;
  const before = counted.map((c, i) => ({ requests: c.counts.total, events: events(i) }));
  const listings = (i: number): number => counted[i]!.counts.byOperation.getChildren ?? 0;
  const listedBefore = listings(2);
  await leader.resign();
  await elections[1]!.waitForLeadership(within(10_000));
  // The new leader announces itself to its successor (a write to its own node): w2 lists once.
  await waitFor(() => listings(2) > listedBefore, { timeoutMs: 10_000, message: "w2 to list after w1's announcement" });
  // A round trip on every session but the resigned one: any notification the deletion or the
  // announcement caused reaches its session before the reply to a later request, so after this
  // nobody can still be waking up. Then exactly two sessions were notified: the successor's, which
  // leads on that notification without a listing (the positive control, which shows the counting
  // sees a wake-up), and its own successor's, by the announcement; nobody else received an event
  // or sent more than that one request.
  await Promise.all(counted.slice(1).map((c) => c.session.retrying('sync', (handle) => handle.sync('/'))));
  const woken = elections.slice(1).filter((_e, i) => events(i + 1) > before[i + 1]!.events);
  const worked = elections.slice(2).filter((_e, i) => counted[i + 2]!.counts.total - before[i + 2]!.requests > 1);
  expect({ woken: woken.map((e) => e.id), worked: worked.map((e) => e.id) }).toEqual({ woken: ['w1', 'w2'], worked: ['w2'] });
  // w2 listed and re-armed its watch on w1: two requests and the sync, nothing more.
  expect(counted[2]!.counts.total - before[2]!.requests).toBe(3);
  expect(listings(2) - listedBefore).toBe(1);
});

test('resign hands over to the next candidate and resign twice is harmless', async () => {
  const path = uniquePath();
  const [first, second] = await candidates(path, 2);
  const leadership = await first!.waitForLeadership(within(10_000));
  await Promise.all([leadership.resign(), leadership.resign()]);
  await leadership.resign();
  const next = await second!.waitForLeadership(within(10_000));
  expect(next.token).toBeGreaterThan(leadership.token);
  // resign() resolves once the node is gone (the successor may proceed); electLeader's election
  // then closes the session it opened.
  await waitFor(() => first!.state === 'closed', { timeoutMs: 10_000, message: 'the resigned election to close' });
});

test('getLeader and Election.leader() give the first of listParticipants; nobody leads an absent path', async () => {
  const path = uniquePath();
  expect(await getLeader(path, { connect: zk.connectString })).toBeUndefined();
  const [first, second] = await candidates(path, 3, 'l');
  const listed = await listParticipants(path, { connect: zk.connectString });
  const leader = await getLeader(path, { connect: zk.connectString });
  expect(leader).toEqual(listed[0]);
  expect(leader).toMatchObject({ id: 'l0', leader: true });
  expect(await second!.leader()).toEqual(listed[0]);
  await first!.close();
  expect(await second!.leader()).toMatchObject({ id: 'l1', node: listed[1]!.node, leader: true });
});

test('children that are not candidate nodes are ignored, never fatal', async () => {
  const path = uniquePath();
  const client = await openClient(zk.connectString);
  cleanup.push(async () => client.close());
  await (await candidates(path, 1))[0]!.waitForLeadership(within(10_000));
  await client.create(`${path}/config`, Buffer.from('{}'), CreateMode.PERSISTENT);
  await client.create(`${path}/lock-`, Buffer.alloc(0), CreateMode.EPHEMERAL_SEQUENTIAL);
  const [, follower] = await candidates(path, 2, 'late');
  const listed = await listParticipants(path, { connect: zk.connectString });
  expect(listed.map((p) => p.id)).toEqual(['p0', 'late0', 'late1']);
  expect(follower!.state).toBe('waiting');
});

test('a forced session expiry ends leadership with session-expired; Election requeues on a fresh session', async () => {
  const path = uniquePath();
  const election = new Election(path, { connect: zk.connectString, id: 'requeue', sessionTimeout: 2000 });
  cleanup.push(() => election.close());
  await election.start();
  const first = await election.waitForLeadership(within(10_000));
  const oldSession = election.session!.sessionId;
  await expireSession(election.session!);
  await abortedWithin(first.signal, 15_000);
  expect((first.signal.reason as { reason: string }).reason).toBe('session-expired');
  expect(first.isValid()).toBe(false);
  const second = await election.waitForLeadership(within(20_000));
  expect(second.term).toBe(first.term + 1);
  expect(second.token).toBeGreaterThan(first.token);
  expect(election.session!.sessionId).not.toBe(oldSession);
});

test('elections on one shared Session all rejoin on one fresh session after it expires', async () => {
  const path = uniquePath();
  const session = await Session.connect({ connect: zk.connectString, sessionTimeout: 2000 });
  cleanup.push(() => session.close());
  const elections = [0, 1, 2].map((i) => new Election(path, { connect: session, id: `shared${i}`, sessionTimeout: 2000 }));
  for (const e of elections) {
    cleanup.push(() => e.close());
    await e.start();
  }
  const first = await elections[0]!.waitForLeadership(within(10_000));
  const oldSession = session.sessionId;
  await expireSession(session);
  await abortedWithin(first.signal, 15_000);
  await waitFor(async () => {
    const listed = await listParticipants(path, { connect: zk.connectString });
    return listed.length === 3 && listed.every((p) => p.sessionId !== oldSession);
  }, { timeoutMs: 20_000, message: 'all three elections to rejoin' });
  const listed = await listParticipants(path, { connect: zk.connectString });
  expect(new Set(listed.map((p) => p.sessionId)).size).toBe(1);
  expect(listed[0]!.sessionId).toBe(session.sessionId);
  expect(elections.filter((e) => e.isLeader)).toHaveLength(1);
});

test("a shared Session's reopening belongs to the session: one caller's abort does not fail the others", async () => {
  const session = await Session.connect({ connect: zk.connectString, sessionTimeout: 2000 });
  cleanup.push(() => session.close());
  await expireSession(session);
  expect(session.state).toBe('expired');
  const impatient = new AbortController();
  const first = session.connected(impatient.signal);
  const second = session.connected();
  const third = session.connected();
  impatient.abort(new Error('caller gave up'));
  await expect(first).rejects.toMatchObject({ code: 'ABORTED' });
  const { handle, epoch } = await second;
  expect((await third).epoch).toBe(epoch);
  expect(handle.connected).toBe(true);
  expect(session.state).toBe('connected');
  expect(session.isCurrent(epoch)).toBe(true);
});

test('abort and timeout while waiting reject with ABORTED / TIMEOUT and leave no node behind', async () => {
  const path = uniquePath();
  const [holder] = await candidates(path, 1);
  await holder!.waitForLeadership(within(10_000));
  const controller = new AbortController();
  const aborted = electLeader(path, { connect: zk.connectString, id: 'aborts', signal: controller.signal });
  await waitForParticipant(path, 'aborts');
  controller.abort();
  await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
  await expect(electLeader(path, { connect: zk.connectString, id: 'times-out', timeout: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  expect((await listParticipants(path, { connect: zk.connectString })).map((p) => p.id)).toEqual(['p0']);
});

test('bad input gives typed errors: invalid path, unreachable ensemble, oversized data', async () => {
  await expect(electLeader('relative/path', { connect: zk.connectString })).rejects.toMatchObject({ code: 'INVALID_PATH' });
  await expect(electLeader('/a/../b', { connect: zk.connectString })).rejects.toMatchObject({ code: 'INVALID_PATH' });
  const port = await closedPort();
  await expect(electLeader(uniquePath(), { connect: `127.0.0.1:${port}`, connectTimeout: 800 })).rejects.toMatchObject({ code: 'UNREACHABLE' });
  await expect(electLeader(uniquePath(), { connect: zk.connectString, data: 'x'.repeat(2 * 1024 * 1024) })).rejects.toMatchObject({ code: 'DATA_TOO_LARGE' });
  await expect(electLeader(uniquePath(), { connect: 'host:notaport' })).rejects.toMatchObject({ code: 'INVALID_CONNECT_STRING' });
});

test('a sessionTimeout outside the server range is refused, naming the negotiated value', async () => {
  const error = await electLeader(uniquePath(), { connect: zk.connectString, sessionTimeout: 600_000 }).catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'SESSION_TIMEOUT_OUT_OF_RANGE', requested: 600_000 });
  expect((error as { negotiated: number }).negotiated).toBeLessThan(600_000);
});

async function waitForParticipant(path: string, id: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if ((await listParticipants(path, { connect: zk.connectString })).some((p) => p.id === id)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`participant ${id} never appeared`);
}

/** `wchp` output: a path line, then one indented session id per watcher. */
function parseWatchesByPath(output: string): Map<string, string[]> {
  const byPath = new Map<string, string[]>();
  let current: string | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith('/')) {
      current = line.trim();
      byPath.set(current, []);
    } else if (current && line.trim().startsWith('0x')) {
      byPath.get(current)!.push(line.trim());
    }
  }
  return byPath;
}

test('runAsLeader returns the task result after resigning, and rethrows a task error after resigning', async () => {
  const path = uniquePath();
  const options = { connect: zk.connectString, id: 'task' };
  // listParticipants takes no `id`: unknown options are refused by name (issue 18).
  const read = { connect: zk.connectString };
  const value = await runAsLeader(path, options, async (leadership) => {
    expect(leadership.isValid()).toBe(true);
    expect((await listParticipants(path, read)).map((p) => p.id)).toEqual(['task']);
    return leadership.token;
  });
  expect(typeof value).toBe('bigint');
  expect(await listParticipants(path, read)).toEqual([]);
  const failure = new Error('charge failed');
  await expect(runAsLeader(path, options, () => {
    throw failure;
  })).rejects.toBe(failure);
  expect(await listParticipants(path, read)).toEqual([]);
});

test('aborting runAsLeader mid-task aborts the task through its leadership signal, frees the node, rejects ABORTED', async () => {
  const path = uniquePath();
  const controller = new AbortController();
  let seen: unknown;
  let validAfterAbort: boolean | undefined;
  const running = runAsLeader(path, { connect: zk.connectString, id: 'stoppable', signal: controller.signal }, async (leadership) => {
    controller.abort();
    await abortedWithin(leadership.signal, 5000);
    seen = (leadership.signal.reason as { reason: string }).reason;
    validAfterAbort = leadership.isValid();
    return 'finished anyway';
  });
  await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
  // Checked out here: runAsLeader drops a task's own error once aborted.
  expect(seen).toBe('closed');
  expect(validAfterAbort).toBe(false);
  expect(await listParticipants(path, { connect: zk.connectString })).toEqual([]);
});

test("'waiting' comes once the predecessor's watch is armed, names the predecessor and our place, and again when the predecessor changes", async () => {
  const path = uniquePath();
  const seen: string[] = [];
  const elections: Election[] = [];
  for (const id of ['first', 'second', 'third']) {
    const election = new Election(path, { connect: zk.connectString, id });
    cleanup.push(() => election.close());
    election.on('waiting', (info) => seen.push(`${id} behind ${info.predecessorId} at ${info.position}`));
    await election.start();
    expect(election.state).toBe(id === 'first' ? 'leading' : 'waiting');
    elections.push(election);
  }
  expect(seen).toEqual(['second behind first at 1', 'third behind second at 2']);
  // The middle one leaves: the third now waits behind the first, one place ahead.
  await elections[1]!.close();
  await waitFor(() => seen.length === 3, { timeoutMs: 10_000, message: 'a second waiting event' });
  expect(seen[2]).toBe('third behind first at 1');
});
