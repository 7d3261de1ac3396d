/**
 * Worker side of the mass-failover, observer and server-cost figures: named groups of elections
 * held in this process, on one shared Session or one session each, counted per election
 * (election-counts.ts); and observers (observeLeader), each on its own session.
 *
 * Times are hrNow()'s (timing.ts): the same clock in every process of the machine, so the bench
 * compares a time taken here with one taken in another process.
 */
import { writeFileSync } from 'node:fs';
import { Election, observeLeader, Session } from '../lib/index.js';
import { CreateMode } from '../lib/zk/handle.js';
import { ElectionCounts, electionCountingTransport } from './election-counts.js';
import type { ClosingTrace, GroupCounters, GroupJoinArgs, GroupStatus, ObservedValue } from './protocol.js';
import { hrNow } from './timing.js';

interface Group {
  sessions: Session[];
  elections: Election[];
  /** When each election last became leader here (NaN: never). */
  electedAt: number[];
  counts: ElectionCounts;
  /** Times a session of this group was suspended or expired: none expected in a clean figure. */
  interruptions: number;
  errors: string[];
}

interface Observer {
  stop: AbortController;
  done: Promise<void>;
  node: string | undefined;
  at: number;
  values: number;
}

const groups = new Map<string, Group>();
const observerGroups = new Map<string, Observer[]>();
const observerSessions = new Map<string, Session>();

function groupOf(name: string): Group {
  const group = groups.get(name);
  if (!group) throw new Error(`no group ${name} in worker ${process.pid}`);
  return group;
}

/** Joins one election per path; resolves once every candidate waits with its watch armed, or leads. */
async function groupJoin(args: GroupJoinArgs): Promise<GroupStatus> {
  if (groups.has(args.group)) throw new Error(`group ${args.group} exists already`);
  const counts = new ElectionCounts(args.paths);
  const transport = electionCountingTransport(counts);
  const open = (): Promise<Session> => Session.connect({ connect: args.connect, transport, ...(args.sessionTimeout === undefined ? {} : { sessionTimeout: args.sessionTimeout }) });
  const sessions = args.shared ? [await open()] : await Promise.all(args.paths.map(open));
  const group: Group = { sessions, elections: [], electedAt: args.paths.map(() => Number.NaN), counts, interruptions: 0, errors: [] };
  groups.set(args.group, group);
  for (const session of sessions) {
    session.on('state', (state) => {
      if (state === 'suspended' || state === 'expired') group.interruptions += 1;
    });
  }
  group.elections = args.paths.map((path, i) => {
    const election = new Election(path, { connect: sessions[args.shared ? 0 : i]!, id: `${args.group}-${i}`, handleSignals: args.handleSignals ?? false, requeue: true });
    election.on('elected', () => (group.electedAt[i] = hrNow()));
    election.on('error', (error) => group.errors.push(error.message));
    return election;
  });
  if (args.trace) traceClosing(group.elections, counts, args.trace);
  await Promise.all(group.elections.map((election) => election.start()));
  // An ephemeral node of the shared session outside every election: its deletion marks the session's end.
  if (args.marker) await sessions[0]!.retrying('marker', (handle) => handle.create(args.marker!, Buffer.alloc(0), CreateMode.EPHEMERAL));
  return groupStatus({ group: args.group });
}

/**
 * When the group's elections began and finished closing (hrtime ms), written synchronously to
 * `file` once the last one closed: a process leaving on a signal has no other way to tell.
 */
function traceClosing(elections: Election[], counts: ElectionCounts, file: string): void {
  const trace: ClosingTrace = { firstClosing: Number.NaN, lastClosing: Number.NaN, lastClosed: Number.NaN, keepAlives: 0 };
  let closed = 0;
  for (const election of elections) {
    election.on('state', (to) => {
      const at = hrNow();
      if (to === 'closing') {
        if (Number.isNaN(trace.firstClosing)) trace.firstClosing = at;
        trace.lastClosing = at;
      } else if (to === 'closed') {
        trace.lastClosed = at;
        closed += 1;
        if (closed < elections.length) return;
        trace.keepAlives = counts.keepAlives;
        writeFileSync(file, JSON.stringify(trace));
      }
    });
  }
}

function groupStatus(args: { group: string }): GroupStatus {
  const group = groupOf(args.group);
  const leading = group.elections.filter((e) => e.isLeader).length;
  const waiting = group.elections.filter((e) => e.state === 'waiting').length;
  const times = group.electedAt.filter((t) => !Number.isNaN(t));
  return {
    leading,
    waiting,
    lastElectedAt: times.length ? Math.max(...times) : Number.NaN,
    firstNotification: group.counts.firstNotification,
    lastNotification: group.counts.lastNotification,
    interruptions: group.interruptions,
    errors: group.errors.slice(0, 3),
  };
}

