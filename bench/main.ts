/**
 * `npm run bench`: the figures of issues 5, 12, 13 and 20 against a real local ZooKeeper, as a table
 * on stdout.
 *
 *   node dist/bench/main.js [--quick] [--json FILE] [--only SECTION,...]
 *
 * Progress goes to stderr. Every process and server it starts is stopped on the way out,
 * also on Ctrl-C. Benchmarks are not tests: nothing here fails on a slow figure; the table says
 * next to each target of the issue whether it is met.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startZooKeeper, type LocalEnsemble } from '../lib/testing/index.js';
import { describeMachine, headerLines } from './machine.js';
import { RawClient } from './raw-client.js';
import { Report } from './report.js';
import { churnSection } from './churn.js';
import { leanSection } from './lean.js';
import { tlsSection } from './tls.js';
import { stormSection } from './population-sections.js';
import { massFailoverSection, observerSection, serverCostSection } from './scale-sections.js';
import { cliSection, exitSection, failoverSection, handoffSection, runLeaseSection } from './sections.js';
import type { Context, Plan } from './context.js';
import { formatMs } from './stats.js';
import { now, within } from './timing.js';
import { killAllWorkers, onWorkerWarning } from './workers.js';

const TICK_MS = 200;

const FULL: Plan = {
  warmup: 60,
  failover: [[2, 30], [10, 30], [100, 30], [1000, 20]],
  storm: [[100, 6], [1000, 3]],
  herdTrials: 5,
  herdSizes: [10, 100, 1000],
  footprintAt: 1000,
  footprintWindows: 5,
  footprintWindowMs: 2000,
  sigterm: 15,
  crash: [
    { sessionTimeout: 1000, rounds: 3, pairs: 4 },
    { sessionTimeout: 4000, rounds: 2, pairs: 4 },
  ],
  cli: { nodes: 10_000, trials: 5 },
  runLease: { sessionTimeout: 2000, trials: 6 },
  mass: {
    sessionTimeout: 4000,
    sizes: [
      { e: 100, sigterm: 5, kill: 3, sessionClose: 3 },
      { e: 1000, sigterm: 5, kill: 3, sessionClose: 3 },
    ],
    targetAt: 1000,
  },
  observers: { observers: 10, changes: 20, warmup: 3, stepDownLibrary: 10, stepDownCli: 3 },
  lean: { importPairs: 15, rssTrials: 5, closeSessions: 10 },
  cost: { elections: 100, capacityReads: 20_000, capacityWrites: 5000 },
  handoff: [[3, 20], [10, 10], [100, 3]],
  churnScale: 1,
  tls: { opens: 60, handovers: 60, warmup: 20 },
};

const QUICK: Plan = {
  warmup: 20,
  failover: [[2, 8], [10, 8], [100, 8]],
  storm: [[100, 2]],
  herdTrials: 3,
  herdSizes: [10, 100],
  footprintAt: 100,
  footprintWindows: 2,
  footprintWindowMs: 1000,
  sigterm: 4,
  crash: [{ sessionTimeout: 1000, rounds: 1, pairs: 2 }],
  cli: { nodes: 2000, trials: 2 },
  runLease: { sessionTimeout: 2000, trials: 2 },
  mass: { sessionTimeout: 4000, sizes: [{ e: 100, sigterm: 2, kill: 1, sessionClose: 1 }], targetAt: 1000 },
  observers: { observers: 10, changes: 8, warmup: 2, stepDownLibrary: 4, stepDownCli: 1 },
  lean: { importPairs: 5, rssTrials: 2, closeSessions: 5 },
  cost: { elections: 50, capacityReads: 5000, capacityWrites: 2000 },
  handoff: [[3, 5], [10, 3]],
  churnScale: 0.25,
  tls: { opens: 10, handovers: 8, warmup: 5 },
};

/** The sections in the order they run; `--only` picks some of them by name. */
const SECTIONS: Array<[name: string, run: (ctx: Context) => Promise<void>]> = [
  ['failover', failoverSection],
  ['storm', stormSection],
  ['exits', exitSection],
  ['cli', cliSection],
  ['run-lease', runLeaseSection],
  ['mass', massFailoverSection],
  ['observers', observerSection],
  ['cost', serverCostSection],
  ['lean', leanSection],
  ['handoff', handoffSection],
  ['churn', churnSection],
  ['tls', tlsSection],
];

const USAGE = `Usage: npm run bench -- [--quick] [--json FILE] [--only SECTION,...]

  --quick        fewer trials and smaller sizes: a smoke run
  --json FILE    also write every figure, with its samples, to FILE
  --only LIST    run only these sections, in their usual order: ${SECTIONS.map(([name]) => name).join(', ')}
`;

const progress = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

let ensemble: LocalEnsemble | undefined;
let admin: RawClient | undefined;

async function cleanup(): Promise<void> {
  killAllWorkers();
  admin?.close();
  admin = undefined;
  await ensemble?.stop().catch(() => {});
}

function onSignal(signal: NodeJS.Signals): void {
  progress(`${signal}: stopping workers and ZooKeeper`);
  const code = signal === 'SIGINT' ? 130 : 143;
  setTimeout(() => process.exit(code), 15_000).unref();
  void cleanup().finally(() => process.exit(code));
}

async function run(options: { quick: boolean; json: string | undefined; only: string[] | undefined }): Promise<void> {
  const plan = options.quick ? QUICK : FULL;
  const started = now();
  progress('starting a standalone ZooKeeper');
  ensemble = await startZooKeeper({ servers: 1, tickTime: TICK_MS });
  const server = ensemble.servers[0]!;
  const machine = await describeMachine(server);
  admin = await RawClient.connect(ensemble.connectString, 20_000);
  const report = new Report();
  const ctx: Context = { connect: ensemble.connectString, server, tickTime: machine.tickTime, admin, report, plan, progress };
  for (const [name, section] of SECTIONS) {
    if (!options.only || options.only.includes(name)) await section(ctx);
  }
  const runtime = now() - started;
  const flags = [...(options.quick ? ['--quick'] : []), ...(options.only ? ['--only', options.only.join(',')] : [])];
  const command = `npm run bench${flags.length ? ` -- ${flags.join(' ')}` : ''}`;
  const header = [...headerLines(machine, options.quick ? 'quick' : 'full', command), `runtime ${formatMs(runtime)}`];
  process.stdout.write(report.render(header));
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify({ machine, mode: options.quick ? 'quick' : 'full', runtimeMs: runtime, plan, figures: report.figures }, null, 2)}\n`);
    progress(`wrote ${options.json}`);
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'string' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = values.only?.split(',').map((name) => name.trim());
  const unknown = only?.filter((name) => !SECTIONS.some(([known]) => known === name)) ?? [];
  if (unknown.length) {
    process.stderr.write(`bench: unknown section ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const warned = new Set<string>();
  onWorkerWarning((warning) => {
    if (!warned.has(warning)) progress(`a worker raised a process warning (shown once): ${warning}`);
    warned.add(warning);
  });
  try {
    await run({ quick: values.quick ?? false, json: values.json, only });
    return 0;
  } catch (error) {
    progress(`failed: ${(error as Error).stack ?? String(error)}`);
    return 1;
  } finally {
    await within(cleanup(), 20_000, 'cleanup').catch((error: Error) => progress(error.message));
  }
}

// Exit explicitly: after a failure a session left open on an error path would keep the process
// alive (the binding's timer is ref'd) after the bounded clean-up above.
process.exit(await main());
