/** The sections that run on populations: join storm (7), footprint (8), middle departure and wake-ups (3, 4). */
import type { LocalServer } from '../lib/testing/index.js';
import { countWatches, leaderChanges, middleDepartures, type HerdSample } from './herd.js';
import { Population } from './population.js';
import type { Verdict } from './report.js';
import type { Context } from './context.js';
import { formatBytes, formatMs, formatNumber, summarize } from './stats.js';
import { footprint, joinStorm, rawJoinStorm, STORM_PROCESSES, type StormSample } from './storm.js';

const ms = (value: number): string => formatMs(value);
const count = (value: number): string => formatNumber(value);

function exactly(expected: number, samples: HerdSample[]): Verdict {
  return samples.every((s) => s.others === expected) ? 'yes' : 'no';
}

/**
 * Every candidate watches its own node, and a waiting one its predecessor too: 2N-1 watches with
 * one session each. `wchc` lists a path once per session, so on one shared session every
 * candidate node appears once: N. None on the parent in either case (no herd).
 */
async function watchesRow(ctx: Context, population: Population, when: string): Promise<void> {
  const n = (await population.usage()).candidates;
  const watches = countWatches(await ctx.server.fourLetter('wchc'), population.options.path);
  const expected = population.options.shared ? n : 2 * n - 1;
  const met: Verdict = watches.onCandidates === expected && watches.onParent === 0 ? 'yes' : 'no';
  ctx.report.single({
    figure: '4 watches (wchc)',
    setting: `N=${n}, ${when}`,
    unit: 'watches',
    trials: 1,
    value: `${watches.onCandidates} / ${watches.onParent}`,
    note: `on candidate nodes / on the parent, held by ${watches.sessions} session(s): own node each, predecessor each but the leader (wchc lists a path once per session)`,
    target: `${population.options.shared ? 'N' : '2N-1'} / 0 = ${expected} / 0`,
    met,
    extra: { n, expected, ...watches },
  });
}

/** Figures 3 and 4 on a settled population with one session per candidate. */
async function herdSection(ctx: Context, population: Population): Promise<void> {
  const n = population.options.size;
  const trials = ctx.plan.herdTrials;
  ctx.progress(`herd figures at N=${n}: ${trials} leader changes, ${trials} middle departures`);
  await watchesRow(ctx, population, 'after the join');
  const changes = await leaderChanges(population, trials);
  const departures = await middleDepartures(population, trials);
  await watchesRow(ctx, population, `after ${trials} leader changes and ${trials} departures`);
  // A leader change wakes the successor, and by the new leader's announcement the one behind it.
  const rows: Array<[string, HerdSample[], string, number]> = [
    ['4 wake-ups per leader change', changes, `N=${n}: the leader resigns and requeues`, 2],
    ['3 middle departure', departures, `N=${n}: a waiting candidate in the middle closes`, 1],
  ];
  for (const [figure, samples, setting, expected] of rows) {
    const requests = summarize(samples.map((s) => s.requests));
    ctx.report.distribution(
      { figure, setting, unit: 'candidates', note: `other candidates that sent requests (the leader's keep-alive not counted); they sent ${count(requests.median)} (median)`, target: `exactly ${expected}`, met: exactly(expected, samples), extra: { requests: samples.map((s) => s.requests) } },
      samples.map((s) => s.others),
      count,
    );
  }
}

function stormRows(ctx: Context, shared: boolean, results: Array<[number, StormSample[]]>, rawStorms: Map<number, number[]>): void {
  const perCandidate = results.map(([, samples]) => summarize(samples.map((s) => s.requestsPerCandidate)).median);
  // Constant across N can only be judged with two sizes or more (the quick run has one).
  const constant = results.length < 2 ? undefined : Math.max(...perCandidate) - Math.min(...perCandidate) <= 0.1;
  for (const [n, samples] of results) {
    const requests = summarize(samples.map((s) => s.requestsPerCandidate)).median;
    const server = summarize(samples.map((s) => s.serverPacketsPerCandidate)).median;
    const ops = Object.entries(samples[0]?.byOperation ?? {}).map(([op, c]) => `${op} ${formatNumber(c / n)}`).join(', ');
    const bare = rawStorms.get(n);
    const vsBare = shared && bare ? `; ${(summarize(samples.map((s) => s.ms)).median / summarize(bare).median).toFixed(2)} x bare storm` : '';
    ctx.report.distribution(
      {
        figure: '7 join storm',
        setting: `N=${n}, ${shared ? 'one shared session, 1 process' : `one session each, ${STORM_PROCESSES} processes`}: start (connect included) -> all know their place`,
        unit: 'ms',
        note: `${formatNumber(requests)} requests/candidate (${ops}); server got ${formatNumber(server)} packets/candidate${vsBare}`,
        target: 'O(1) requests/candidate: the same at every N',
        met: constant === undefined ? '-' : constant ? 'yes' : 'no',
        extra: { n, shared, bare: shared ? bare : undefined, requests: samples.map((s) => s.requestsPerCandidate), serverPackets: samples.map((s) => s.serverPacketsPerCandidate), byOperation: samples.map((s) => s.byOperation) },
      },
      samples.map((s) => s.ms),
      ms,
    );
  }
}

