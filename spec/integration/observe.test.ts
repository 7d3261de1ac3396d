/**
 * Following the leader from outside (observeLeader, Election's `leader` event, `leader --watch`)
 * and stepping a leader down (requestStepDown, `zk-election step-down`), against a real server.
 */
import { fileURLToPath } from 'node:url';
import { Election, electLeader, observeLeader, requestStepDown, Session, type Leadership, type Participant } from 'zk-election';
import { expireSession } from 'zk-election/testing';
import { CLI, runCli } from '../support/cli.js';
import { countingTransport, newCounts } from '../support/counting-transport.js';
import { killAllTracked, spawnTracked, waitFor, type TrackedProcess } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
const PARTICIPANT = fileURLToPath(new URL('../../dist/spec/support/participant.js', import.meta.url));
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  await killAllTracked();
});

async function candidate(path: string, id: string, session?: Session): Promise<Election> {
  const election = new Election(path, { connect: session ?? zk.connectString, id });
  cleanup.push(() => election.close());
  await election.start();
  return election;
}

/** Collects what an observer yields, and lets a test wait for the n-th value. */
function collect(path: string, options: { connect: string | Session }) {
  const stop = new AbortController();
  const seen: Array<string | undefined> = [];
  const done = (async () => {
    for await (const leader of observeLeader(path, { ...options, signal: stop.signal })) seen.push(leader?.id);
  })();
  cleanup.push(async () => {
    stop.abort();
    await done;
  });
  const count = (n: number, what: string): Promise<void> => waitFor(() => seen.length >= n, { timeoutMs: 10_000, message: what });
  return { seen, count, done };
}

/** Session ids (hex, no 0x) the server's session tracker holds now (`dump`, standalone server). */
async function liveSessions(): Promise<Set<string>> {
  const answer = await zk.ensemble.servers[0]!.fourLetter('dump');
  const tracker = answer.slice(0, answer.indexOf('ephemeral nodes dump:'));
  if (!tracker.startsWith('SessionTracker dump:')) throw new Error(`unexpected dump answer:\n${answer}`);
  return new Set([...tracker.matchAll(/^\t0x([0-9a-f]+)$/gm)].map((m) => m[1]!));
}

/** Watches the server holds for one session (`wchc`: session, then its paths). */
async function watchesOf(sessionId: string): Promise<string[]> {
  const answer = await zk.ensemble.servers[0]!.fourLetter('wchc');
  const lines = answer.split('\n');
  const start = lines.findIndex((line) => line.trim() === `0x${sessionId}`);
  if (start < 0) return [];
  const paths: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('\t')) break;
    paths.push(line.trim());
  }
  return paths;
}

test('an observer sees the leader at once, one value per change, nothing for joins behind it, undefined when all leave; it owns no node and holds one watch', async () => {
  const path = uniquePath();
  const observerSession = await Session.connect({ connect: zk.connectString });
  cleanup.push(() => observerSession.close());
  const { seen, count } = collect(path, { connect: observerSession });
  await count(1, 'the first value');
  expect(seen).toEqual([undefined]);
  const first = await candidate(path, 'first');
  await count(2, 'the first leader');
  const second = await candidate(path, 'second');
  const third = await candidate(path, 'third');
  // Two joins behind the leader: nothing for the observer, which watches only the leader's node.
  // A round trip on the observer's own session: a notification the joins caused would reach that
  // session before the reply to this later request.
  await observerSession.retrying('sync', (handle) => handle.sync('/'));
  expect(seen).toEqual([undefined, 'first']);
  expect(await watchesOf(observerSession.sessionId)).toEqual([first.node]);
  const listed = await first.participants();
  expect(listed.every((p) => p.sessionId !== observerSession.sessionId)).toBe(true);
  await third.close();
  await first.close();
  await count(3, 'the second leader');
  await second.close();
  await count(4, 'nobody');
  expect(seen).toEqual([undefined, 'first', 'second', undefined]);
});

