/**
 * A handoff with a fault at every await point (enumerated, not random), on the in-memory
 * ZooKeeper: the leader L, a candidate A that has to requeue, and the target T, each closed,
 * expired or cut off at each delivery of `requestStepDown(path, { to: 'T' })`. After each: nobody
 * was ever elected while another's leadership was valid (`isValid()`, what a leader checks before a
 * side effect), the request settled (T leads, or a normal succession
 * reported as HANDOFF_TARGET_GONE / HANDOFF_INTERRUPTED), at most one leads, and every
 * participant still in the election holds exactly one node.
 */
import { Election, isZkElectionError, requestStepDown, type Session } from 'zk-election';
import { deliver, FAST_RETRY, newWorld, openSession, runUntil, track, type Tracked, type World } from '../support/interleave.js';

const PATH = '/jobs/handoff-interleaved';
type Fault = 'close' | 'expire' | 'disconnect';
type Victim = 'L' | 'A' | 'T';
/** openSession's default. */
const SESSION_TIMEOUT = 4000;

interface Setup {
  world: World;
  sessions: Map<string, Session>;
  elections: Map<string, Election>;
  overlaps: string[];
  handoff: Tracked;
  ops: Session;
}

async function begin(): Promise<Setup> {
  const world = newWorld();
  const sessions = new Map<string, Session>();
  const elections = new Map<string, Election>();
  const overlaps: string[] = [];
  for (const id of ['L', 'A', 'T']) {
    const session = await openSession(world);
    const election = new Election(PATH, { connect: session, id, rejoin: FAST_RETRY });
    election.on('elected', () => {
      for (const other of elections.values()) if (other !== election && other.leadership?.isValid()) overlaps.push(`${id} elected while ${other.id} led`);
    });
    const started = track(`${id} start`, election.start());
    await runUntil(world, () => started.settled && (election.state === 'leading' || election.state === 'waiting'));
    sessions.set(id, session);
    elections.set(id, election);
  }
  const ops = await openSession(world);
  const handoff = track('handoff', requestStepDown(PATH, { connect: ops, to: 'T', timeout: 60_000 }));
  return { world, sessions, elections, overlaps, handoff, ops };
}

async function finish(setup: Setup): Promise<void> {
  const closing = track('close', Promise.all([...setup.elections.values()].map((e) => e.close())));
  await runUntil(setup.world, () => closing.settled);
  const sessions = track('sessions', Promise.all([...setup.sessions.values(), setup.ops].map((s) => s.close())));
  await runUntil(setup.world, () => sessions.settled);
}

async function countAwaitPoints(): Promise<number> {
  const setup = await begin();
  const points = await runUntil(setup.world, () => setup.handoff.settled);
  expect(setup.handoff.outcome).toEqual({ ok: true });
  expect(setup.elections.get('T')!.isLeader).toBe(true);
  await finish(setup);
  return points;
}

async function injectAt(k: number, victim: Victim, fault: Fault): Promise<string[]> {
  const setup = await begin();
  const { world } = setup;
  const problems: string[] = [];
  await deliver(world, k);
  const session = setup.sessions.get(victim)!;
  if (fault === 'close') void setup.elections.get(victim)!.close();
  if (fault === 'expire') {
    // A server expires a session after a session timeout without hearing from it: by then its
    // leader's lease has run out on its own clock. The in-memory server expires at once, so time
    // is moved on first, as it would have.
    world.clock.advance(SESSION_TIMEOUT);
    world.memory.expire(session);
  }
  if (fault === 'disconnect') {
    world.memory.disconnect(session);
    await deliver(world, 3, FAST_RETRY.maxTimeout + 1);
    world.memory.reconnect(session);
  }
  await runUntil(world, () => setup.handoff.settled, 5000);
  await world.memory.settle({ maxSteps: 5000 });
  const outcome = setup.handoff.outcome;
  // T gone before the request read the participants: nobody to hand to.
  const expected = ['HANDOFF_TARGET_GONE', 'HANDOFF_INTERRUPTED', ...(victim === 'T' ? (['NO_PARTICIPANT'] as const) : [])] as const;
  if (!outcome) problems.push('handoff still pending');
  else if (!outcome.ok && !isZkElectionError(outcome.error, ...expected)) problems.push(`handoff failed: ${(outcome.error as Error).message}`);
  const leaders = [...setup.elections.values()].filter((e) => e.isLeader).map((e) => e.id);
  if (leaders.length > 1) problems.push(`leaders at the end: ${leaders.join(', ')}`);
  const next = outcome?.ok ? ((await setup.handoff.promise) as { next: { id: string } }).next.id : undefined;
  if (next !== undefined && next !== 'T') problems.push(`resolved with ${next} leading`);
  for (const [id, election] of setup.elections) {
    if (election.state === 'closed') continue;
    const owned = world.memory.children(PATH).filter((child) => world.memory.owner(`${PATH}/${child}`) === setup.sessions.get(id)!.sessionId);
    if (owned.length !== 1) problems.push(`${id} (${election.state}) holds ${owned.length} nodes`);
  }
  problems.push(...setup.overlaps);
  await finish(setup);
  return problems.map((p) => `k=${k} ${victim} ${fault}: ${p}`);
}

const covered: Record<string, number> = {};

describe.each<Victim>(['L', 'A', 'T'])('the %s participant', (victim) => {
  test.each<Fault>(['close', 'expire', 'disconnect'])('%s at every await point of a handoff', async (fault) => {
    const points = await countAwaitPoints();
    expect(points).toBeGreaterThan(0);
    const problems: string[] = [];
    for (let k = 0; k <= points; k += 1) problems.push(...(await injectAt(k, victim, fault)));
    covered[`${victim} / ${fault}`] = points + 1;
    expect(problems).toEqual([]);
  }, 120_000);
});

afterAll(() => {
  const total = Object.values(covered).reduce((a, b) => a + b, 0);
  process.stderr.write(`handoff interleavings: ${total} fault injections over ${Object.keys(covered).length} victim/fault pairs: ${JSON.stringify(covered)}\n`);
});
