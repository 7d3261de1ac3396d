/**
 * Figures 15-17, issue 13 §2 (a lean process): what `import 'zk-election'` costs over bare node, the
 * memory of a process with one participant against one that opened a session with the bare binding,
 * and how long Session.close() holds the event loop, with the server reachable and frozen.
 */
import { fileURLToPath } from 'node:url';
import { Session } from '../lib/index.js';
import { runToExit } from './child-run.js';
import { formatBytes, formatMs, summarize } from './stats.js';
import type { Context } from './context.js';
import { until } from './timing.js';

const CHILD = fileURLToPath(new URL('./lean-child.js', import.meta.url));

/** The package as a consumer imports it (its `exports`: the bundle). */
const PACKAGE_ENTRY = fileURLToPath(new URL('../bundle/index.js', import.meta.url));
const RUN_MS = 30_000;
const SERVING_MS = 10_000;

function runChild(args: string[]): Promise<{ wallMs: number; rss: number | undefined }> {
  return run(['--expose-gc', CHILD, ...args]);
}

async function run(nodeArgs: string[]): Promise<{ wallMs: number; rss: number | undefined }> {
  const { wallMs, stdout } = await runToExit(process.execPath, nodeArgs, { timeoutMs: RUN_MS, what: `node ${nodeArgs.join(' ')}` });
  const out = stdout.trim();
  const rss = out ? (JSON.parse(out.split('\n').pop()!) as { rss: number }).rss : undefined;
  return { wallMs, rss };
}

const median = (xs: number[]): number => summarize(xs).median;

export async function leanSection(ctx: Context): Promise<void> {
  await importFigure(ctx);
  await rssFigure(ctx);
  await closeFigure(ctx);
}

/** Pairs in turn, so that drift in the machine's speed hits both sides alike. */
async function importFigure(ctx: Context): Promise<void> {
  const pairs = ctx.plan.lean.importPairs;
  const deltas: number[] = [];
  const bare: number[] = [];
  const withImport: number[] = [];
  for (let i = 0; i < pairs + 2; i += 1) {
    // Bare node against node importing the package, nothing else in either.
    const a = await run(['-e', '']);
    const b = await run(['--input-type=module', '-e', `await import(${JSON.stringify(PACKAGE_ENTRY)})`]);
    if (i < 2) continue; // warm the file cache
    bare.push(a.wallMs);
    withImport.push(b.wallMs);
    deltas.push(b.wallMs - a.wallMs);
  }
  const delta = median(deltas);
  ctx.report.distribution(
    {
      figure: "15 import 'zk-election'",
      setting: "node importing the package's bundle, minus bare `node -e ''`, pair by pair",
      unit: 'ms',
      note: `bare node ${formatMs(median(bare))}, with the import ${formatMs(median(withImport))} (medians; spawn to exit, both started through spawnClean's bash)`,
      target: '<= 15 ms over bare node (median)',
      met: delta <= 15 ? 'yes' : 'no',
    },
    deltas,
    formatMs,
  );
}

async function rssFigure(ctx: Context): Promise<void> {
  const trials = ctx.plan.lean.rssTrials;
  const library: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < trials; i += 1) {
    library.push((await runChild(['participant', ctx.connect])).rss!);
    raw.push((await runChild(['raw', ctx.connect])).rss!);
  }
  const over = median(library) - median(raw);
  ctx.report.distribution(
    {
      figure: '16 RSS, one participant',
      setting: 'an Election on its own session, after a GC',
      unit: 'bytes',
      note: `bare binding with one session: ${formatBytes(median(raw))}; the library ${formatBytes(over)} more (medians)`,
      target: '<= 10 MiB over the bare binding',
      met: over <= 10 * 1024 * 1024 ? 'yes' : 'no',
      extra: { raw },
    },
    library,
    formatBytes,
  );
}

/** The event loop is held for as long as the native close runs: the time of the synchronous call. */
async function closeFigure(ctx: Context): Promise<void> {
  for (const frozen of [false, true]) {
    const sessions = await Promise.all(Array.from({ length: ctx.plan.lean.closeSessions }, () => Session.connect({ connect: ctx.connect, sessionTimeout: 10_000 })));
    const held: number[] = [];
    if (frozen) ctx.server.pause();
    try {
      for (const session of sessions) {
        const started = performance.now();
        void session.close();
        held.push(performance.now() - started);
      }
    } finally {
      if (frozen) ctx.server.resume();
    }
    ctx.report.distribution(
      {
        figure: '17 Session.close() holds the event loop',
        setting: frozen ? 'server frozen (SIGSTOP) at the close' : 'server reachable',
        unit: 'ms',
        note: frozen ? 'the C client used to wait 1.5 s here for the reply, per session' : '',
        target: 'a few ms (p99 <= 5 ms)',
        met: summarize(held).p99 <= 5 ? 'yes' : 'no',
      },
      held,
      formatMs,
    );
  }
  // The server was frozen last: see it serving again before going on.
  await until(async () => (await ctx.server.mode()) !== undefined, SERVING_MS, 'the server answering srvr after its SIGCONT');
}
