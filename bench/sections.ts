/** Each section runs some figures of issue 5 and adds their rows to the report; population-sections.ts and scale-sections.ts have the rest. */
import { existsSync } from 'node:fs';
import { makeCandidates, participantsCli } from './cli-figure.js';
import { crashFailover, leaveOnSigterm, type CrashSamples } from './exits.js';
import { gracefulFailover, RawPair, type FailoverSamples } from './failover.js';
import { handoffTrials } from './handoff.js';
import { verdictUpTo } from './report.js';
import { runLeaseTrials, type LeaseFault } from './run-lease.js';
import { formatBytes, formatMs, summarize } from './stats.js';
import type { Context } from './context.js';

const ms = (value: number): string => formatMs(value);

export async function failoverSection(ctx: Context): Promise<void> {
  const raw = await RawPair.open(ctx.connect, '/bench/raw');
  const results: FailoverSamples[] = [];
  try {
    ctx.progress(`warm-up: ${ctx.plan.warmup} hand-overs, discarded`);
    await gracefulFailover(ctx.connect, 2, ctx.plan.warmup, raw, () => {}, '/bench/warmup');
    for (const [n, trials] of ctx.plan.failover) results.push(await gracefulFailover(ctx.connect, n, trials, raw, ctx.progress));
  } finally {
    raw.close();
  }
  for (const r of results) {
    const floor = ctx.report.distribution(
      { figure: '1 raw minimum', setting: `N=${r.n}: bare delete -> 2nd session's data watch -> children read`, unit: 'ms', note: `same election node, interleaved with (2)`, extra: { n: r.n } },
      r.raw,
      ms,
    );
    const notification = ctx.report.distribution(
      { figure: '1b notification floor', setting: `N=${r.n}: bare delete -> 2nd session's data watch fires`, unit: 'ms', note: 'the same trials as (1), up to the notification: a hand-over without a listing', extra: { n: r.n } },
      r.notified,
      ms,
    );
    const library = summarize(r.library);
    const ratio = library.median / floor.median;
    const toNotification = library.median / notification.median;
    ctx.report.distribution(
      {
        figure: '2 graceful failover',
        setting: `N=${r.n} (leader included): resign() -> successor's electLeader resolves`,
        unit: 'ms',
        note: `${ratio.toFixed(2)} x raw minimum, ${toNotification.toFixed(2)} x notification floor at this N (medians)`,
        // Issue 13 §1: the library's hand-over within 15 % of the bare client's.
        target: '<= 1.15 x raw minimum (medians)',
        met: ratio <= 1.15 ? 'yes' : 'no',
        extra: { n: r.n, ratioToRaw: ratio, ratioToNotification: toNotification },
      },
      r.library,
      ms,
    );
  }
}

export async function exitSection(ctx: Context): Promise<void> {
  ctx.progress(`leave on SIGTERM: ${ctx.plan.sigterm} trials`);
  const sigterm = await leaveOnSigterm(ctx.connect, ctx.plan.sigterm);
  const exit = summarize(sigterm.map((s) => s.exit));
  const handover = summarize(sigterm.map((s) => s.handover));
  ctx.report.distribution(
    { figure: '5 leave on SIGTERM', setting: 'leader process with handleSignals: SIGTERM -> successor leads', unit: 'ms', note: `leader process exited after ${ms(exit.median)} (median)`, target: '<= 20 ms', met: verdictUpTo(handover, 20), extra: { exit: sigterm.map((s) => s.exit) } },
    sigterm.map((s) => s.handover),
    ms,
  );
  for (const { sessionTimeout, rounds, pairs } of ctx.plan.crash) {
    ctx.progress(`crash failover, session timeout ${sessionTimeout} ms: ${rounds} rounds of ${pairs} kill -9`);
    crashRows(ctx, await crashFailover(ctx.connect, sessionTimeout, rounds, pairs, ctx.admin));
  }
}

