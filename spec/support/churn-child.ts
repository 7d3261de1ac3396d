/**
 * Runs churns of issue 20 in a process of their own and reports what stayed behind.
 * Usage: node --expose-gc dist/spec/support/churn-child.js '<ChurnChildConfig as JSON>'
 *
 * For each churn: a shared Session, `warmup` cycles, a settled sample (the warm baseline), `cycles`
 * cycles more with a sample halfway, a sample once descriptors, handles and the server's counts are
 * back (bounded), and one JSON line on stdout: {"event":"churn", churn, warmup, cycles, ms, before,
 * mid, after}. With
 * `snapshotDir`, a heap snapshot is written beside each sample (<churn>-before/after.heapsnapshot)
 * for bench/heap-retainers.ts. Errors print {"event":"error"} and exit 1.
 */
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { Session } from 'zk-election';
import { openChurn, sample, settledSample, type ChurnName, type Sample } from './churn.js';

export interface ChurnChildConfig {
  connect: string;
  /** The client port of the (only) server, for `mntr`. */
  port: number;
  /** Each churn runs under `${path}/${churn}`. */
  path: string;
  runs: Array<{ churn: ChurnName; warmup: number; cycles: number }>;
  snapshotDir?: string;
}

export interface ChurnLine {
  event: 'churn';
  churn: ChurnName;
  warmup: number;
  cycles: number;
  /** Wall time of the measured cycles. */
  ms: number;
  before: Sample;
  /** After the first half of the cycles: the second half's growth is the rate, JIT warm-up aside. */
  mid: Sample;
  after: Sample;
}

const SETTLE_MS = 10_000;
const config = JSON.parse(process.argv[2] ?? '{}') as ChurnChildConfig;
const say = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

function snapshot(churn: ChurnName, when: 'before' | 'after'): void {
  if (config.snapshotDir) writeHeapSnapshot(path.join(config.snapshotDir, `${churn}-${when}.heapsnapshot`));
}

async function run(churn: ChurnName, warmup: number, cycles: number): Promise<ChurnLine> {
  const session = await Session.connect({ connect: config.connect });
  try {
    const handle = await openChurn(churn, { connect: config.connect, session, path: `${config.path}/${churn}` });
    try {
      for (let i = 0; i < warmup; i += 1) await handle.cycle();
      const before = await settledSample(config.port, undefined, SETTLE_MS);
      snapshot(churn, 'before');
      let ms = 0;
      const run = async (n: number): Promise<void> => {
        const started = performance.now();
        for (let i = 0; i < n; i += 1) await handle.cycle();
        ms += performance.now() - started;
      };
      await run(Math.floor(cycles / 2));
      const mid = await settledSample(config.port, before, SETTLE_MS);
      await run(cycles - Math.floor(cycles / 2));
      const after = await settledSample(config.port, before, SETTLE_MS);
      snapshot(churn, 'after');
      return { event: 'churn', churn, warmup, cycles, ms, before, mid, after };
    } finally {
      await handle.close();
    }
  } finally {
    await session.close();
  }
}

try {
  // One look before anything runs: the JIT and the binding's first load are not what we measure.
  await sample(config.port);
  for (const { churn, warmup, cycles } of config.runs) say(await run(churn, warmup, cycles));
  process.exit(0);
} catch (error) {
  say({ event: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
}
