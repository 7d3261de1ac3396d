/**
 * Moving leadership on purpose (issue 21) on a real 3-node ensemble: a handoff among 100
 * candidates, a handoff between `zk-election run` sidecars (their commands never overlap), a
 * target that goes away half-way (a normal succession, exit 5), and a preferred candidate that
 * restarts three times and gets leadership back each time once settled. Every test checks, at
 * each election, that no other participant's leadership was still valid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Election, isZkElectionError, listParticipants, requestStepDown, Session } from 'zk-election';
import { CLI, runCli } from '../support/cli.js';
import { JOB_START, JobSampler, leaseJob, overlaps, parseJobStart } from '../support/lease-job.js';
import { killAllTracked, spawnTracked, waitFor, type TrackedProcess } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 3 });
const WAIT_MS = 30_000;

/** Elections in this process, each on a session of its own, with the terms they began. */
class Field {
  readonly elections = new Map<string, Election>();
  readonly sessions: Session[] = [];
  readonly terms: Array<{ id: string; token: bigint }> = [];
  readonly overlaps: string[] = [];
  constructor(readonly path: string) {}

  async join(id: string, options: { priority?: number; preferAfter?: number } = {}): Promise<Election> {
    const session = await Session.connect({ connect: zk.connectString, sessionTimeout: 4000 });
    this.sessions.push(session);
    const election = new Election(this.path, { connect: session, id, ...options });
    election.on('elected', (leadership) => {
      this.terms.push({ id, token: leadership.token });
      for (const other of this.elections.values()) if (other !== election && other.leadership?.isValid()) this.overlaps.push(`${id} elected while ${other.id} led`);
    });
    this.elections.set(id, election);
    await election.start();
    return election;
  }

  async order(): Promise<string[]> {
    return (await listParticipants(this.path, { connect: zk.connectString })).map((p) => p.id);
  }

  leader(): string | undefined {
    return [...this.elections.values()].find((e) => e.isLeader)?.id;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.elections.values()].map((e) => e.close()));
    await Promise.allSettled(this.sessions.map((s) => s.close()));
  }
}

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  await Promise.allSettled(cleanup.splice(0).map((fn) => fn()));
  await killAllTracked();
});

function field(): Field {
  const f = new Field(uniquePath());
  cleanup.push(() => f.close());
  return f;
}

test('handoff among 100 candidates: the named one leads next, nobody else in between, the other 98 keep their order behind it', async () => {
  const f = field();
  const ids = Array.from({ length: 100 }, (_, i) => `c${String(i).padStart(3, '0')}`);
  for (const id of ids) await f.join(id);
  expect(await f.order()).toEqual(ids);
  const target = 'c060';
  const before = f.terms.length;
  const started = performance.now();
  const { previous, next } = await requestStepDown(f.path, { connect: zk.connectString, to: target, timeout: WAIT_MS });
  const took = performance.now() - started;
  expect([previous.id, next.id]).toEqual(['c000', target]);
  await waitFor(() => f.leader() === target, { timeoutMs: WAIT_MS, message: `${target} to lead` });
  expect(f.terms.slice(before).map((t) => t.id)).toEqual([target]);
  await waitFor(async () => (await f.order()).length === 100, { timeoutMs: WAIT_MS, message: 'every candidate back in the queue' });
  expect(await f.order()).toEqual([target, ...ids.filter((id) => id !== target && id !== 'c000'), 'c000']);
  expect(f.overlaps).toEqual([]);
  process.stderr.write(`handoff among 100 candidates (98 requeues): request -> ${target} leads in ${took.toFixed(0)} ms\n`);
}, 120_000);

