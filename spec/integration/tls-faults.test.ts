/**
 * Faults on a 3-node TLS-only ensemble (clients and quorum over TLS): the server a leader's
 * session is on is killed, the session moves to another TLS server; then the ensemble's own
 * leader is killed. Throughout, at most one participant holds a valid leadership, and every new
 * term has a larger token than every earlier one.
 */
import { Election, type Leadership } from 'zk-election';
import type { LocalServer } from 'zk-election/testing';
import { onceEvent, waitFor } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 3, tls: { quorum: true } });
const SESSION_TIMEOUT = 4000;

/** The live server whose `cons` lists this session id (hex, as Session.sessionId gives it). */
async function serverOf(sessionId: string): Promise<LocalServer | undefined> {
  const bare = sessionId.replace(/^0x/, '').replace(/^0+/, '');
  for (const server of zk.ensemble.servers) {
    if (!server.running) continue;
    const cons = await server.fourLetter('cons').catch(() => '');
    if ([...cons.matchAll(/sid=0x([0-9a-f]+)/g)].some((m) => m[1]!.replace(/^0+/, '') === bare)) return server;
  }
  return undefined;
}

/** Watches the invariants: a sample every 5 ms and a check at every election. */
class Invariants {
  readonly violations: string[] = [];
  readonly tokens: bigint[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly elections: Election[]) {
    for (const e of elections) e.on('elected', (leadership) => this.#onElected(e, leadership));
    this.#timer = setInterval(() => this.#sample('sample'), 5);
  }

  #onElected(e: Election, leadership: Leadership): void {
    const highest = this.tokens.at(-1);
    if (highest !== undefined && leadership.token <= highest) this.violations.push(`${e.id} elected with token ${leadership.token} after ${highest}`);
    this.tokens.push(leadership.token);
    this.#sample(`${e.id} elected`);
  }

  #sample(when: string): void {
    const valid = this.elections.filter((e) => e.leadership?.isValid());
    if (valid.length > 1) this.violations.push(`${when}: ${valid.map((e) => e.id).join(' and ')} both hold a valid leadership`);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

test('a leader whose TLS server is killed moves to another TLS server; killing the ensemble leader changes nothing either', async () => {
  const path = uniquePath();
  const elections = ['a', 'b', 'c'].map((id) => new Election(path, { connect: zk.connectString, tls: zk.ensemble.tls!, id, sessionTimeout: SESSION_TIMEOUT }));
  const invariants = new Invariants(elections);
  try {
    for (const e of elections) await e.start();
    const first = await elections[0]!.waitForLeadership(AbortSignal.timeout(15_000));
    const leader = elections[0]!;
    const sessionId = leader.session!.sessionId;
    let hosting: LocalServer | undefined;
    await waitFor(async () => (hosting = await serverOf(sessionId)) !== undefined, { timeoutMs: 10_000, message: "the leader's session to show in a server's cons" });

    // 1. The leader's server dies: its session reconnects to another TLS server before it can expire.
    const resumed = onceEvent(leader, 'resumed', 15_000);
    await hosting!.kill();
    await resumed;
    expect(leader.session!.sessionId).toBe(sessionId);
    expect(leader.leadership).toBe(first);
    expect(first.isValid()).toBe(true);
    await first.verify();
    const moved = await serverOf(sessionId);
    expect(moved).toBeDefined();
    expect(moved!.id).not.toBe(hosting!.id);

    // 2. The killed server comes back; then the ensemble's own leader is killed.
    await hosting!.start();
    await zk.ensemble.waitForQuorum(30_000);
    const ensembleLeader = await zk.ensemble.leader();
    await ensembleLeader!.kill();
    await zk.ensemble.waitForQuorum(30_000);
    await waitFor(() => elections.every((e) => e.session?.isConnected === true), { timeoutMs: 20_000, message: 'every session to be connected again' });
    await ensembleLeader!.start();

    // 3. Elections go on over TLS: a resign hands over to the next, with a larger token.
    let current: Election | undefined;
    await waitFor(() => (current = elections.find((e) => e.leadership?.isLeader)) !== undefined, { timeoutMs: 20_000, message: 'a leader after the faults' });
    const term = current!.leadership!;
    await term.resign();
    const next = await Promise.any(elections.filter((e) => e !== current).map((e) => e.waitForLeadership(AbortSignal.timeout(15_000))));
    expect(next.token).toBeGreaterThan(term.token);
  } finally {
    invariants.stop();
    await Promise.allSettled(elections.map((e) => e.close()));
  }
  expect(invariants.violations).toEqual([]);
  expect(invariants.tokens.length).toBeGreaterThanOrEqual(2);
});
