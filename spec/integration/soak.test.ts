/**
 * Issue 20: nothing left behind. The four churns of the issue (elections opened and closed on a
 * shared session, a requeueing election resigned again and again, electLeader with a session of its
 * own, observers stopped after their first value) and a fifth (candidates that leave while waiting
 * behind a leader that stays, whose watch outlives them) run some thousands of cycles in a
 * child process (spec/support/churn-child.ts; node --expose-gc, which jest's own process does not
 * have), and what stayed after them is checked against a warm baseline taken after a quarter of
 * that many warm-up cycles: heap used after forced GCs at most 1 MiB above it (a correctness bound:
 * before the fix each churn kept 0.4 to 11 KiB per cycle, several MiB over these runs), and
 * descriptors, active handles and the server's watches and ephemeral nodes (`mntr`) back to it.
 */
import { fileURLToPath } from 'node:url';
import type { ChurnChildConfig, ChurnLine } from '../support/churn-child.js';
import { spawnTracked, type TrackedProcess } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const CHILD = fileURLToPath(new URL('../../dist/spec/support/churn-child.js', import.meta.url));
const RUN_MS = 120_000;
const HEAP_BOUND = 1024 * 1024;

/** Enough cycles that each churn's old retention (per cycle, measured) exceeds the bound well. */
const RUNS: ChurnChildConfig['runs'] = [
  { churn: 'elections', warmup: 250, cycles: 1000 },
  { churn: 'requeue', warmup: 250, cycles: 1000 },
  { churn: 'elect-leader', warmup: 50, cycles: 200 },
  { churn: 'observers', warmup: 1000, cycles: 4000 },
  { churn: 'waiting', warmup: 250, cycles: 1000 },
];

const zk = useZooKeeper({ servers: 1 });
let child: TrackedProcess | undefined;
afterEach(async () => {
  await child?.kill9();
});

/** Everything that did not come back to the baseline, in words; empty when nothing did. */
function leftBehind(line: ChurnLine): string[] {
  const { churn, cycles, before, after } = line;
  const found: string[] = [];
  const heap = after.heap - before.heap;
  if (heap > HEAP_BOUND) found.push(`${churn}: heap +${(heap / 1024).toFixed(0)} KiB after ${cycles} cycles (${(heap / cycles).toFixed(0)} B a cycle; bound ${HEAP_BOUND / 1024} KiB)`);
  if (after.fds > before.fds) found.push(`${churn}: ${after.fds - before.fds} more descriptors`);
  for (const [type, n] of Object.entries(after.handles)) {
    if (n > (before.handles[type] ?? 0)) found.push(`${churn}: ${n - (before.handles[type] ?? 0)} more active ${type}`);
  }
  if (after.watches !== before.watches) found.push(`${churn}: server watches ${before.watches} -> ${after.watches}`);
  if (after.ephemerals !== before.ephemerals) found.push(`${churn}: server ephemerals ${before.ephemerals} -> ${after.ephemerals}`);
  return found;
}

test(
  'elections, requeued terms, electLeader sessions, observers and waiting candidates churned by the thousand: heap, descriptors, handles, server watches and ephemerals back to the warm baseline',
  async () => {
    const config: ChurnChildConfig = { connect: zk.connectString, port: zk.ensemble.servers[0]!.clientPort, path: uniquePath('soak'), runs: RUNS };
    child = await spawnTracked(process.execPath, ['--expose-gc', CHILD, JSON.stringify(config)]);
    const exit = await child.waitForClose(RUN_MS);
    const output = `stdout:\n${child.lines.join('\n')}\nstderr:\n${child.errorLines.join('\n')}`;
    expect({ exit, output }).toEqual({ exit: { code: 0, signal: null }, output });
    const lines = child.lines.map((line) => JSON.parse(line) as ChurnLine);
    expect(lines.map((line) => line.churn)).toEqual(RUNS.map((run) => run.churn));
    // The server's counts are read: the observers' baseline holds their leader's node and a watch on it.
    const observers = lines.find((line) => line.churn === 'observers')!;
    expect({ ephemerals: observers.before.ephemerals >= 1, watches: observers.before.watches >= 1 }).toEqual({ ephemerals: true, watches: true });
    expect(lines.flatMap(leftBehind)).toEqual([]);
  },
  RUN_MS + 20_000,
);
