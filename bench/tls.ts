/**
 * Figures 20 and 21: what TLS costs. Two fresh standalone servers side by side, one plaintext (as
 * ZooKeeper runs by default: NIO) and one TLS-only (Netty, secureClientPort, client certificates
 * required, RSA 2048 keys), both warmed up alike; trials alternate between them, which goes first
 * alternating too, so that the machine's load falls on both.
 *
 *   18 session open: Session.connect() until connected (TCP, the TLS handshake, ZooKeeper's
 *      connect request), then close; and, as the floor, a TLS handshake alone from node:tls with
 *      the same files to the same server, taken right after each TLS open.
 *   19 graceful hand-over: resign() -> the successor's electLeader resolves, two candidates on
 *      sessions of their own (figure 2 at N=2, on each server).
 */
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { Session, type TlsOptions } from '../lib/index.js';
import { startZooKeeper, type LocalEnsemble } from '../lib/testing/index.js';
import type { Context } from './context.js';
import { dropFront, joinFront, type FrontCandidate } from './front.js';
import { formatMs, summarize } from './stats.js';
import { now, within } from './timing.js';

const WAIT_MS = 10_000;

interface Target {
  name: 'plaintext' | 'TLS';
  connect: string;
  tls: TlsOptions | undefined;
}

export async function tlsSection(ctx: Context): Promise<void> {
  const { opens, handovers, warmup } = ctx.plan.tls;
  ctx.progress('TLS: starting a plaintext and a TLS-only standalone ZooKeeper');
  const servers: LocalEnsemble[] = [];
  try {
    servers.push(await startZooKeeper({ servers: 1, tickTime: ctx.tickTime }));
    servers.push(await startZooKeeper({ servers: 1, tickTime: ctx.tickTime, tls: true }));
    const targets: Target[] = servers.map((server) => ({ name: server.tls ? 'TLS' : 'plaintext', connect: server.connectString, tls: server.tls }));
    ctx.progress(`TLS: warm-up, ${warmup} session opens and hand-overs on each, discarded`);
    await alternate(targets, warmup, (target) => openOnce(target));
    await handoverTrials(targets, warmup, '/bench/tls-warmup');
    ctx.progress(`TLS: session open, ${opens} trials on each`);
    const floor: number[] = [];
    const open = await alternate(targets, opens, async (target) => {
      const elapsed = await openOnce(target);
      if (target.tls) floor.push(await handshakeOnce(target));
      return elapsed;
    });
    ctx.progress(`TLS: graceful hand-over, ${handovers} trials on each`);
    const handover = await handoverTrials(targets, handovers, '/bench/tls');
    rows(ctx, '20 TLS: session open', 'Session.connect() until connected', open);
    const handshake = summarize(floor);
    ctx.report.distribution(
      { figure: '20 TLS: session open', setting: 'floor: a TLS handshake alone (node:tls, same files and server)', unit: 'ms', note: `the TLS open is ${(summarize(open.TLS).median / handshake.median).toFixed(2)} x this (medians)` },
      floor,
      formatMs,
    );
    rows(ctx, '21 TLS: graceful hand-over', 'N=2: resign() -> successor\'s electLeader resolves', handover);
  } finally {
    await Promise.allSettled(servers.map((server) => server.stop()));
  }
}

function rows(ctx: Context, figure: string, what: string, samples: Record<Target['name'], number[]>): void {
  const plain = summarize(samples.plaintext);
  ctx.report.distribution({ figure, setting: `plaintext: ${what}`, unit: 'ms', note: 'NIO server (ZooKeeper\'s default)' }, samples.plaintext, formatMs);
  const tls = summarize(samples.TLS);
  const ratio = tls.median / plain.median;
  ctx.report.distribution(
    { figure, setting: `TLS: ${what}`, unit: 'ms', note: `${ratio.toFixed(2)} x plaintext (medians); Netty, client certificate, RSA 2048`, extra: { ratioToPlaintext: ratio } },
    samples.TLS,
    formatMs,
  );
}

/** `trials` rounds of `trial` on each target, the first target of a round alternating. */
async function alternate(targets: Target[], trials: number, trial: (target: Target) => Promise<number>): Promise<Record<Target['name'], number[]>> {
  const samples: Record<Target['name'], number[]> = { plaintext: [], TLS: [] };
  for (let i = 0; i < trials; i += 1) {
    const order = i % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) samples[target.name].push(await trial(target));
  }
  return samples;
}

/** The handshake alone: TCP and TLS (mutual, as the server asks), no ZooKeeper; closed at once. */
async function handshakeOnce(target: Target): Promise<number> {
  const { ca, cert, key } = target.tls!;
  const [host, port] = target.connect.split(':');
  const start = now();
  await within(
    new Promise<void>((resolve, reject) => {
      const socket = tls.connect({ host, port: Number(port), ca: readFileSync(ca), cert: readFileSync(cert!), key: readFileSync(key!), checkServerIdentity: () => undefined }, () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    }),
    WAIT_MS,
    'TLS handshake',
  );
  return now() - start;
}

async function openOnce(target: Target): Promise<number> {
  const start = now();
  const session = await within(Session.connect({ connect: target.connect, ...(target.tls ? { tls: target.tls } : {}) }), WAIT_MS, `${target.name} session open`);
  const elapsed = now() - start;
  await session.close();
  return elapsed;
}

/**
 * Each target keeps a queue of candidates in this process: the leader and the next in line. A
 * trial times one hand-over; then a new candidate joins at the back, before the next trial.
 */
async function handoverTrials(targets: Target[], trials: number, path: string): Promise<Record<Target['name'], number[]>> {
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const fronts = new Map<Target['name'], FrontCandidate[]>();
  try {
    for (const target of targets) {
      const join = (): Promise<FrontCandidate> => joinFront(`${path}-${target.name}`, target.connect, stop.signal, target.tls);
      fronts.set(target.name, [await join(), await join()]);
    }
    return await alternate(targets, trials, async (target) => {
      const front = fronts.get(target.name)!;
      const [leader, successor] = front;
      const elapsed = await handOver(leader!, successor!);
      front.shift();
      front.push(await joinFront(`${path}-${target.name}`, target.connect, stop.signal, target.tls));
      return elapsed;
    });
  } finally {
    stop.abort();
    const all = [...fronts.values()].flat();
    await Promise.allSettled(all.map((candidate) => within(dropFront(candidate), 5000, 'drop candidate')));
  }
}

async function handOver(leader: FrontCandidate, successor: FrontCandidate): Promise<number> {
  const leadership = await within(leader.leadership, WAIT_MS, 'leader');
  const start = now();
  const resigned = leadership.resign();
  await within(successor.leadership, WAIT_MS, 'successor taking over');
  const elapsed = now() - start;
  await resigned;
  await leader.session.close();
  return elapsed;
}
