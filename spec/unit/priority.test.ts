/**
 * Priority (lib/election/preference.ts), on the in-memory ZooKeeper with a manual clock: a
 * preferred candidate takes leadership over once it has waited `preferAfter`, never before; equal
 * priorities never move leadership; among several preferred candidates the best goes first, once;
 * after a failover to a less preferred candidate, leadership comes back once the preferred one has
 * settled again.
 */
import { Election, listParticipants, type Session } from 'zk-election';
import { ManualClock, MemoryZooKeeper } from 'zk-election/testing';

const PATH = '/jobs/priority';
const PREFER_AFTER = 1000;
let memory: MemoryZooKeeper;
let clock: ManualClock;
const sessions: Session[] = [];
const elections: Election[] = [];
let terms: string[];

async function candidate(id: string, priority: number): Promise<Election> {
  const session = await memory.connect({ clock });
  sessions.push(session);
  const election = new Election(PATH, { connect: session, id, priority, preferAfter: PREFER_AFTER });
  election.on('elected', () => terms.push(id));
  elections.push(election);
  await election.start();
  return election;
}

/** Moves the clock on, a little at a time (keep-alives answer in between, as they would), letting everything that follows happen. */
async function after(ms: number): Promise<void> {
  for (let left = ms; left > 0; left -= 100) {
    clock.advance(Math.min(100, left));
    await memory.settle({ idleRounds: 5 });
  }
}

const leader = (): string | undefined => elections.find((e) => e.isLeader)?.id;

beforeEach(() => {
  memory = new MemoryZooKeeper();
  clock = new ManualClock();
  terms = [];
});
afterEach(async () => {
  await Promise.all(elections.splice(0).map((e) => e.close()));
  await Promise.all(sessions.splice(0).map((s) => s.close()));
});

test('a preferred candidate takes over once it has waited preferAfter, not before, and the others keep their order', async () => {
  await candidate('L', 0);
  await candidate('A', 0);
  await candidate('P', 5);
  await after(PREFER_AFTER - 1);
  expect(leader()).toBe('L');
  await after(1);
  expect(leader()).toBe('P');
  expect(terms).toEqual(['L', 'P']);
  const ops = sessions[0]!;
  expect((await listParticipants(PATH, { connect: ops })).map((p) => [p.id, p.priority])).toEqual([['P', 5], ['A', 0], ['L', 0]]);
});

test('equal priorities never move leadership', async () => {
  await candidate('L', 3);
  await candidate('A', 3);
  await after(10 * PREFER_AFTER);
  expect(terms).toEqual(['L']);
});

test('several preferred candidates: the best takes over, once; a lower one never takes it back', async () => {
  await candidate('L', 0);
  await candidate('P1', 3);
  await candidate('P2', 7);
  await after(10 * PREFER_AFTER);
  expect(terms).toEqual(['L', 'P2']);
});

test('after a failover to a less preferred candidate, leadership returns once the preferred one has settled again', async () => {
  const preferred = await candidate('P', 5);
  await candidate('L', 0);
  await preferred.close();
  await memory.settle();
  expect(leader()).toBe('L');
  // It restarts (a new Election), and restarts again before it has settled: no move yet.
  const flapping = await candidate('P', 5);
  await after(PREFER_AFTER / 2);
  await flapping.close();
  await candidate('P', 5);
  await after(PREFER_AFTER / 2 + 1);
  expect(leader()).toBe('L');
  await after(PREFER_AFTER / 2);
  expect(leader()).toBe('P');
  expect(terms).toEqual(['P', 'L', 'P']);
});
