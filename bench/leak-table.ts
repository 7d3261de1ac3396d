/**
 * Issue 20's table, measured again the same way: one process per row (node --expose-gc), a
 * standalone server, heap used after three forced GCs, the baseline after a warm-up fifth of the
 * cycles. Rerun it with
 *
 *   npm run build && npm run build:bench && node dist/bench/leak-table.js [--quick] [--snapshots DIR]
 *
 * --quick runs only the smaller size of each row. --snapshots DIR also writes a heap snapshot at
 * each row's baseline and end (smaller size only) for bench/heap-retainers.ts. Progress on stderr,
 * the table on stdout.
 */
import { parseArgs } from 'node:util';
import { startZooKeeper } from '../lib/testing/index.js';
import { CHURN_TITLES, type ChurnName } from '../spec/support/churn.js';
import { growth, leftovers, runChurns } from './churn.js';

/** The measured cycles per row, the smaller and the larger run; `waiting` is not in the issue. */
const SIZES: ReadonlyArray<[ChurnName, number, number]> = [
  ['elections', 1200, 4800],
  ['requeue', 1200, 4800],
  ['elect-leader', 160, 640],
  ['observers', 2400, 4800],
  ['waiting', 1200, 4800],
];

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, snapshots: { type: 'string' } } });
const progress = (line: string): void => void process.stderr.write(`[leak-table] ${line}\n`);
const mib = (bytes: number): string => `${bytes >= 0 ? '+' : ''}${(bytes / 1024 / 1024).toFixed(2)} MiB`;
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;

const ensemble = await startZooKeeper({ servers: 1 });
const server = ensemble.servers[0]!;
const rows: string[] = [];
const notes: string[] = [];
try {
  for (const [churn, small, large] of SIZES) {
    const sizes = values.quick ? [small] : [small, large];
    const lines = [];
    for (const cycles of sizes) {
      progress(`${churn}: ${cycles} cycles after ${cycles / 4} of warm-up`);
      const snapshotDir = values.snapshots && cycles === small ? values.snapshots : undefined;
      const [line] = await runChurns(
        { connect: ensemble.connectString, port: server.clientPort, path: `/leak-table/${churn}-${cycles}`, runs: [{ churn, warmup: cycles / 4, cycles }], ...(snapshotDir ? { snapshotDir } : {}) },
        900_000,
      );
      lines.push(line!);
      notes.push(`${churn} x ${cycles}: ${leftovers(line!)}; ${(line!.ms / cycles).toFixed(1)} ms a cycle`);
    }
    const g = lines.map(growth);
    const cell = (f: (x: (typeof g)[number], i: number) => string): string => g.map(f).join(' / ');
    rows.push(
      `| ${CHURN_TITLES[churn]} | ${sizes.map((n) => n.toLocaleString('en')).join(' / ')} | ${cell((x) => mib(x.heap))} | ${cell((x, i) => kib(x.heap / sizes[i]!))} | ${cell((x) => mib(x.rss))} |`,
    );
  }
} finally {
  await ensemble.stop();
}
process.stdout.write(
  [
    `node ${process.version}; one process per run; heap used after 3 forced GCs; baseline after a warm-up fifth of the cycles`,
    '',
    '| churn | cycles measured | heap growth | per cycle | RSS growth |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n'),
);
