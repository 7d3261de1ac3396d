/**
 * Figure 19, issue 20: what a long-lived process keeps of each churn (heap after forced GCs and
 * RSS, per 1,000 cycles), each churn measured in a fresh process (spec/support/churn-child.ts) from
 * a warm baseline. Also the runner of bench/leak-table.ts, the before/after table.
 */
import { fileURLToPath } from 'node:url';
import { CHURN_TITLES, type ChurnName } from '../spec/support/churn.js';
import type { ChurnChildConfig, ChurnLine } from '../spec/support/churn-child.js';
import { runToExit } from './child-run.js';
import type { Context } from './context.js';
import { formatBytes } from './stats.js';

const CHILD = fileURLToPath(new URL('../spec/support/churn-child.js', import.meta.url));

/** Runs `runs` in one child process (node --expose-gc) and returns its lines, one per churn. */
export async function runChurns(config: ChurnChildConfig, timeoutMs: number): Promise<ChurnLine[]> {
  const { stdout } = await runToExit(process.execPath, ['--expose-gc', CHILD, JSON.stringify(config)], { timeoutMs, what: `churn child (${config.runs.map((r) => r.churn).join(', ')})` });
  const lines = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as ChurnLine | { event: 'error'; message: string });
  const failed = lines.find((line) => line.event === 'error');
  if (failed) throw new Error(`churn child failed: ${(failed as { message: string }).message}`);
  return lines as ChurnLine[];
}

/**
 * Growth from the warm baseline over the whole run, and the rate per 1,000 cycles over its second
 * half: code the JIT compiles during the first cycles and V8 growing its young generation are a
 * step, not a rate.
 */
export function growth(line: ChurnLine): { heap: number; rss: number; heapPer1000: number; rssPer1000: number } {
  const half = line.cycles - Math.floor(line.cycles / 2);
  return {
    heap: line.after.heap - line.before.heap,
    rss: line.after.rss - line.before.rss,
    heapPer1000: ((line.after.heap - line.mid.heap) / half) * 1000,
    rssPer1000: ((line.after.rss - line.mid.rss) / half) * 1000,
  };
}

/** What else did not come back: descriptors, handles, the server's watches and ephemerals. */
export function leftovers(line: ChurnLine): string {
  const { before, after } = line;
  const handles = (h: Record<string, number>): number => Object.values(h).reduce((a, b) => a + b, 0);
  const diffs = [
    ['descriptors', after.fds - before.fds],
    ['handles', handles(after.handles) - handles(before.handles)],
    ['server watches', after.watches - before.watches],
    ['ephemerals', after.ephemerals - before.ephemerals],
  ] as const;
  const off = diffs.filter(([, d]) => d !== 0).map(([what, d]) => `${what} ${d > 0 ? '+' : ''}${d}`);
  return off.length ? off.join(', ') : 'descriptors, handles, server watches and ephemerals back to baseline';
}

/** One run per churn, a fifth of its cycles more as warm-up. */
export const BENCH_CYCLES: Readonly<Record<ChurnName, number>> = { elections: 2000, requeue: 2000, 'elect-leader': 1000, observers: 2000, waiting: 2000 };

export async function churnSection(ctx: Context): Promise<void> {
  const scale = ctx.plan.churnScale;
  for (const [churn, full] of Object.entries(BENCH_CYCLES) as Array<[ChurnName, number]>) {
    const cycles = Math.max(10, Math.round(full * scale));
    ctx.progress(`churn ${churn}: ${cycles} cycles after ${Math.round(cycles / 4)} of warm-up, in a fresh process`);
    const [line] = await runChurns({ connect: ctx.connect, port: ctx.server.clientPort, path: '/bench/churn', runs: [{ churn, warmup: Math.round(cycles / 4), cycles }] }, 600_000);
    const g = growth(line!);
    ctx.report.single({
      figure: '19 churn: heap per 1,000 cycles',
      setting: CHURN_TITLES[churn],
      unit: 'bytes',
      trials: cycles,
      value: formatBytes(g.heapPer1000),
      note: `heap used after 3 forced GCs, over the second half of the cycles; ${formatBytes(g.heap)} from the warm baseline over all ${cycles} (${(line!.ms / cycles).toFixed(1)} ms a cycle); ${leftovers(line!)}`,
      target: 'no growth: <= 1 MiB over the run',
      met: g.heap <= 1024 * 1024 ? 'yes' : 'no',
      extra: { churn, cycles, before: line!.before, after: line!.after },
    });
    ctx.report.single({
      figure: '19 churn: RSS per 1,000 cycles',
      setting: CHURN_TITLES[churn],
      unit: 'bytes',
      trials: cycles,
      value: formatBytes(g.rssPer1000),
      note: `over the second half of the cycles; ${formatBytes(g.rss)} from the warm baseline over all ${cycles} (V8's young generation grows to its cap early, then stays)`,
      extra: { churn, cycles },
    });
  }
}
