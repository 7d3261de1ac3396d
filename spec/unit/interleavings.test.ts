/**
 * A close, an abort or a session loss at every await point of join, campaign, requeue and resign
 * (enumerated, not random), against the in-memory ZooKeeper. After each: no node of the subject
 * is left once close() (or the abort) has resolved, the election ends `closed`, and no promise
 * it handed out is left pending. The same races against a real server are in
 * spec/integration/races.test.ts.
 */
import { Election, electLeader, type Leadership, type Session } from 'zk-election';
import { deliver, FAST_RETRY, leftovers, newWorld, openSession, runUntil, track, type Tracked, type World } from '../support/interleave.js';

const PATH = '/jobs/interleaved';
type Fault = 'close' | 'expire' | 'disconnect';

interface Subject {
  session: Session;
  /** The Election under test (electLeader's is hidden: then undefined). */
  election: Election | undefined;
  tracked: Tracked[];
  errors: Error[];
  /** What the scenario's act is for: reached without a fault. */
  reached(): boolean;
  /** close() for an Election, abort() for electLeader. */
  stop(): Tracked;
}

interface Scenario {
  name: string;
  /** Prepares the precondition (stepping as needed), then starts the act without delivering anything. */
  begin(world: World): Promise<Subject>;
}

/** An Election on a session of its own, stepped until start() settled and it is `state`. */
async function joinedOn(world: World, id: string, state: 'leading' | 'waiting'): Promise<{ session: Session; election: Election; started: Tracked }> {
  const session = await openSession(world);
  const election = new Election(PATH, { connect: session, id, rejoin: FAST_RETRY });
  const started = track(`${id} start`, election.start());
  await runUntil(world, () => started.settled && election.state === state);
  return { session, election, started };
}

/** Another participant (its node may remain), joined and `state`. */
async function joined(world: World, id: string, state: 'leading' | 'waiting'): Promise<Election> {
  const { session, election } = await joinedOn(world, id, state);
  world.others.push(session);
  return election;
}

function electionSubject(session: Session, election: Election, tracked: Tracked[], reached: () => boolean): Subject {
  const errors: Error[] = [];
  election.on('error', (error) => errors.push(error));
  return { session, election, tracked, errors, reached, stop: () => track('close', election.close()) };
}

async function startedSubject(world: World, state: 'leading' | 'waiting'): Promise<{ session: Session; election: Election; tracked: Tracked[] }> {
  const { session, election, started } = await joinedOn(world, 'subject', state);
  return { session, election, tracked: [started, track('waitForLeadership', election.waitForLeadership())] };
}

const scenarios: Scenario[] = [
  {
    name: 'join, alone',
    async begin(world) {
      const session = await openSession(world);
      const election = new Election(PATH, { connect: session, id: 'subject', rejoin: FAST_RETRY });
      const tracked = [track('start', election.start()), track('waitForLeadership', election.waitForLeadership())];
      return electionSubject(session, election, tracked, () => election.state === 'leading');
    },
  },
  {
    name: 'join, behind a leader',
    async begin(world) {
      await joined(world, 'L', 'leading');
      const session = await openSession(world);
      const election = new Election(PATH, { connect: session, id: 'subject', rejoin: FAST_RETRY });
      const tracked = [track('start', election.start())];
      return electionSubject(session, election, tracked, () => election.state === 'waiting');
    },
  },
  {
    name: 'campaign: the predecessor resigns',
    async begin(world) {
      const l = await joined(world, 'L', 'leading');
      const { session, election, tracked } = await startedSubject(world, 'waiting');
      tracked.push(track('L resign', l.leadership!.resign()));
      return electionSubject(session, election, tracked, () => election.state === 'leading');
    },
  },
  {
    // The one-notification handover's conditions (lib/election/candidacy.ts, untilLowest) with a
    // foreign child under the path and our node found again after a lost create reply.
    name: 'campaign: recovered from a lost create, beside a foreign child, the predecessor resigns',
    async begin(world) {
      const l = await joined(world, 'L', 'leading');
      const foreign = track('foreign child', world.others[0]!.retrying('plant', (handle) => handle.create(`${PATH}/lock-0000000000`, Buffer.alloc(0), 0)));
      await runUntil(world, () => foreign.settled);
      const session = await openSession(world);
      world.memory.loseNextReply(session);
      const election = new Election(PATH, { connect: session, id: 'subject', rejoin: FAST_RETRY });
      const started = track('start', election.start());
      await runUntil(world, () => !session.isConnected);
      world.memory.reconnect(session);
      await runUntil(world, () => started.settled && election.state === 'waiting');
      const tracked = [started, track('waitForLeadership', election.waitForLeadership()), track('L resign', l.leadership!.resign())];
      return electionSubject(session, election, tracked, () => election.state === 'leading');
    },
  },
  {
    name: 'requeue: our node is deleted while leading',
    async begin(world) {
      const { session, election, tracked } = await startedSubject(world, 'leading');
      world.memory.deleteNode(election.node!);
      return electionSubject(session, election, tracked, () => election.state === 'leading' && election.leadership?.term === 2);
    },
  },
  {
    name: 'resign and requeue behind a waiting candidate',
    async begin(world) {
      const { session, election, tracked } = await startedSubject(world, 'leading');
      const w = await joined(world, 'W', 'waiting');
      tracked.push(track('resign', election.leadership!.resign()));
      return electionSubject(session, election, tracked, () => w.state === 'leading' && election.state === 'waiting');
    },
  },
  {
    name: 'electLeader, joining behind a leader',
    async begin(world) {
      await joined(world, 'L', 'leading');
      const session = await openSession(world);
      const abort = new AbortController();
      const elected = track('electLeader', electLeader(PATH, { connect: session, id: 'subject', signal: abort.signal, rejoin: FAST_RETRY }));
      const placedAndWatching = (): boolean => leftovers(world, PATH).length === 1 && world.memory.watchCount(session).data === 2;
      return { session, election: undefined, tracked: [elected], errors: [], reached: placedAndWatching, stop: () => stopElectLeader(abort, elected) };
    },
  },
  {
    name: 'electLeader, elected when the leader resigns',
    async begin(world) {
      const l = await joined(world, 'L', 'leading');
      const session = await openSession(world);
      const abort = new AbortController();
      const elected = track('electLeader', electLeader(PATH, { connect: session, id: 'subject', signal: abort.signal, rejoin: FAST_RETRY }));
      await runUntil(world, () => world.memory.watchCount(session).data === 2);
      const resigned = track('L resign', l.leadership!.resign());
      return { session, election: undefined, tracked: [elected, resigned], errors: [], reached: () => elected.settled, stop: () => stopElectLeader(abort, elected) };
    },
  },
];

