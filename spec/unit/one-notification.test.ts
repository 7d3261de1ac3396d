/**
 * Handover in one notification (lib/election/candidacy.ts, untilLowest): a candidate whose
 * predecessor was the lowest at its last listing leads on that predecessor's deletion without
 * listing again; everywhere the argument does not hold it lists again. On the in-memory
 * ZooKeeper, stepped, with every request counted per session.
 */
import { Election, observeLeader, Session, type Leadership } from 'zk-election';
import { MemoryZooKeeper } from 'zk-election/testing';
import { withNodeRequest } from '../../lib/znode/node-requests.js';
import { FAST_RETRY, newWorld, openSession, runUntil, track, type World } from '../support/interleave.js';
import { countingTransport, newCounts, type RequestCounts } from '../support/counting-transport.js';

const PATH = '/jobs/one-notification';

interface Counted {
  session: Session;
  counts: RequestCounts;
  election: Election;
}

let world: World;
const made: Counted[] = [];

/** An Election on a session of its own whose requests are counted, stepped until `state`. */
async function join(id: string, state: 'leading' | 'waiting'): Promise<Counted> {
  const counts = newCounts();
  const session = new Session({ connect: MemoryZooKeeper.CONNECT, transport: countingTransport(counts, world.memory.transport), clock: world.clock, retry: FAST_RETRY, sessionTimeout: 4000 });
  const election = new Election(PATH, { connect: session, id, rejoin: FAST_RETRY });
  const started = track(`${id} start`, election.start());
  await runUntil(world, () => started.settled && election.state === state);
  const entry = { session, counts, election };
  made.push(entry);
  return entry;
}

const listings = (c: Counted): number => c.counts.byOperation.getChildren ?? 0;

beforeEach(() => {
  world = newWorld();
});
afterEach(async () => {
  const closing = track('close', Promise.all(made.splice(0).flatMap(({ election, session }) => [election.close().then(() => session.close())])));
  await runUntil(world, () => closing.settled);
});

test('first in line: the predecessor deleted, the successor leads without listing again', async () => {
  const leader = await join('L', 'leading');
  const next = await join('N', 'waiting');
  const before = listings(next);
  const resigned = track('resign', leader.election.leadership!.resign());
  await runUntil(world, () => next.election.state === 'leading' && resigned.settled);
  expect(listings(next) - before).toBe(0);
  expect(next.election.leadership!.token).toBeGreaterThan(leader.election.leadership?.token ?? 0n);
});

test('second in line: the predecessor deleted, it lists again and waits behind the leader', async () => {
  await join('L', 'leading');
  const middle = await join('M', 'waiting');
  const last = await join('Z', 'waiting');
  const before = listings(last);
  const resigned = track('resign', middle.election.close());
  await runUntil(world, () => resigned.settled && last.election.state === 'waiting' && listings(last) > before);
  await world.memory.settle({ maxSteps: 1000 });
  expect(last.election.state).toBe('waiting');
  expect(listings(last) - before).toBe(1);
});

test('our own node deleted just before the predecessor: the deletion of ours comes first and nobody leads on a deleted node', async () => {
  const leader = await join('L', 'leading');
  const next = await join('N', 'waiting');
  const elected: Leadership[] = [];
  next.election.on('elected', (leadership) => elected.push(leadership));
  const ours = next.election.node!;
  // Both deletions are queued, ours first: the server's order of the changes.
  world.memory.deleteNode(ours);
  world.memory.deleteNode(leader.election.node!);
  await world.memory.settle({ maxSteps: 2000 });
  // No term ever rested on the deleted node; it rejoined with a new one (and leads or waits on it).
  expect(elected.map((l) => l.node)).not.toContain(ours);
  expect(['leading', 'waiting']).toContain(next.election.state);
  expect(next.election.node).not.toBe(ours);
  expect(world.memory.exists(next.election.node!)).toBe(true);
});