async function footprintRows(ctx: Context, population: Population, how: string): Promise<void> {
  const { footprintWindows, footprintWindowMs } = ctx.plan;
  const n = population.options.size;
  ctx.progress(`footprint at N=${n}, ${how}: ${footprintWindows} windows of ${footprintWindowMs} ms`);
  const samples = await footprint(population, footprintWindows, footprintWindowMs);
  const setting = `N=${n}, ${how}`;
  const heap = summarize(samples.map((s) => s.heapPerCandidate)).median;
  ctx.report.distribution({ figure: '8 footprint: RSS/candidate', setting, unit: 'bytes', note: `JS heap ${formatBytes(heap)}/candidate; net of the idle workers` }, samples.map((s) => s.rssPerCandidate), formatBytes);
  const timers = summarize(samples.map((s) => s.timersPerCandidate)).median;
  ctx.report.distribution(
    { figure: '8 footprint: CPU/candidate', setting, unit: 'us/s', note: `CPU us per second per waiting candidate, net of the idle workers; ${formatNumber(timers, 3)} JS timers/candidate`, target: '0 timers/candidate', met: timers < 0.01 ? 'yes' : 'no' },
    samples.map((s) => s.cpuMicrosPerSecond),
    (v) => `${v.toFixed(2)} us/s`,
  );
}

async function serverReceived(server: LocalServer): Promise<number> {
  return Number(/^Received: (\d+)/m.exec(await server.fourLetter('srvr'))?.[1] ?? Number.NaN);
}

/** Figures 7, 8, and 3-4 on the populations the storms leave behind. */
export async function stormSection(ctx: Context): Promise<void> {
  const [smallest, ...onStorms] = [...ctx.plan.herdSizes].sort((a, b) => a - b);
  if (smallest !== undefined) await smallHerd(ctx, smallest);
  const rawStorms = new Map<number, number[]>();
  for (const shared of [false, true]) {
    const results: Array<[number, StormSample[]]> = [];
    for (const [n, trials] of ctx.plan.storm) {
      const samples: StormSample[] = [];
      for (let t = 0; t < trials; t += 1) {
        const last = t === trials - 1;
        samples.push(await stormTrial(ctx, n, shared, t, last && n === ctx.plan.footprintAt, last && !shared && onStorms.includes(n)));
        if (shared) rawStorms.set(n, [...(rawStorms.get(n) ?? []), await bareStormTrial(ctx, n, t)]);
      }
      results.push([n, samples]);
    }
    stormRows(ctx, shared, results, rawStorms);
  }
  for (const [n, samples] of rawStorms) {
    ctx.report.distribution(
      { figure: '7 join storm, bare', setting: `N=${n}, bare client, one session, 1 process: create, children read, watch`, unit: 'ms', note: 'floor for the shared-session row; interleaved with it' },
      samples,
      ms,
    );
  }
  await bareFootprint(ctx);
}

async function smallHerd(ctx: Context, size: number): Promise<void> {
  const path = '/bench/herd-small';
  await ctx.admin.ensurePath(path);
  const population = await Population.spawn({ connect: ctx.connect, path, size, processes: 1, shared: false });
  try {
    await population.join();
    await herdSection(ctx, population);
  } finally {
    await population.close();
  }
}

async function stormTrial(ctx: Context, n: number, shared: boolean, t: number, withFootprint: boolean, withHerd: boolean): Promise<StormSample> {
  const path = `/bench/storm-${shared ? 'shared' : 'own'}-${n}/t${t}`;
  await ctx.admin.ensurePath(path);
  const idleMs = withFootprint ? ctx.plan.footprintWindowMs : 0;
  const { sample, population } = await joinStorm(ctx.connect, path, n, shared, () => serverReceived(ctx.server), idleMs);
  ctx.progress(`join storm N=${n} ${shared ? 'shared' : 'own'} trial ${t + 1}: ${ms(sample.ms)}, ${formatNumber(sample.requestsPerCandidate)} requests/candidate`);
  try {
    if (withFootprint) await footprintRows(ctx, population, shared ? 'one shared session, 1 process' : `one session each, ${population.workers.length} processes`);
    if (withFootprint && shared) await watchesRow(ctx, population, 'shared session, after the join');
    if (withHerd) await herdSection(ctx, population);
  } finally {
    await population.close();
  }
  return sample;
}

async function bareStormTrial(ctx: Context, n: number, t: number): Promise<number> {
  const path = `/bench/storm-bare-${n}/t${t}`;
  await ctx.admin.ensurePath(path);
  return rawJoinStorm(ctx.connect, path, n);
}

/** The footprint floor: bare sessions with one ephemeral node each, no library. */
async function bareFootprint(ctx: Context): Promise<void> {
  const n = ctx.plan.footprintAt;
  const path = `/bench/footprint-bare-${n}`;
  await ctx.admin.ensurePath(path);
  const population = await Population.spawn({ connect: ctx.connect, path, size: n, processes: STORM_PROCESSES, shared: false, bare: true });
  try {
    await population.measureIdle(ctx.plan.footprintWindowMs);
    await population.join();
    await footprintRows(ctx, population, `bare client, one session each, ${STORM_PROCESSES} processes (floor)`);
  } finally {
    await population.close();
  }
}