test('handoff between run sidecars whose command takes 2 s to stop: step-down --to names the next leader, the commands never overlap', async () => {
  const path = uniquePath();
  const dir = mkdtempSync(join(tmpdir(), 'zk-handoff-'));
  const runs: TrackedProcess[] = [];
  const sampler = new JobSampler(() => runs);
  cleanup.push(() => sampler.stop(), () => rmSync(dir, { recursive: true, force: true }));
  const spawn = async (id: string): Promise<TrackedProcess> => {
    const run = await spawnTracked(process.execPath, [CLI, 'run', path, '--id', id, '--connect', zk.connectString, '--session-timeout', '10000', '--', ...leaseJob(join(dir, 'state'), 'slow')]);
    runs.push(run);
    await waitFor(async () => (await listParticipants(path, { connect: zk.connectString })).some((p) => p.id === id), { timeoutMs: WAIT_MS, message: `${id} to join` });
    return run;
  };
  const a = await spawn('hs-a');
  const first = parseJobStart(await a.waitForLine(JOB_START, WAIT_MS));
  await spawn('hs-b');
  const c = await spawn('hs-c');
  const stepped = await runCli(['step-down', path, '--to', 'hs-c', '--connect', zk.connectString]);
  expect(stepped).toMatchObject({ code: 0, stdout: expect.stringMatching(/^hs-a stepped down; new leader hs-c token \d+\n$/) });
  const next = parseJobStart(await c.waitForLine(JOB_START, WAIT_MS));
  expect(next.id).toBe('hs-c');
  expect(next.token).toBeGreaterThan(first.token);
  expect(a.lines).toContain(`JOB term pid=${first.processes[0]!.pid}`);
  // The new copy found the old one gone at its start; the sampler never saw two.
  expect(overlaps(runs)).toEqual([]);
  expect(sampler.maxAlive).toBe(1);
  await waitFor(async () => (await listParticipants(path, { connect: zk.connectString })).map((p) => p.id).join() === 'hs-c,hs-b,hs-a', {
    timeoutMs: WAIT_MS,
    message: 'hs-b and hs-a behind hs-c, in their order',
  });
}, 90_000);

test('the target leaves half-way: the leader still steps down, its successor leads, step-down --to exits 5', async () => {
  const f = field();
  for (const id of ['L', 'A', 'B', 'T']) await f.join(id);
  const a = f.elections.get('A')!;
  const originalNode = a.node;
  // T leaves the moment A has requeued (the first step of the handoff).
  a.on('waiting', (info) => {
    if (info.node !== originalNode) void f.elections.get('T')!.close();
  });
  const stepped = await runCli(['step-down', f.path, '--to', 'T', '--connect', zk.connectString, '--timeout', String(WAIT_MS)]);
  expect(stepped.code).toBe(5);
  expect(stepped.stderr).toMatch(/participant "T" left before it could lead .*; "(B|A)" leads instead \[HANDOFF_TARGET_GONE\]/);
  await waitFor(() => f.leader() !== undefined && f.leader() !== 'L', { timeoutMs: WAIT_MS, message: 'a normal successor to lead' });
  expect(f.terms.map((t) => t.id)).not.toContain('T');
  expect(f.overlaps).toEqual([]);
}, 60_000);

test('the library: a target whose session expires half-way ends in HANDOFF_TARGET_GONE and one leader', async () => {
  const { expireSession } = await import('zk-election/testing');
  const f = field();
  for (const id of ['L', 'A', 'B', 'T']) await f.join(id);
  const a = f.elections.get('A')!;
  const originalNode = a.node;
  const t = f.elections.get('T')!;
  let expiring: Promise<void> | undefined;
  a.on('waiting', (info) => {
    if (info.node !== originalNode) expiring ??= expireSession(t.session!);
  });
  const error = await requestStepDown(f.path, { connect: zk.connectString, to: 'T', timeout: WAIT_MS }).then(
    () => undefined,
    (e: unknown) => e,
  );
  await expiring;
  // Either the expiry came before the leader stepped down (TARGET_GONE), or it came too late to
  // matter and T led: both are a single leader at a time.
  if (error !== undefined) expect(isZkElectionError(error, 'HANDOFF_TARGET_GONE')).toBe(true);
  else expect(f.terms.map((term) => term.id)).toContain('T');
  expect(f.overlaps).toEqual([]);
}, 60_000);

test('a preferred candidate that restarts three times gets leadership back each time, once it has waited preferAfter', async () => {
  const f = field();
  const preferAfter = 1000;
  await f.join('low');
  for (let restart = 0; restart < 3; restart += 1) {
    const preferred = await f.join('high', { priority: 5, preferAfter });
    await waitFor(() => f.leader() === 'high', { timeoutMs: WAIT_MS, message: `the preferred candidate to take over (restart ${restart})` });
    expect(preferred.isLeader).toBe(true);
    // It restarts: leadership fails over to the less preferred one.
    await preferred.close();
    f.elections.delete('high');
    await waitFor(() => f.leader() === 'low', { timeoutMs: WAIT_MS, message: 'the failover to the less preferred candidate' });
  }
  expect(f.terms.map((t) => t.id)).toEqual(['low', 'high', 'low', 'high', 'low', 'high', 'low']);
  const tokens = f.terms.map((t) => t.token);
  expect(tokens).toEqual([...tokens].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
  expect(f.overlaps).toEqual([]);
}, 90_000);
