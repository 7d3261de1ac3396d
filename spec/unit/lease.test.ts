/**
 * Lease arithmetic, deterministically: a leader on the in-memory ZooKeeper with a manual clock.
 * expiresAt = last contact + negotiated timeout - margin (10 % by default); the lease timer,
 * the heartbeat, the suspended policies and a pause past the timeout.
 */
import { Election, type Leadership, type Session } from 'zk-election';
import { ManualClock, MemoryZooKeeper } from 'zk-election/testing';
import { settlesWithin } from '../../lib/process/wait.js';
import { onceEvent } from '../support/processes.js';

const T = 4000;

interface Leader {
  memory: MemoryZooKeeper;
  clock: ManualClock;
  session: Session;
  election: Election;
  leadership: Leadership;
}

/** What the running test opened, for afterEach: nothing of an earlier test is left in it. */
let opened: { memory: MemoryZooKeeper; session: Session; election?: Election } | undefined;

async function leaderWith(options: { suspendedPolicy?: 'lease' | 'strict'; leaseMargin?: number } = {}): Promise<Leader> {
  const memory = new MemoryZooKeeper();
  const clock = new ManualClock();
  const session = await memory.connect({ sessionTimeout: T, clock });
  opened = { memory, session };
  const election = new Election('/lease', { connect: session, ...options });
  opened.election = election;
  await election.start();
  const leadership = await election.waitForLeadership(AbortSignal.timeout(5000));
  return { memory, clock, session, election, leadership };
}

afterEach(async () => {
  const current = opened;
  opened = undefined;
  if (!current) return;
  const { memory, session, election } = current;
  // close() deletes our node: while disconnected it would wait for a reconnection, or for 1.5 T
  // on this clock (when the server must have expired the session), which nobody advances here.
  if (session.state === 'suspended') memory.reconnect(session);
  const closing = (async () => {
    await election?.close();
    await session.close();
  })();
  if (!(await settlesWithin(closing, 5000))) throw new Error('the election and its session did not close within 5 s');
  await closing;
});

test('close() while disconnected resolves once the server must have expired the session: 1.5 T after the last contact', async () => {
  const { memory, clock, session, election } = await leaderWith();
  memory.disconnect(session);
  let closed = false;
  const closing = election.close().then(() => (closed = true));
  const bound = session.lastContact() + 1.5 * T;
  clock.advance(bound - clock.now() - 1);
  await memory.settle();
  expect(closed).toBe(false);
  clock.advance(1);
  expect(await settlesWithin(closing, 5000)).toBe(true);
  expect(closed).toBe(true);
  expect(election.state).toBe('closed');
});

const reason = (l: Leadership): string | undefined => (l.signal.reason as { reason?: string } | undefined)?.reason;

test('the lease runs T minus 10 % from the last contact; while disconnected it is trusted until then, not a millisecond longer', async () => {
  const { memory, clock, session, election, leadership } = await leaderWith();
  const contact = session.lastContact();
  expect(leadership.expiresAt).toBe(contact + T - T / 10);
  const suspended = onceEvent(election, 'suspended', 5000);
  memory.disconnect(session);
  await suspended;
  expect(leadership.isSuspended).toBe(true);
  clock.advance(leadership.expiresAt - clock.now() - 1);
  expect(leadership.isValid()).toBe(true);
  expect(leadership.isLeader).toBe(true);
  clock.advance(1);
  expect(leadership.isValid()).toBe(false);
  expect(reason(leadership)).toBe('connection-suspended');
});

test('a reconnection within the lease resumes the same term; the heartbeat renews the lease', async () => {
  const { memory, clock, session, election, leadership } = await leaderWith({ leaseMargin: 100 });
  memory.disconnect(session);
  clock.advance(T / 2);
  const resumed = onceEvent(election, 'resumed', 5000);
  memory.reconnect(session);
  await resumed;
  expect(leadership.isLeader).toBe(true);
  const before = leadership.expiresAt;
  // The heartbeat reads our node every T/3; its reply is fresh evidence of contact.
  clock.advance(Math.floor(T / 3));
  await memory.settle();
  expect(leadership.expiresAt).toBeGreaterThan(before);
  expect(leadership.expiresAt).toBe(session.lastContact() + T - 100);
});

test("the strict policy gives leadership up at the first disconnection", async () => {
  const { memory, session, leadership } = await leaderWith({ suspendedPolicy: 'strict' });
  memory.disconnect(session);
  expect(leadership.isLeader).toBe(false);
  expect(reason(leadership)).toBe('connection-suspended');
});

test('a pause past the session timeout: isValid() is false at once on waking, and the term ends as session-expired', async () => {
  const { clock, leadership } = await leaderWith();
  clock.jump(T + 1);
  // Nothing has fired yet (the process was stopped), yet the synchronous check already knows.
  expect(leadership.isLeader).toBe(true);
  expect(leadership.isValid()).toBe(false);
  clock.advance(0);
  expect(reason(leadership)).toBe('session-expired');
});

test('an expiry ends the term with session-expired and the election requeues on a new session', async () => {
  const { memory, session, election, leadership } = await leaderWith();
  const firstEpoch = session.epoch;
  memory.expire(session);
  await memory.settle();
  expect(reason(leadership)).toBe('session-expired');
  const next = await election.waitForLeadership(AbortSignal.timeout(5000));
  expect(next.term).toBe(2);
  expect(next.token).toBeGreaterThan(leadership.token);
  expect(session.epoch).toBe(firstEpoch + 1);
});