/** Forgets the group's notification times: the next ones begin a new span. */
function groupMark(args: { group: string }): void {
  groupOf(args.group).counts.markNotifications();
}

function groupCounters(args: { group: string }): GroupCounters {
  const { counts } = groupOf(args.group);
  return { requests: [...counts.requests], keepAlives: counts.keepAlives, notifications: [...counts.notifications], byOperation: { ...counts.byOperation } };
}

/** The leaders among `indices` resign (and requeue at the back); resolves when every delete is answered. */
async function groupResign(args: { group: string; indices: number[] }): Promise<{ at: number; resigned: number }> {
  const group = groupOf(args.group);
  const leaderships = args.indices.map((i) => group.elections[i]?.leadership).filter((l) => l !== undefined);
  const at = hrNow();
  await Promise.all(leaderships.map((leadership) => leadership.resign()));
  return { at, resigned: leaderships.length };
}

/** The elections at `indices` close (a candidate leaves for good). */
async function groupLeave(args: { group: string; indices: number[] }): Promise<void> {
  const group = groupOf(args.group);
  await Promise.all(args.indices.map((i) => group.elections[i]?.close()));
}

/**
 * From now on SIGTERM ends this process without the library's exit hook: the group's sessions are
 * closed at once (one closeSession each, in the socket before the native close returns; see
 * lib/native/zookeeper-7.3.0-latency.patch), then the process exits. Runs before the hook
 * (`handleSignals`), which then never sees the signal. The hook begins the same way (it closes the
 * elections' sessions first) and then closes every election and re-raises the signal: this is that
 * hand-over without the hook's work after the closeSession.
 */
function groupSigtermClosesSessions(args: { group: string }): void {
  const group = groupOf(args.group);
  process.prependOnceListener('SIGTERM', () => {
    for (const session of group.sessions) void session.close();
    process.exit(143);
  });
}

async function groupClose(args: { group: string }): Promise<void> {
  const group = groups.get(args.group);
  if (!group) return;
  groups.delete(args.group);
  await Promise.allSettled(group.elections.map((election) => election.close()));
  await Promise.allSettled(group.sessions.map((session) => session.close()));
}

/**
 * One observer per entry of `paths` (the same path may come again), each on a session of its own
 * or all on one shared session; resolves once each has yielded its first value.
 */
async function observe(args: { group: string; connect: string; paths: string[]; shared: boolean }): Promise<void> {
  const observers: Observer[] = [];
  observerGroups.set(args.group, observers);
  const shared = args.shared ? await Session.connect({ connect: args.connect }) : undefined;
  if (shared) observerSessions.set(args.group, shared);
  const first: Array<Promise<void>> = [];
  for (const path of args.paths) {
    const stop = new AbortController();
    let seen!: () => void;
    first.push(new Promise<void>((resolve) => (seen = resolve)));
    const observer: Observer = { stop, node: undefined, at: Number.NaN, values: 0, done: Promise.resolve() };
    observer.done = (async () => {
      for await (const leader of observeLeader(path, { connect: shared ?? args.connect, signal: stop.signal })) {
        observer.at = hrNow();
        observer.node = leader?.node;
        observer.values += 1;
        seen();
      }
    })().catch(() => seen());
    observers.push(observer);
  }
  await Promise.all(first);
}

function observed(args: { group: string }): ObservedValue[] {
  return (observerGroups.get(args.group) ?? []).map(({ node, at, values }) => ({ node, at, values }));
}

async function observeStop(args: { group: string }): Promise<void> {
  const observers = observerGroups.get(args.group) ?? [];
  observerGroups.delete(args.group);
  for (const observer of observers) observer.stop.abort();
  await Promise.allSettled(observers.map((observer) => observer.done));
  await observerSessions.get(args.group)?.close();
  observerSessions.delete(args.group);
}

/** Everything this module holds, for the worker's `close`. */
export async function closeGroups(): Promise<void> {
  await Promise.allSettled([...observerGroups.keys()].map((group) => observeStop({ group })));
  await Promise.allSettled([...groups.keys()].map((group) => groupClose({ group })));
}

export const groupHandlers = { groupJoin, groupStatus, groupMark, groupCounters, groupResign, groupLeave, groupSigtermClosesSessions, groupClose, observe, observed, observeStop };
