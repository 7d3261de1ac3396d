/**
 * Stress run for the native client's abort after a pause (issue 14), not part of `npm test`.
 *
 *   npm run stress-native -- [--cycles N] [--minutes M] [--victims V] [--session-timeout MS]
 *                            [--seed S] [--out DIR] [--stop-at-first] [--keep-cores]
 *
 * A local 3-server ensemble; V victim processes (victim.ts), each holding many native handles.
 * Each victim is paused (SIGSTOP) past its session timeout and resumed (SIGCONT) again and again:
 * one such pause is a cycle. Meanwhile ZooKeeper servers are killed and restarted, or paused, so
 * that handles reconnect to other servers. A victim that dies on its own is counted, its stderr
 * kept, and the backtrace of its core file read with gdb (victims run with an unlimited core size
 * in a directory of their own); then a fresh victim takes its slot. The run ends after N cycles
 * or M minutes (whichever first), or at the first death with --stop-at-first; it exits 1 if any
 * victim died. Everything goes to DIR (default: a new directory in the temporary directory).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startZooKeeper, type LocalEnsemble } from '../../lib/testing/index.js';
import { chooseSeed, Random } from '../../spec/chaos/schedule.js';
import { killAllTracked } from '../../spec/support/processes.js';
import { readBacktrace } from './backtrace.js';
import { serverFaults } from './server-faults.js';
import { Victims, type Death } from './victims.js';

const VICTIM = fileURLToPath(new URL('./victim.js', import.meta.url));

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '300' },
    minutes: { type: 'string', default: '60' },
    victims: { type: 'string', default: '3' },
    'session-timeout': { type: 'string', default: '1000' },
    seed: { type: 'string' },
    out: { type: 'string' },
    'stop-at-first': { type: 'boolean', default: false },
    'keep-cores': { type: 'boolean', default: false },
  },
});

function positive(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`--${name} must be a positive number, got ${text}`);
  return value;
}

const cycles = positive('cycles', values.cycles);
const minutes = positive('minutes', values.minutes);
const victimCount = positive('victims', values.victims);
const sessionTimeout = positive('session-timeout', values['session-timeout']);
const seed = chooseSeed({ CHAOS_SEED: values.seed });
const out = values.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'zk-election-native-abort-'));
fs.mkdirSync(out, { recursive: true });

const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const print = (text: string): void => void process.stderr.write(`${text}\n`);

print(`native-abort stress: seed ${seed}, up to ${cycles} cycles or ${minutes} min, ${victimCount} victims, session timeout ${sessionTimeout} ms, output in ${out}`);
const random = new Random(seed);
const ensemble: LocalEnsemble = await startZooKeeper({ servers: 3, tickTime: 200, maxSessionTimeout: 20_000 });
print(`ensemble up at ${ensemble.connectString}`);

const deaths: Array<Death & { backtraceFile: string; frames: string[]; core: string | undefined }> = [];
const victims = new Victims({
  script: VICTIM,
  dir: out,
  victim: { connect: ensemble.connectString, path: '/stress/native-abort', sessionTimeout, ownSessions: 3, sharedElections: 4, churnMs: 700 },
  random,
  onDeath: async (death) => {
    const bt = await readBacktrace(process.execPath, death.dir, death.pid);
    const backtraceFile = path.join(out, `${death.name}.gdb.txt`);
    fs.writeFileSync(backtraceFile, bt.text);
    if (bt.core && !values['keep-cores']) fs.rmSync(bt.core, { force: true });
    deaths.push({ ...death, backtraceFile, frames: bt.frames, core: bt.core });
    const how = death.runawayRss === undefined ? (death.signal ?? `exit ${death.code}`) : `aborted by the watchdog at ${Math.round(death.runawayRss / 2 ** 20)} MiB resident`;
    print(`[${elapsed()}] ${death.name} (pid ${death.pid}) died: ${how}, ${Math.round(death.msSinceResume)} ms after its last SIGCONT, at cycle ${death.cycle}; stderr ${death.stderrFile}; backtrace ${backtraceFile}`);
    for (const line of [...death.stderrTail.slice(-3), ...bt.frames.slice(0, 12)]) print(`    ${line}`);
  },
});

const deadline = performance.now() + minutes * 60_000;
const enough = (): boolean => victims.cycles >= cycles || performance.now() >= deadline || (values['stop-at-first'] && deaths.length > 0);
let progress = 0;
const reporter = setInterval(() => {
  if (victims.cycles - progress < 50) return;
  progress = victims.cycles;
  print(`[${elapsed()}] ${victims.cycles} cycles, ${deaths.length} deaths, ${victims.serverFaults} server faults`);
}, 1000);

let failure: unknown;
try {
  await victims.startAll(victimCount);
  await Promise.all([victims.run(enough), serverFaults(ensemble, random, victims, enough, print)]);
} catch (error) {
  failure = error;
} finally {
  clearInterval(reporter);
  await victims.stopAll();
  await killAllTracked();
  await ensemble.stop();
}

const summary = {
  seed,
  sessionTimeout,
  victims: victimCount,
  cycles: victims.cycles,
  serverFaults: victims.serverFaults,
  seconds: Math.round((performance.now() - started) / 1000),
  deaths: deaths.map(({ dir: _dir, ...death }) => death),
  firstDeathAtCycle: deaths[0]?.cycle,
  stats: victims.totals(),
  failure: failure === undefined ? undefined : String((failure as Error).stack ?? failure),
};
fs.writeFileSync(path.join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
print(`native-abort stress: ${summary.cycles} cycles in ${summary.seconds} s, ${summary.serverFaults} server faults, ${deaths.length} deaths` +
  `${deaths.length > 0 ? ` (first at cycle ${summary.firstDeathAtCycle}; ${deaths.map((d) => d.signal ?? `exit ${d.code}`).join(', ')})` : ''}; ` +
  `victims' sessions: ${JSON.stringify(summary.stats)}; summary ${path.join(out, 'summary.json')}`);
if (failure !== undefined) print(`run failed: ${summary.failure}`);
process.exit(failure !== undefined || deaths.length > 0 ? 1 : 0);
