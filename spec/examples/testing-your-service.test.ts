// Testing a service built on zk-election: a real ZooKeeper per test file, and an in-memory one.
import { isZkElectionError, runAsLeader, Session } from 'zk-election';
import { expireSession, MemoryZooKeeper, startZooKeeper, type LocalEnsemble } from 'zk-election/testing';

/** The code under test: while it leads, it records its fencing token and works until the term ends. */
async function scheduler(session: Session, tokens: bigint[], stop: AbortSignal): Promise<void> {
  await runAsLeader('/jobs/charges', { connect: session, signal: stop }, async (leadership) => {
    tokens.push(leadership.token);
    await new Promise((resolve) => leadership.signal.addEventListener('abort', resolve, { once: true }));
  }).catch((error: unknown) => {
    if (!isZkElectionError(error, 'ABORTED')) throw error;
  });
}

/** Waits (bounded) for a condition that no event announces. */
async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 20_000) throw new Error('condition not met within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('against a real ZooKeeper', () => {
  let zk: LocalEnsemble;
  beforeAll(async () => {
    zk = await startZooKeeper(); // standalone, on a free loopback port; { servers: 3 } for an ensemble
  }, 60_000);
  afterAll(() => zk.stop()); // stops the JVM by pid and removes its files

  test('when the leader loses its session, the other copy takes over with a higher token', async () => {
    const stop = new AbortController();
    const tokens: bigint[] = [];
    const first = await Session.connect({ connect: zk.connectString, sessionTimeout: 4000 });
    const second = await Session.connect({ connect: zk.connectString, sessionTimeout: 4000 });
    const running = [scheduler(first, tokens, stop.signal)];
    await until(() => tokens.length === 1);
    running.push(scheduler(second, tokens, stop.signal));
    await expireSession(first); // what a long GC pause or a partition does, on demand
    await until(() => tokens.length === 2);
    expect(tokens[1]).toBeGreaterThan(tokens[0]!);
    stop.abort();
    await Promise.all(running);
    await Promise.all([first.close(), second.close()]);
  });
});

describe('against the in-memory ZooKeeper (no JVM, every event under your control)', () => {
  test('the same failover, deterministically', async () => {
    const memory = new MemoryZooKeeper();
    const stop = new AbortController();
    const tokens: bigint[] = [];
    const first = await memory.connect();
    const second = await memory.connect();
    const running = [scheduler(first, tokens, stop.signal)];
    await until(() => tokens.length === 1);
    running.push(scheduler(second, tokens, stop.signal));
    memory.expire(first);
    await until(() => tokens.length === 2);
    expect(tokens[1]).toBeGreaterThan(tokens[0]!);
    stop.abort();
    await Promise.all(running);
  });
});
