/**
 * Handoff to a named participant (lib/observe/handoff.ts), on the in-memory ZooKeeper: the named
 * participant leads next and nobody else in between, the others keep their relative order, the
 * tokens keep growing, and a target that vanishes half-way ends in a normal succession.
 */
import { Election, isZkElectionError, listParticipants, requestStepDown, type Session } from 'zk-election';
import { MemoryZooKeeper } from 'zk-election/testing';

const PATH = '/jobs/handoff';
let memory: MemoryZooKeeper;
const sessions: Session[] = [];
const elections = new Map<string, Election>();
/** Every term begun, in order: who and with which token. */
let terms: Array<{ id: string; token: bigint }>;
/** Terms begun while another participant still led: must stay empty. */
let overlaps: string[];

async function candidate(id: string): Promise<Election> {
  const session = await memory.connect();
  sessions.push(session);
  const election = new Election(PATH, { connect: session, id });
  election.on('elected', (leadership) => {
    terms.push({ id, token: leadership.token });
    for (const other of elections.values()) if (other !== election && other.isLeader) overlaps.push(`${id} elected while ${other.id} led`);
  });
  elections.set(id, election);
  await election.start();
  return election;
}

async function operator(): Promise<Session> {
  const session = await memory.connect();
  sessions.push(session);
  return session;
}

const order = async (connect: Session): Promise<string[]> => (await listParticipants(PATH, { connect })).map((p) => p.id);

beforeEach(() => {
  memory = new MemoryZooKeeper();
  terms = [];
  overlaps = [];
});
afterEach(async () => {
  expect(overlaps).toEqual([]);
  await Promise.all([...elections.values()].map((e) => e.close()));
  elections.clear();
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

test('to a participant in the middle: it leads next, nobody else in between, the others keep their order, tokens grow', async () => {
  for (const id of ['L', 'A', 'B', 'T', 'C']) await candidate(id);
  const ops = await operator();
  expect(await order(ops)).toEqual(['L', 'A', 'B', 'T', 'C']);
  const before = terms.length;
  const { previous, next } = await requestStepDown(PATH, { connect: ops, to: 'T' });
  expect([previous.id, next.id]).toEqual(['L', 'T']);
  expect(elections.get('T')!.isLeader).toBe(true);
  await memory.settle();
  expect(terms.slice(before).map((t) => t.id)).toEqual(['T']);
  expect(await order(ops)).toEqual(['T', 'A', 'B', 'C', 'L']);
  // Leadership then goes down the queue with growing tokens.
  for (const id of ['A', 'B', 'C']) {
    const leader = [...elections.values()].find((e) => e.isLeader)!;
    await leader.leadership!.resign();
    await elections.get(id)!.waitForLeadership();
  }
  const tokens = terms.map((t) => t.token);
  expect(tokens).toEqual([...tokens].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  expect(new Set(tokens).size).toBe(tokens.length);
});

test('to the next in line: no requeue at all, a plain step-down', async () => {
  for (const id of ['L', 'T', 'A']) await candidate(id);
  const ops = await operator();
  const nodes = (await listParticipants(PATH, { connect: ops })).map((p) => p.node);
  await requestStepDown(PATH, { connect: ops, to: 'T' });
  const after = await listParticipants(PATH, { connect: ops });
  expect(after.map((p) => p.id)).toEqual(['T', 'A', 'L']);
  expect(after.slice(0, 2).map((p) => p.node)).toEqual(nodes.slice(1));
});

test('to the leader itself: resolves at once, nothing changes', async () => {
  for (const id of ['L', 'A']) await candidate(id);
  const ops = await operator();
  const before = await listParticipants(PATH, { connect: ops });
  const { previous, next } = await requestStepDown(PATH, { connect: ops, to: 'L' });
  expect([previous.id, next.id]).toEqual(['L', 'L']);
  expect(await listParticipants(PATH, { connect: ops })).toEqual(before);
});

test('errors: an unknown participant is NO_PARTICIPANT, no leader is NO_LEADER, an empty id is INVALID_ARGUMENT', async () => {
  const ops = await operator();
  await expect(requestStepDown(PATH, { connect: ops, to: 'T' })).rejects.toMatchObject({ code: 'NO_LEADER' });
  await candidate('L');
  await expect(requestStepDown(PATH, { connect: ops, to: 'nobody' })).rejects.toMatchObject({ code: 'NO_PARTICIPANT' });
  await expect(requestStepDown(PATH, { connect: ops, to: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  expect(elections.get('L')!.isLeader).toBe(true);
});

test('the target leaves half-way: a normal succession, HANDOFF_TARGET_GONE, never two leaders', async () => {
  for (const id of ['L', 'A', 'B', 'T']) await candidate(id);
  const ops = await operator();
  const target = elections.get('T')!;
  // T leaves as soon as the first requeue begins.
  elections.get('A')!.once('state', () => void target.close());
  const handed = requestStepDown(PATH, { connect: ops, to: 'T' }).then(
    () => undefined,
    (error: unknown) => error,
  );
  const error = await handed;
  expect(isZkElectionError(error, 'HANDOFF_TARGET_GONE')).toBe(true);
  await memory.settle();
  const leaders = [...elections.values()].filter((e) => e.isLeader).map((e) => e.id);
  expect(leaders).toHaveLength(1);
  expect(leaders[0]).not.toBe('T');
  expect(terms.map((t) => t.id)).not.toContain('T');
});