test('a data change used up the watch on our node: the predecessor deleted before it is re-armed, we list again', async () => {
  const leader = await join('L', 'leading');
  const next = await join('N', 'waiting');
  const operator = await openSession(world);
  const before = listings(next);
  // An operator's write to the waiting candidate's node (not a request it acts on) fires its watch...
  const written = track('write', operator.retrying('write', (handle) => handle.setData(next.election.node!, withNodeRequest(Buffer.from('{}'), 'stepDown', { by: 'test' }))));
  await runUntil(world, () => written.settled && world.memory.pendingLabels.some((label) => label === `watch ${next.session.sessionId}`));
  // ...and before that event is delivered (so before the re-arming read), the leader resigns.
  const resigned = track('resign', leader.election.leadership!.resign());
  await runUntil(world, () => resigned.settled && next.election.state === 'leading');
  expect(listings(next) - before).toBe(1);
  const closing = track('operator close', operator.close());
  await runUntil(world, () => closing.settled);
});

test('foreign children and a protected-create recovery do not defeat the argument: the recovered node leads on one notification', async () => {
  const leader = await join('L', 'leading');
  // A foreign child sorts nowhere: it is not a candidate.
  const operator = await openSession(world);
  const planted = track('plant', operator.retrying('plant', (handle) => handle.create(`${PATH}/lock-0000000000`, Buffer.alloc(0), 0)));
  await runUntil(world, () => planted.settled);
  // The next candidate's create reply is lost: its node is found again by its marker.
  const counts = newCounts();
  const session = new Session({ connect: MemoryZooKeeper.CONNECT, transport: countingTransport(counts, world.memory.transport), clock: world.clock, retry: FAST_RETRY, sessionTimeout: 4000 });
  const connecting = track('connect', session.connected());
  await runUntil(world, () => connecting.settled);
  world.memory.loseNextReply(session);
  const election = new Election(PATH, { connect: session, id: 'N', rejoin: FAST_RETRY });
  made.push({ session, counts, election });
  const started = track('start', election.start());
  // The create is carried out, its reply lost, the connection dropped; it comes back.
  await runUntil(world, () => !session.isConnected);
  world.memory.reconnect(session);
  await runUntil(world, () => started.settled && election.state === 'waiting');
  expect(world.memory.children(PATH)).toHaveLength(3);
  const before = counts.byOperation.getChildren ?? 0;
  const resigned = track('resign', leader.election.leadership!.resign());
  await runUntil(world, () => resigned.settled && election.state === 'leading');
  expect((counts.byOperation.getChildren ?? 0) - before).toBe(0);
  const closing = track('operator close', operator.close());
  await runUntil(world, () => closing.settled);
});

test('first in line for longer than the session timeout: the term it begins on one notification has a fresh lease', async () => {
  const leader = await join('L', 'leading');
  const next = await join('N', 'waiting');
  // A long wait: the clock moves on by three session timeouts, a keep-alive tick at a time.
  for (let waited = 0; waited < 3 * 4000; waited += 200) {
    world.clock.advance(200);
    await world.memory.settle({ maxSteps: 100 });
  }
  expect(leader.election.leadership?.isValid()).toBe(true);
  const before = listings(next);
  const resigned = track('resign', leader.election.leadership!.resign());
  await runUntil(world, () => resigned.settled && next.election.state === 'leading');
  expect(listings(next) - before).toBe(0);
  const term = next.election.leadership!;
  expect(term.isValid()).toBe(true);
  // At least half the session timeout (4000 ms, less the 10 % margin) ahead, not a lease the wait used up.
  expect(term.expiresAt - world.clock.now()).toBeGreaterThan(4000 / 2 - 400);
});

test("further back in the queue: the new leader's announcement makes its successor list while nothing is at stake, then the handover takes one notification", async () => {
  const first = await join('L', 'leading');
  const middle = await join('M', 'waiting');
  const last = await join('Z', 'waiting');
  // Z listed when it joined: [L, M, Z], its predecessor M was not the lowest then.
  const beforeFirstChange = listings(last);
  const resigned = track('resign L', first.election.leadership!.resign());
  await runUntil(world, () => resigned.settled && middle.election.state === 'leading');
  // M's announcement (its node written again, unchanged) wakes Z, the only one woken, to list once.
  await world.memory.settle({ maxSteps: 1000 });
  expect(listings(last) - beforeFirstChange).toBe(1);
  expect(last.election.state).toBe('waiting');
  const beforeHandover = listings(last);
  const handedOver = track('resign M', middle.election.leadership!.resign());
  await runUntil(world, () => handedOver.settled && last.election.state === 'leading');
  expect(listings(last) - beforeHandover).toBe(0);
  expect(last.election.leadership!.token).toBeGreaterThan(middle.election.leadership?.token ?? 0n);
});

