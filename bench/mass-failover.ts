/**
 * Figure 11 (issue 13 §3): mass failover. E elections with 3 candidates each, in 3 worker
 * processes with one shared Session per process (`handleSignals: true`): the first process leads
 * every election, the second is every election's successor, the third waits behind it. The
 * leading process gets SIGTERM (handled by the library's exit hook, or by a handler of the bench's
 * that only closes the shared session), or kill -9; the figure is the time until every election
 * has a new leader, and what the server and the candidates did meanwhile, election by election.
 *
 * Trials rotate: the process that left is replaced by a fresh one that joins every election at
 * the back, so the next trial starts from the same shape with the old successor leading.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalServer } from '../lib/testing/index.js';
import { delta, mntr, type ServerDelta } from './mntr.js';
import type { ClosingTrace, GroupCounters, GroupStatus } from './protocol.js';
import type { RawClient } from './raw-client.js';
import { hrNow, until, untilQuiet, within } from './timing.js';
import { WorkerProcess } from './workers.js';

/**
 * How the leading process goes:
 * - 'sigterm': SIGTERM to the library's exit hook (`handleSignals`; no other SIGTERM listener in
 *   the worker). The hook closes the shared Session first (one closeSession: the server deletes
 *   every candidate node of the process at once), then closes every election (no request left to
 *   send: each finds its session closed), then re-raises SIGTERM and the process dies of it.
 * - 'session-close': SIGTERM to a listener of the bench's that runs before the hook and only
 *   closes the shared Session (the same one closeSession), then process.exit(): the same hand-over
 *   without the hook's work after it; the two differ by the hook's overhead.
 * - 'kill': kill -9; the server expires the session after its timeout.
 */
export type MassExit = 'sigterm' | 'kill' | 'session-close';

export interface MassTrial {
  exit: MassExit;
  /** The signal sent -> the last election's new leader elected (ms). */
  total: number;
  /**
   * kill -9: the server's expiry of the session -> the last new leader. The expiry is the first
   * deletion of its nodes seen: its marker node's (by the bench) or an election's (by the successor).
   */
  afterExpiry: number;
  /** kill -9: the signal -> the expiry seen; SIGTERM: the signal -> the process's exit. */
  exitOrExpiry: number;
  server: ServerDelta;
  /** Per election: candidates other than the one that left that sent any request (1 expected). */
  woken: number[];
  /** Requests of the successor's process by operation, and of the third process in all. */
  successorOps: Record<string, number>;
  thirdRequests: number;
  /** Watch notifications delivered to the successor's and the third process (counted client-side). */
  successorNotifications: number;
  thirdNotifications: number;
  /** Keep-alive reads (`exists /`) sent meanwhile: by the two surviving processes, and by the leaving one up to its last close (SIGTERM). */
  keepAlives: number;
  /** Suspensions or expiries of the surviving sessions during the trial (0 for a clean sample). */
  interruptions: number;
  /** Where the time went, ms after the signal. */
  timeline: Timeline;
}

/** Marks of one trial, ms after the signal (NaN where a mark does not apply). */
export interface Timeline {
  /**
   * 'sigterm': the leaving process's first and last election began closing, and the last one was
   * closed (after the hook's closeSession: no request of their own, their nodes went with the session).
   */
  firstClosing: number;
  lastClosing: number;
  lastClosed: number;
  /** kill -9: the server expired the session. */
  expiry: number;
  /** The successor's process got its first and last notification, and its last election was elected. */
  firstNotification: number;
  lastNotification: number;
  lastElected: number;
}

interface Member {
  worker: WorkerProcess;
  group: string;
  marker: string;
  trace: string;
}

const SETTLE_MS = 120_000;
const QUIET_MS = 300;
const POLL_MS = 5;
const STATUS_POLL_MS = 20;
const QUIET_POLL_MS = 50;

/** Three processes, E elections each, on one local server. */
export class MassCluster {
  #members: Member[] = [];
  #joined = 0;

