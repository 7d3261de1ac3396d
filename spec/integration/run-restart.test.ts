/**
 * `zk-election run` restarts a command that exits, backing off while it exits soon after starting,
 * and hands the term on after 5 quick exits in a row: against a real server, with a command that
 * cannot start (`/no/such/cmd`, exit 127) and a second candidate whose command works.
 */
import { rmSync } from 'node:fs';
import { CLI } from '../support/cli.js';
import { killAllTracked, spawnTracked, waitFor, type TrackedProcess } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
afterEach(killAllTracked);

interface LogLine {
  message: string;
  [field: string]: unknown;
}

const logOf = (proc: TrackedProcess): LogLine[] =>
  proc.errorLines.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return []; // the command's own stderr (setpriv: failed to execute ...)
    }
  });

function run(path: string, id: string, command: string[], args: string[] = []): Promise<TrackedProcess> {
  return spawnTracked(process.execPath, [CLI, 'run', path, '--id', id, '--connect', zk.connectString, '--log-format', 'json', '--metrics', '127.0.0.1:0', ...args, '--', ...command]);
}

async function restartsMetric(proc: TrackedProcess): Promise<number> {
  const url = logOf(proc).find((line) => line.message === 'serving metrics')?.url as string;
  const text = await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).text();
  return Number(/^zk_election_command_restarts_total (\d+)$/m.exec(text)?.[1]);
}

test('a command that cannot start is restarted after a doubling, capped delay, and after 5 quick exits the term goes to the next candidate', async () => {
  const path = uniquePath();
  const broken = await run(path, 'broken', ['/no/such/cmd'], ['--restart-delay', '200', '--restart-max-delay', '500']);
  await waitFor(() => logOf(broken).some((line) => line.message === 'elected; command started'), { timeoutMs: 15_000, message: 'broken to lead' });
  // A working candidate queues behind: it must get the term once broken hands it on.
  const working = await run(path, 'working', ['sh', '-c', 'echo "JOB id=$ZK_ELECTION_ID"; exec sleep 300']);
  await waitFor(() => logOf(working).some((line) => line.message === 'campaigning'), { timeoutMs: 15_000, message: 'working to join' });
  await working.waitForLine(/^JOB id=working$/, 30_000);

  const log = logOf(broken);
  const waits = log.filter((line) => /restarting it in/.test(line.message)).map((line) => Number(/in (\d+) ms/.exec(line.message)![1]));
  // The first wait may come before working joined, so count from broken's own log: 4 waits, then the hand-on.
  expect(waits.slice(0, 4)).toEqual([200, 400, 500, 500]);
  const handOn = log.find((line) => /handing the term on/.test(line.message));
  expect(handOn).toMatchObject({ quickExits: 5, restarts: 4, code: 127 });
  expect(log.filter((line) => line.message === 'command exited').every((line) => line.code === 127)).toBe(true);
  // One term for those five attempts, not one term each.
  expect(log.filter((line) => line.message === 'state' || /-> leading/.test(line.message)).length).toBe(1);
  expect(await restartsMetric(broken)).toBe(4);
  expect(await restartsMetric(working)).toBe(0);
});

test('a command that runs long enough is restarted at once, and its next quick exit waits only the first delay', async () => {
  const path = uniquePath();
  // Runs 10.5 s the first time (past the 10 s that make a run quick), then exits at once every time.
  const script = 'if [ ! -e "$MARK" ]; then touch "$MARK"; sleep 10.5; fi; echo "JOB ran"; exit 3';
  const mark = `/tmp/zk-election-restart-${process.pid}-${Date.now()}`;
  const proc = await spawnTracked(
    process.execPath,
    [CLI, 'run', path, '--id', 'slow', '--connect', zk.connectString, '--log-format', 'json', '--restart-delay', '300', '--restart-max-delay', '5000', '--', 'sh', '-c', script],
    { env: { ...process.env, MARK: mark } },
  );
  try {
    await waitFor(() => logOf(proc).filter((line) => /restarting/.test(line.message)).length >= 3, { timeoutMs: 40_000, message: 'three restarts' });
  } finally {
    rmSync(mark, { force: true });
  }
  const restarts = logOf(proc).filter((line) => /restarting/.test(line.message));
  expect(restarts.map((line) => line.message)).toEqual([
    'restarting the command',
    'the command exited soon after starting; restarting it in 300 ms',
    'the command exited soon after starting; restarting it in 600 ms',
  ]);
  expect(restarts.map((line) => line.quickExits)).toEqual([0, 1, 2]);
});
