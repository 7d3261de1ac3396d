/**
 * `zk-election demo` as a newcomer runs it: the whole story to the end, and Ctrl-C in the middle;
 * either way nothing it started is left running. The demo starts its own 3-node ensemble, so this
 * file needs no shared server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../support/cli.js';
import { descendantsOf, isAlive, killAllTracked, spawnTracked, waitFor, type TrackedProcess } from '../support/processes.js';

/** Every process seen below a demo, so that a failing test still kills what the demo left. */
const seen = new Set<number>();
let watcher: NodeJS.Timeout | undefined;
/** The demo's TMPDIR: where its ensemble keeps configs, data and logs; empty again once it is done. */
let tmp: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-election-demo-test-'));
});

afterEach(async () => {
  clearInterval(watcher);
  await killAllTracked();
  for (const pid of seen) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  seen.clear();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function demo(...args: string[]): Promise<TrackedProcess> {
  const child = await spawnTracked(process.execPath, [CLI, 'demo', ...args], { env: { ...process.env, TMPDIR: tmp } });
  // Participants run in their own process groups, so the tree is read from /proc, not from a group.
  watcher = setInterval(() => {
    for (const pid of descendantsOf(child.pid)) seen.add(pid);
  }, 100);
  return child;
}

async function expectNothingLeft(minimumSeen: number): Promise<void> {
  clearInterval(watcher);
  expect(seen.size).toBeGreaterThanOrEqual(minimumSeen);
  await waitFor(() => [...seen].every((pid) => !isAlive(pid)), { timeoutMs: 10_000, message: 'every process the demo started to exit' });
  expect(fs.readdirSync(tmp)).toEqual([]);
}

test('the demo tells the whole story and leaves nothing running', async () => {
  const child = await demo('--participants', '3', '--session-timeout', '1000');
  const exit = await child.waitForExit(120_000);
  const output = child.lines.join('\n');
  expect({ exit, stderr: child.errorLines.join('\n') }).toEqual({ exit: { code: 0, signal: null }, stderr: '' });
  expect(output).toMatch(/ensemble up at 127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+/);
  expect(output).toContain('Everyone has joined');
  const failovers = [...output.matchAll(/new leader (participant-\d+) with token (\d+) > (\d+), after (\d+) ms/g)];
  expect(failovers).toHaveLength(2);
  for (const [, , next, previous] of failovers) expect(BigInt(next!)).toBeGreaterThan(BigInt(previous!));
  expect(output).toContain('session timeout 1000 ms');
  expect(output).toMatch(/stopped ZooKeeper server \d/);
  expect(output).toMatch(/the election carries on: participant-\d+ is (still|now) the leader/);
  expect(output).toContain('Done.');
  // Each table: a header and one row per participant, exactly one leader marked.
  const leaderRows = child.lines.filter((line) => /^\s+\*\s+participant-\d+/.test(line));
  expect(leaderRows.length).toBeGreaterThanOrEqual(4);
  await expectNothingLeft(6); // three JVMs and at least three participants
});

/** The ZooKeeper JVMs below `pid`. */
function jvmsOf(pid: number): number[] {
  return descendantsOf(pid).filter((child) => {
    try {
      return fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('org.apache.zookeeper');
    } catch {
      return false;
    }
  });
}

test.each([
  // The three JVMs launched and their directory made: the start is under way (or just done).
  ['while the ensemble starts', /Starting a local 3-node ZooKeeper ensemble/, (pid: number) => jvmsOf(pid).length === 3 && fs.readdirSync(tmp).length > 0, 3],
  ['once everyone has joined', /Everyone has joined/, () => true, 6],
])('Ctrl-C %s stops every process the demo started, removes its files and exits 130', async (_when, line, ready, minimumSeen) => {
  const child = await demo('--participants', '3');
  await child.waitForLine(line, 60_000);
  await waitFor(() => ready(child.pid), { timeoutMs: 30_000, message: 'the demo to reach the point of interruption' });
  for (const pid of descendantsOf(child.pid)) seen.add(pid);
  child.child.kill('SIGINT');
  const exit = await child.waitForExit(30_000);
  expect(exit).toEqual({ code: 130, signal: null });
  expect(child.lines.join('\n')).toContain('Interrupted (SIGINT)');
  expect(child.errorLines).toEqual([]);
  await expectNothingLeft(minimumSeen);
});