  private constructor(
    readonly connect: string,
    readonly server: LocalServer,
    readonly admin: RawClient,
    readonly paths: string[],
    readonly sessionTimeout: number,
  ) {}

  static async start(connect: string, server: LocalServer, admin: RawClient, e: number, sessionTimeout: number): Promise<MassCluster> {
    const root = `/bench/mass-${e}`;
    await admin.ensurePath(root);
    await admin.ensurePath('/bench/mass-markers');
    const cluster = new MassCluster(connect, server, admin, Array.from({ length: e }, (_, i) => `${root}/e${i}`), sessionTimeout);
    try {
      // One after the other: the first process leads everywhere, the second is every successor.
      for (let i = 0; i < 3; i += 1) await cluster.#add();
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  get size(): number {
    return this.paths.length;
  }

  async #add(): Promise<void> {
    const worker = await WorkerProcess.spawn();
    const group = `m${this.#joined++}`;
    const name = `e${this.size}-${group}-${worker.pid}`;
    const member = { worker, group, marker: `/bench/mass-markers/${name}`, trace: join(tmpdir(), `zk-election-bench-${process.pid}-${name}.json`) };
    this.#members.push(member);
    const args = { group, connect: this.connect, paths: this.paths, shared: true, sessionTimeout: this.sessionTimeout, handleSignals: true, marker: member.marker, trace: member.trace };
    await worker.request('groupJoin', args, SETTLE_MS);
  }

  async #status(member: Member): Promise<GroupStatus> {
    return member.worker.request<GroupStatus>('groupStatus', { group: member.group });
  }