test('the announcement never overwrites what somebody else wrote into the leader node since it was read back', async () => {
  const first = await join('L', 'leading');
  const next = await join('N', 'waiting');
  const operator = await openSession(world);
  const node = next.election.node!;
  const noted = Buffer.from(JSON.stringify({ id: 'N', note: 'written by an operator' }));
  const written = track('write', operator.retrying('write', (handle) => handle.setData(node, noted)));
  await runUntil(world, () => written.settled);
  const resigned = track('resign', first.election.leadership!.resign());
  await runUntil(world, () => resigned.settled && next.election.state === 'leading');
  await world.memory.settle({ maxSteps: 1000 });
  let got: { data: Buffer; stat: { version: number } } | undefined;
  const read = track('read', operator.retrying('read', (handle) => handle.get(node)).then((value) => (got = value)));
  await runUntil(world, () => read.settled);
  expect(read.outcome).toEqual({ ok: true });
  expect(got?.data.toString()).toBe(noted.toString());
  expect(got?.stat.version).toBe(1);
  const closing = track('operator close', operator.close());
  await runUntil(world, () => closing.settled);
});

test('a leader alone at the listing that elected it announces nothing: whoever joins later finds it lowest', async () => {
  const alone = await join('A', 'leading');
  await world.memory.settle({ maxSteps: 1000 });
  expect(alone.counts.byOperation.setData ?? 0).toBe(0);
  const next = await join('B', 'waiting');
  const before = listings(next);
  const resigned = track('resign', alone.election.leadership!.resign());
  await runUntil(world, () => resigned.settled && next.election.state === 'leading');
  expect(listings(next) - before).toBe(0);
  // B led on a notification, not a listing: it cannot know who is behind it, so it announces.
  await world.memory.settle({ maxSteps: 1000 });
  expect(next.counts.byOperation.setData ?? 0).toBe(1);
});

test("an observer woken by a data change of the leader's node (an announcement) reads that node again, and lists nothing", async () => {
  const first = await join('L', 'leading');
  const middle = await join('M', 'waiting');
  await join('Z', 'waiting');
  const counts = newCounts();
  const session = new Session({ connect: MemoryZooKeeper.CONNECT, transport: countingTransport(counts, world.memory.transport), clock: world.clock, retry: FAST_RETRY, sessionTimeout: 4000 });
  const stop = new AbortController();
  const seen: Array<string | undefined> = [];
  const observing = track(
    'observe',
    (async () => {
      for await (const leader of observeLeader(PATH, { connect: session, signal: stop.signal })) seen.push(leader?.id);
    })(),
  );
  await runUntil(world, () => seen.length === 1);
  const resigned = track('resign', first.election.leadership!.resign());
  await runUntil(world, () => resigned.settled && middle.election.state === 'leading' && seen.length === 2);
  await world.memory.settle({ maxSteps: 1000 });
  // The new leader's node written again, as its announcement does (here by hand, so that the
  // observer has surely read the node before the change).
  const listed = counts.byOperation.getChildren ?? 0;
  const read = counts.byOperation.get ?? 0;
  const node = middle.election.node!;
  const rewritten = track('rewrite', middle.session.retrying('rewrite', async (handle) => handle.setData(node, (await handle.get(node)).data)));
  await runUntil(world, () => rewritten.settled);
  await world.memory.settle({ maxSteps: 1000 });
  expect({ listings: (counts.byOperation.getChildren ?? 0) - listed, reads: (counts.byOperation.get ?? 0) - read }).toEqual({ listings: 0, reads: 1 });
  expect(seen).toEqual(['L', 'M']);
  stop.abort();
  await runUntil(world, () => observing.settled);
  const closing = track('observer close', session.close());
  await runUntil(world, () => closing.settled);
});