/** electLeader's way out: abort while it campaigns; once it resolved, resign the leadership it gave. */
function stopElectLeader(abort: AbortController, elected: Tracked): Tracked {
  abort.abort();
  return track('stop', elected.promise.then((leadership) => (leadership as Leadership).resign(), () => undefined));
}

/** Deliveries the act needs without a fault: the await points to enumerate. */
async function countAwaitPoints(scenario: Scenario): Promise<number> {
  const world = newWorld();
  const subject = await scenario.begin(world);
  const points = await runUntil(world, subject.reached);
  await finish(world, subject);
  return points;
}

async function finish(world: World, subject: Subject): Promise<void> {
  const stopped = subject.stop();
  await runUntil(world, () => stopped.settled);
  await world.memory.settle({ maxSteps: 5000 });
}

async function injectAt(scenario: Scenario, k: number, fault: Fault): Promise<string[]> {
  const world = newWorld();
  const subject = await scenario.begin(world);
  const problems: string[] = [];
  // The counting run made `points` deliveries: fewer here would put this injection on an earlier point.
  const delivered = await deliver(world, k);
  if (delivered < k) problems.push(`only ${delivered} of ${k} deliveries before the fault`);
  if (fault === 'expire') world.memory.expire(subject.session);
  if (fault === 'disconnect') {
    world.memory.disconnect(subject.session);
    // Requests in flight fail; retries wait for the connection, so no backoff timer is to be waited for.
    await deliver(world, 3, FAST_RETRY.maxTimeout + 1);
    world.memory.reconnect(subject.session);
  }
  if (fault !== 'close') {
    // The subject recovers on its own: at most one node of it exists once things settle.
    await world.memory.settle({ maxSteps: 5000 });
    const mine = leftovers(world, PATH);
    if (mine.length > 1) problems.push(`after ${fault}: ${mine.length} nodes of the subject: ${mine.join(', ')}`);
  }
  const stopped = subject.stop();
  await runUntil(world, () => stopped.settled);
  const left = leftovers(world, PATH);
  if (left.length > 0) problems.push(`node left once the stop resolved: ${left.join(', ')}`);
  if (subject.election && subject.election.state !== 'closed') problems.push(`state ${subject.election.state}, not closed`);
  await world.memory.settle({ maxSteps: 5000 });
  for (const t of subject.tracked) if (!t.settled) problems.push(`${t.name} still pending`);
  for (const error of subject.errors) problems.push(`error event: ${error.message}`);
  return problems.map((p) => `k=${k} ${fault}: ${p}`);
}

const covered: Record<string, number> = {};

describe.each(scenarios)('$name', (scenario) => {
  test.each<Fault>(['close', 'expire', 'disconnect'])('%s at every await point', async (fault) => {
    const points = await countAwaitPoints(scenario);
    expect(points).toBeGreaterThan(0);
    const problems: string[] = [];
    for (let k = 0; k <= points; k += 1) problems.push(...(await injectAt(scenario, k, fault)));
    covered[`${scenario.name} / ${fault}`] = points + 1;
    expect(problems).toEqual([]);
  });
});

afterAll(() => {
  const total = Object.values(covered).reduce((a, b) => a + b, 0);
  process.stderr.write(`interleavings: ${total} fault injections over ${Object.keys(covered).length} scenario/fault pairs: ${JSON.stringify(covered)}\n`);
});
