/**
 * The watch on a candidate's own node, deterministically (in-memory ZooKeeper): a step-down request
 * reaches a leader even when its node's data changed once already while it was waiting (the watch
 * is re-armed by that read and must then serve the term that began later), and a deletion ends
 * the term before anyone else can lead.
 */
import { Election, requestStepDown, type Session } from 'zk-election';
import { MemoryZooKeeper } from 'zk-election/testing';
import { withNodeRequest } from '../../lib/znode/node-requests.js';
import { FAST_RETRY, newWorld, openSession, runUntil, track } from '../support/interleave.js';

const PATH = '/own-node';
let memory: MemoryZooKeeper;
const sessions: Session[] = [];
const elections: Election[] = [];

async function candidate(id: string): Promise<Election> {
  const session = await memory.connect();
  sessions.push(session);
  const election = new Election(PATH, { connect: session, id });
  elections.push(election);
  await election.start();
  return election;
}

beforeEach(() => {
  memory = new MemoryZooKeeper();
});
afterEach(async () => {
  await Promise.all(elections.splice(0).map((e) => e.close()));
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

test('a data change while waiting re-arms the watch for the term that comes later: a step-down request still ends it', async () => {
  const first = await candidate('first');
  const second = await candidate('second');
  expect(second.state).toBe('waiting');
  // Someone writes to the waiting candidate's node (not a step-down request): the watch fires and is re-armed.
  const operator = await memory.connect();
  sessions.push(operator);
  await operator.retrying('write', (handle) => handle.setData(second.node!, Buffer.from('{"id":"second","note":"hello"}')));
  await memory.settle();
  await first.leadership!.resign();
  const term = await second.waitForLeadership();
  const { previous, next } = await requestStepDown(PATH, { connect: operator, id: 'second' });
  expect(previous.id).toBe('second');
  expect(next.node).not.toBe(term.node);
  expect((term.signal.reason as { reason: string }).reason).toBe('step-down');
});

test("a deletion of the leader's node ends its term before the next candidate leads", async () => {
  const first = await candidate('first');
  const second = await candidate('second');
  const term = first.leadership!;
  let validWhenNextLed: boolean | undefined;
  second.once('elected', () => (validWhenNextLed = term.isValid()));
  memory.deleteNode(first.node!);
  await second.waitForLeadership();
  expect((term.signal.reason as { reason: string }).reason).toBe('node-deleted');
  expect(validWhenNextLed).toBe(false);
});

test('the step-down request keeps the participant data that listParticipants shows', () => {
  const before = Buffer.from(JSON.stringify({ id: 'p1', host: 'h', pid: 7, startedAt: 'now', data: { shard: 3 } }));
  const after = JSON.parse(withNodeRequest(before, 'stepDown', { by: 'ops@host' }, new Date(0)).toString()) as Record<string, unknown>;
  expect(after).toEqual({ id: 'p1', host: 'h', pid: 7, startedAt: 'now', data: { shard: 3 }, stepDown: { requestedAt: new Date(0).toISOString(), by: 'ops@host' } });
});

test('a data change followed by a deletion before the watch is re-armed still ends the term (the re-arming read finds no node)', async () => {
  const world = newWorld();
  const session = await openSession(world);
  const operator = await openSession(world);
  const leader = new Election(PATH, { connect: session, id: 'leader', rejoin: FAST_RETRY });
  // This server delivers only when stepped: close here, stepping, rather than in afterEach.
  const closeAll = async (): Promise<void> => {
    const closing = track('close', Promise.all([leader.close(), session.close(), operator.close()]));
    await runUntil(world, () => closing.settled);
  };
  try {
    const starting = track('start', leader.start());
    await runUntil(world, () => starting.settled && leader.state === 'leading');
    // The leader's announcement to its successor (a write to its own node) fires its watch too: let
    // that settle, so the write below is the one whose event is pending.
    await world.memory.settle({ maxSteps: 1000 });
    const term = leader.leadership!;
    // A step-down request lands and uses up the leader's watch on its node (a 'changed' event is
    // queued for it); the node is deleted before that event is delivered, so before the leader can
    // re-arm its watch: no 'deleted' event will ever come, and the re-arming read finds no node.
    const written = track('request', operator.retrying('request', (handle) => handle.setData(leader.node!, withNodeRequest(Buffer.from('{}'), 'stepDown', { by: 'test' }))));
    const watchEvent = `watch ${session.sessionId}`;
    await runUntil(world, () => world.memory.pendingLabels.includes(watchEvent));
    expect(term.isLeader).toBe(true);
    world.memory.deleteNode(leader.node!);
    await runUntil(world, () => written.settled);
    await world.memory.settle({ maxSteps: 1000 });
    expect(written.outcome).toEqual({ ok: true });
    expect(term.isLeader).toBe(false);
    expect((term.signal.reason as { reason: string } | undefined)?.reason).toBe('node-deleted');
  } finally {
    await closeAll();
  }
});