  async #counters(member: Member): Promise<GroupCounters> {
    return member.worker.request<GroupCounters>('groupCounters', { group: member.group });
  }

  /** Leader process, successor, third: every election led by the first, the others waiting. */
  async #settled(): Promise<[Member, Member, Member]> {
    const [leader, successor, third] = this.#members as [Member, Member, Member];
    const e = this.size;
    let seen = 'no status yet';
    await until(
      async () => {
        const [a, b, c] = await Promise.all([this.#status(leader), this.#status(successor), this.#status(third)]);
        seen = `leading ${a.leading}, waiting ${b.waiting} and ${c.waiting}`;
        return a.leading === e && b.waiting === e && c.waiting === e;
      },
      SETTLE_MS,
      () => `mass failover E=${e}: settled, every election led by the first process and waited on in the other two (last seen: ${seen})`,
      STATUS_POLL_MS,
    );
    return [leader, successor, third];
  }

  /** Polls the counters of `members` until they stop changing for QUIET_MS. */
  #quiet(members: Member[]): Promise<GroupCounters[]> {
    const total = (all: GroupCounters[]): number => all.reduce((sum, c) => sum + c.requests.reduce((a, b) => a + b, 0), 0);
    return untilQuiet(() => Promise.all(members.map((m) => this.#counters(m))), total, QUIET_MS, SETTLE_MS, QUIET_POLL_MS);
  }

  /** One trial: the leading process leaves by `exit`; then a fresh process joins at the back. */
  async trial(exit: MassExit): Promise<MassTrial> {
    const [leader, successor, third] = await this.#settled();
    const e = this.size;
    if (exit === 'session-close') await leader.worker.request('groupSigtermClosesSessions', { group: leader.group });
    const watch = exit === 'kill' ? this.admin.watchDeletion(leader.marker) : undefined;
    await watch?.set;
    const before = await this.#quiet([successor, third]);
    await successor.worker.request('groupMark', { group: successor.group });
    const interrupted = (await this.#status(successor)).interruptions + (await this.#status(third)).interruptions;
    const leaderBefore = await this.#counters(leader);
    const m0 = await mntr(this.server);
    const exited = leader.worker.exited.then(() => hrNow());
    const start = hrNow();
    leader.worker.kill(exit === 'kill' ? 'SIGKILL' : 'SIGTERM');
    const bound = 3 * this.sessionTimeout + 30_000;
    const markerGone = watch ? await within(watch.deleted.then(() => hrNow()), bound, `expiry of the killed process's session (E=${e})`) : Number.NaN;
    const status = await this.#reelected(successor, start + bound, exit);
    const left = await within(exited, 10_000, `leader process exit after ${exit}`);
    // The server deletes the session's nodes in one go: whichever deletion is seen first marks it.
    const expiry = Math.min(markerGone, status.firstNotification);
    const m1 = await mntr(this.server);
    const after = await this.#quiet([successor, third]);
    const thirdStatus = await this.#status(third);
    const closing = exit === 'sigterm' ? readTrace(leader.trace) : undefined;
    this.#members.shift();
    await this.#add();
    const counted = perElection(before, after);
    if (closing) counted.keepAlives += closing.keepAlives - leaderBefore.keepAlives;
    return {
      exit,
      total: status.lastElectedAt - start,
      afterExpiry: status.lastElectedAt - expiry,
      exitOrExpiry: (exit === 'kill' ? expiry : left) - start,
      server: delta(m0, m1),
      ...counted,
      interruptions: status.interruptions + thirdStatus.interruptions - interrupted,
      timeline: timeline(start, status, expiry, closing),
    };
  }

  /** Polls the successor until it leads every election; rejects past `deadline` (hrtime ms). */
  async #reelected(successor: Member, deadline: number, exit: MassExit): Promise<GroupStatus> {
    const e = this.size;
    let status: GroupStatus | undefined;
    await until(
      async () => (status = await this.#status(successor)).leading >= e,
      Math.max(0, deadline - hrNow()),
      () => `mass failover E=${e} ${exit}: every election re-elected (only ${status?.leading ?? 0} of ${e}; ${status?.errors.join('; ') || 'no errors'})`,
      POLL_MS,
    );
    return status!;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#members.map(({ worker }) => worker.close()));
    for (const { trace } of this.#members) rmSync(trace, { force: true });
    this.#members = [];
  }
}

function timeline(start: number, successor: GroupStatus, expiry: number, closing: ClosingTrace | undefined): Timeline {
  const since = (t: number | undefined): number => (t === undefined ? Number.NaN : t - start);
  return {
    firstClosing: since(closing?.firstClosing),
    lastClosing: since(closing?.lastClosing),
    lastClosed: since(closing?.lastClosed),
    expiry: since(expiry),
    firstNotification: since(successor.firstNotification),
    lastNotification: since(successor.lastNotification),
    lastElected: since(successor.lastElectedAt),
  };
}

function readTrace(file: string): ClosingTrace | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ClosingTrace;
  } catch {
    return undefined;
  } finally {
    rmSync(file, { force: true });
  }
}

function perElection(before: GroupCounters[], after: GroupCounters[]): Pick<MassTrial, 'woken' | 'successorOps' | 'thirdRequests' | 'successorNotifications' | 'thirdNotifications' | 'keepAlives'> {
  const [s0, t0] = before as [GroupCounters, GroupCounters];
  const [s1, t1] = after as [GroupCounters, GroupCounters];
  const woken = s1.requests.map((count, i) => (count > s0.requests[i]! ? 1 : 0) + (t1.requests[i]! > t0.requests[i]! ? 1 : 0));
  const successorOps: Record<string, number> = {};
  for (const [op, count] of Object.entries(s1.byOperation)) {
    const d = count - (s0.byOperation[op] ?? 0);
    if (d !== 0 && op !== 'exists') successorOps[op] = d;
  }
  const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
  return {
    woken,
    successorOps,
    thirdRequests: sum(t1.requests) - sum(t0.requests),
    successorNotifications: sum(s1.notifications) - sum(s0.notifications),
    thirdNotifications: sum(t1.notifications) - sum(t0.notifications),
    keepAlives: s1.keepAlives - s0.keepAlives + t1.keepAlives - t0.keepAlives,
  };
}