test('an observer survives the expiry of its own session and keeps following', async () => {
  const path = uniquePath();
  const observerSession = await Session.connect({ connect: zk.connectString, sessionTimeout: 2000 });
  cleanup.push(() => observerSession.close());
  const first = await candidate(path, 'first');
  await candidate(path, 'second');
  const { seen, count } = collect(path, { connect: observerSession });
  await count(1, 'the first leader');
  await expireSession(observerSession);
  await first.close();
  await count(2, 'the leader after the expiry');
  expect(seen).toEqual(['first', 'second']);
});

test("every participant hears of every leader change through Election's 'leader' event", async () => {
  const path = uniquePath();
  const heard = new Map<string, Array<string | undefined>>();
  const elections: Election[] = [];
  for (const id of ['a', 'b', 'c']) {
    const election = await candidate(path, id);
    heard.set(id, []);
    election.on('leader', (leader: Participant | undefined) => heard.get(id)!.push(leader?.id));
    elections.push(election);
  }
  await waitFor(() => [...heard.values()].every((list) => list.length >= 1), { timeoutMs: 10_000, message: 'everyone to hear of the leader' });
  await elections[0]!.leadership!.resign();
  await waitFor(() => [...heard.values()].every((list) => list.at(-1) === 'b'), { timeoutMs: 10_000, message: 'everyone to hear of b' });
  expect(heard.get('c')).toEqual(['a', 'b']);
});

test("requestStepDown: the Election's term ends with step-down, it requeues at the back, and another leads", async () => {
  const path = uniquePath();
  const first = await candidate(path, 'first');
  await candidate(path, 'second');
  const term = first.leadership!;
  const { previous, next } = await requestStepDown(path, { connect: zk.connectString, by: 'test' });
  expect(previous.id).toBe('first');
  expect(next.id).toBe('second');
  expect(next.token).toBeGreaterThan(term.token);
  expect((term.signal.reason as { reason: string }).reason).toBe('step-down');
  await waitFor(() => first.state === 'waiting', { timeoutMs: 10_000, message: 'first to requeue behind second' });
  expect((await first.participants()).map((p) => p.id)).toEqual(['second', 'first']);
});

test("requestStepDown: electLeader's leadership just ends, its node is gone; typed errors for nobody, no such id, not the leader", async () => {
  const path = uniquePath();
  await expect(requestStepDown(path, { connect: zk.connectString })).rejects.toMatchObject({ code: 'NO_LEADER' });
  const leadership: Leadership = await electLeader(path, { connect: zk.connectString, id: 'once' });
  await candidate(path, 'waiting');
  await expect(requestStepDown(path, { connect: zk.connectString, id: 'nobody' })).rejects.toMatchObject({ code: 'NO_PARTICIPANT' });
  await expect(requestStepDown(path, { connect: zk.connectString, id: 'waiting' })).rejects.toMatchObject({ code: 'NOT_LEADER' });
  const { next } = await requestStepDown(path, { connect: zk.connectString, id: 'once' });
  expect(next.id).toBe('waiting');
  expect((leadership.signal.reason as { reason: string }).reason).toBe('step-down');
});

test('requestStepDown reads what it needs once: a plain step-down the leader alone, a handoff every participant once', async () => {
  const path = uniquePath();
  const ids = Array.from({ length: 12 }, (_, i) => `p${i}`);
  for (const id of ids) await candidate(path, id);
  const counts = newCounts();
  const session = await Session.connect({ connect: zk.connectString, transport: countingTransport(counts) });
  cleanup.push(() => session.close());
  // A plain step-down: one listing and one read to find the leader, one read and one write for the
  // request, then the observer's reads of the next leader; never one read per participant.
  const plain = await requestStepDown(path, { connect: session });
  expect({ previous: plain.previous.id, next: plain.next.id }).toEqual({ previous: 'p0', next: 'p1' });
  const plainReads = counts.byOperation.get ?? 0;
  expect(plainReads).toBeLessThan(ids.length);
  // Listings: the one that finds the leader, and the observer's (one, two if it looked before the handover).
  const plainListings = counts.byOperation.getChildren ?? 0;
  expect(plainListings).toBeLessThanOrEqual(3);
  // A handoff to the next in line: one read of every participant (12), nothing more per participant.
  const before = counts.byOperation.get ?? 0;
  const handoff = await requestStepDown(path, { connect: session, to: 'p2' });
  expect({ previous: handoff.previous.id, next: handoff.next.id }).toEqual({ previous: 'p1', next: 'p2' });
  const handoffReads = (counts.byOperation.get ?? 0) - before;
  expect(handoffReads).toBeGreaterThanOrEqual(ids.length);
  expect(handoffReads).toBeLessThan(2 * ids.length);
  expect((counts.byOperation.getChildren ?? 0) - plainListings).toBeLessThanOrEqual(3);
});