function crashRows(ctx: Context, samples: CrashSamples): void {
  const timeout = samples.sessionTimeout;
  const tick = ctx.tickTime;
  const floor = Math.ceil(timeout / tick) * tick;
  const raw = summarize(samples.raw);
  const library = summarize(samples.library);
  const bound = floor + tick + 20;
  ctx.report.distribution(
    {
      figure: '6 crash failover',
      setting: `session timeout ${timeout} ms: kill -9 -> successor leads`,
      unit: 'ms',
      note: `${(library.median / timeout).toFixed(2)} x timeout; floor ${floor} ms; ${(library.median / raw.median).toFixed(2)} x bare session`,
      target: `<= floor + tick + 20 = ${bound} ms`,
      met: verdictUpTo(library, bound),
      extra: { sessionTimeout: timeout, floor, tick, ratioToTimeout: library.median / timeout, raw: samples.raw },
    },
    samples.library,
    ms,
  );
  ctx.report.distribution(
    { figure: '6 crash failover, bare', setting: `session timeout ${timeout} ms: kill -9 -> bare watch fires + children read`, unit: 'ms', note: `${(raw.median / timeout).toFixed(2)} x timeout; same kill as the row above` },
    samples.raw,
    ms,
  );
}

export async function cliSection(ctx: Context): Promise<void> {
  const { nodes, trials } = ctx.plan.cli;
  const path = '/bench/cli';
  ctx.progress(`CLI participants: creating ${nodes} candidate nodes`);
  const clients = await makeCandidates(ctx.connect, path, nodes);
  try {
    const result = await participantsCli(ctx.connect, path, trials);
    const listed = result.samples.map((s) => s.listed).join(', ');
    const what = result.mode === 'cli' ? 'zk-election participants --json' : 'PENDING CLI: listParticipants in a fresh process';
    ctx.report.distribution({ figure: '9 CLI participants: wall', setting: `${nodes} candidates, ${what}`, unit: 'ms', note: `listed ${listed}` }, result.samples.map((s) => s.wallMs), ms);
    ctx.report.distribution(
      { figure: '9 CLI participants: peak RSS', setting: `${nodes} candidates, ${what}`, unit: 'KiB', note: existsTimeNote() },
      result.samples.map((s) => s.peakRssKiB),
      (kib) => formatBytes(kib * 1024),
    );
  } finally {
    for (const client of clients) client.close();
  }
}

export async function runLeaseSection(ctx: Context): Promise<void> {
  const { sessionTimeout, trials } = ctx.plan.runLease;
  const cases: Array<[LeaseFault, string]> = [
    ['freeze', 'run frozen (SIGSTOP), command ignores SIGTERM'],
    ['partition', 'run partitioned past T, command takes 2 s to stop on SIGTERM'],
  ];
  for (const [fault, setting] of cases) {
    ctx.progress(`run lease, ${fault}: ${trials} trials, session timeout ${sessionTimeout} ms`);
    const { margins, failovers } = await runLeaseTrials(ctx.connect, fault, sessionTimeout, trials);
    const margin = summarize(margins);
    const failover = summarize(failovers);
    ctx.report.distribution(
      {
        figure: '10 run: safety margin',
        setting: `T = ${sessionTimeout} ms, defaults; ${setting}: old group's death -> successor's start`,
        unit: 'ms',
        note: `minimum ${ms(margin.min)}; successor started ${ms(failover.median)} after the fault (median, max ${ms(failover.max)})`,
        target: '> 0 in every trial',
        met: margin.min > 0 ? 'yes' : 'no',
        extra: { fault, sessionTimeout, min: margin.min, failovers },
      },
      margins,
      ms,
    );
  }
}

function existsTimeNote(): string {
  return existsSync('/usr/bin/time') ? 'max RSS reported by /usr/bin/time -v' : 'VmHWM polled from /proc (no /usr/bin/time)';
}

/** Figure 18: a handoff's request -> the named participant leads, to the next in line and to the last. */
export async function handoffSection(ctx: Context): Promise<void> {
  for (const [n, trials] of ctx.plan.handoff) {
    const samples = await handoffTrials(ctx.connect, n, trials, ctx.progress);
    ctx.report.distribution({ figure: '18 handoff', setting: `N=${n}: step-down --to the next in line (no requeue)`, unit: 'ms', note: 'request -> the named participant elected', extra: { n } }, samples.next, ms);
    ctx.report.distribution({ figure: '18 handoff', setting: `N=${n}: step-down --to the last in line (${n - 2} requeues)`, unit: 'ms', note: 'request -> the named participant elected', extra: { n } }, samples.last, ms);
  }
}
