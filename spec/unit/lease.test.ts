/**
 * Lease arithmetic, deterministically: a leader on the in-memory ZooKeeper with a manual clock.
 * expiresAt = last contact + negotiated timeout - margin (10 % by default); the lease timer,
 * the heartbeat, the suspended policies and a pause past the timeout.
 */
import { Election, type Leadership, type Session } from 'zk-election';
import { ManualClock, MemoryZooKeeper } from 'zk-election/testing';

const T = 4000;
let memory: MemoryZooKeeper;
let clock: ManualClock;
let session: Session;
let election: Election;

async function leaderWith(options: { suspendedPolicy?: 'lease' | 'strict'; leaseMargin?: number } = {}): Promise<Leadership> {
  memory = new MemoryZooKeeper();
  clock = new ManualClock();
  session = await memory.connect({ sessionTimeout: T, clock });
  election = new Election('/lease', { connect: session, ...options });
  await election.start();
  return election.waitForLeadership();
}

afterEach(async () => {
  // close() deletes our node: while disconnected it would wait for a reconnection, or for 1.5 T
  // on this clock (when the server must have expired the session), which nobody advances here.
  if (session.state === 'suspended') memory.reconnect(session);
  await election.close();
  await session.close();
});

test('close() while disconnected resolves once the server must have expired the session: 1.5 T after the last contact', async () => {
  await leaderWith();
  memory.disconnect(session);
  let closed = false;
  const closing = election.close().then(() => (closed = true));
  const bound = session.lastContact() + 1.5 * T;
  clock.advance(bound - clock.now() - 1);
  await memory.settle();
  expect(closed).toBe(false);
  clock.advance(1);
  await closing;
  expect(election.state).toBe('closed');
});

const reason = (l: Leadership): string | undefined => (l.signal.reason as { reason?: string } | undefined)?.reason;

test('the lease runs T minus 10 % from the last contact; while disconnected it is trusted until then, not a millisecond longer', async () => {
  const leadership = await leaderWith();
  const contact = session.lastContact();
  expect(leadership.expiresAt).toBe(contact + T - T / 10);
  const suspended = new Promise((resolve) => election.once('suspended', resolve));
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
  const leadership = await leaderWith({ leaseMargin: 100 });
  memory.disconnect(session);
  clock.advance(T / 2);
  const resumed = new Promise((resolve) => election.once('resumed', resolve));
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
  const leadership = await leaderWith({ suspendedPolicy: 'strict' });
  memory.disconnect(session);
  expect(leadership.isLeader).toBe(false);
  expect(reason(leadership)).toBe('connection-suspended');
});

test('a pause past the session timeout: isValid() is false at once on waking, and the term ends as session-expired', async () => {
  const leadership = await leaderWith();
  clock.jump(T + 1);
  // Nothing has fired yet (the process was stopped), yet the synchronous check already knows.
  expect(leadership.isLeader).toBe(true);
  expect(leadership.isValid()).toBe(false);
  clock.advance(0);
  expect(reason(leadership)).toBe('session-expired');
});

test('an expiry ends the term with session-expired and the election requeues on a new session', async () => {
  const leadership = await leaderWith();
  const firstEpoch = session.epoch;
  memory.expire(session);
  await memory.settle();
  expect(reason(leadership)).toBe('session-expired');
  const next = await election.waitForLeadership();
  expect(next.term).toBe(2);
  expect(next.token).toBeGreaterThan(leadership.token);
  expect(session.epoch).toBe(firstEpoch + 1);
});