test('CLI: leader --watch --json prints one object per change and null for none; step-down exits 1 on an empty election, 0 with the new leader', async () => {
  const path = uniquePath();
  const watch: TrackedProcess = await spawnTracked(process.execPath, [CLI, 'leader', path, '--watch', '--json', '--connect', zk.connectString]);
  await watch.waitForLine(/^null$/, 10_000);
  const empty = await runCli(['step-down', path, '--connect', zk.connectString]);
  expect(empty.code).toBe(1);
  expect(empty.stderr).toMatch(/no leader/);
  const first = await candidate(path, 'first');
  await watch.waitForLine(/"id":"first"/, 10_000);
  await candidate(path, 'second');
  const done = await runCli(['step-down', path, '--connect', zk.connectString]);
  expect(done).toMatchObject({ code: 0 });
  expect(done.stdout).toMatch(/^first stepped down; new leader second token \d+\n$/);
  await watch.waitForLine(/"id":"second"/, 10_000);
  await waitFor(() => first.state === 'waiting', { timeoutMs: 10_000, message: 'first to requeue' });
  await watch.stop('SIGINT');
  expect(watch.lines.map((line) => (JSON.parse(line) as { id?: string } | null)?.id ?? null)).toEqual([null, 'first', 'second']);
});

test('CLI: step-down of a frozen leader times out with exit 4; --force moves leadership', async () => {
  const path = uniquePath();
  const frozen = await spawnTracked(process.execPath, [PARTICIPANT, JSON.stringify({ connect: zk.connectString, path, id: 'frozen', sessionTimeout: 20_000 })], { stdin: 'pipe' });
  await frozen.waitForLine(/"event":"elected"/, 10_000);
  const waiting = await candidate(path, 'waiting');
  frozen.pause();
  const asked = await runCli(['step-down', path, '--connect', zk.connectString, '--timeout', '1500']);
  expect(asked.code).toBe(4);
  expect(asked.stderr).toMatch(/try --force/);
  const forced = await runCli(['step-down', path, '--connect', zk.connectString, '--id', 'frozen', '--force']);
  expect(forced.code).toBe(0);
  expect(forced.stdout).toMatch(/new leader waiting/);
  await waiting.waitForLeadership(AbortSignal.timeout(10_000));
  frozen.resume();
  const lost = JSON.parse(await frozen.waitForLine(/"event":"lost"/, 10_000)) as { reason: string };
  expect(lost.reason).toBe('node-deleted');
});

test('the observer ends with its signal and closes the session it opened', async () => {
  const path = uniquePath();
  const before = await liveSessions();
  const stop = new AbortController();
  const iterator = observeLeader(path, { connect: zk.connectString, signal: stop.signal });
  cleanup.push(async () => {
    stop.abort();
    await iterator.return?.();
  });
  expect((await iterator.next()).value).toBeUndefined();
  // The observer's session is the one the server did not have before it started.
  const opened = [...(await liveSessions())].filter((id) => !before.has(id));
  expect(opened).toHaveLength(1);
  stop.abort();
  expect(await iterator.next()).toEqual({ done: true, value: undefined });
  await waitFor(async () => !(await liveSessions()).has(opened[0]!), { timeoutMs: 5000, message: `the observer's session 0x${opened[0]} to be closed on the server` });
});
