/** Messages between the bench (parent) and its worker processes, over Node's IPC channel. */

export interface Request {
  id: number;
  cmd: Command;
  args: Record<string, unknown>;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type Command =
  | 'populate'
  | 'barrier'
  | 'counters'
  | 'resign'
  | 'leave'
  | 'usage'
  | 'close'
  | 'lead'
  | 'rawLead'
  | 'participants'
  | 'rawSessions'
  | 'rawStorm'
  | 'groupJoin'
  | 'groupStatus'
  | 'groupMark'
  | 'groupCounters'
  | 'groupResign'
  | 'groupLeave'
  | 'groupSigtermClosesSessions'
  | 'groupClose'
  | 'observe'
  | 'observed'
  | 'observeStop';

export interface PopulateArgs {
  path: string;
  connect: string;
  count: number;
  /** All candidates of this worker on one Session (true), or one session each (false). */
  shared: boolean;
  requeue: boolean;
  sessionTimeout?: number;
  idPrefix: string;
}

/** Requests sent by one candidate's session (own sessions), or by the shared session. */
export interface CandidateCounter {
  index: number;
  node: string | undefined;
  total: number;
  /** Of `total`, the `exists` reads: only the keep-alive of a session whose leader holds a term sends those. */
  exists: number;
  leader: boolean;
}

export interface CountersResult {
  /** One entry per candidate with its own session; empty for a shared session. */
  perCandidate: CandidateCounter[];
  total: number;
  byOperation: Record<string, number>;
}

export interface UsageResult {
  rss: number;
  heapUsed: number;
  cpuMicros: number;
  /** JavaScript timers alive in the process, unref'd ones included (an async_hooks count). */
  timers: number;
  candidates: number;
  leaders: number;
}

export interface ResignResult {
  /** Index of the election that resigned, or -1 when this worker holds no leader. */
  index: number;
  node: string | undefined;
}

export interface ParticipantsResult {
  ms: number;
  count: number;
  peakRssKiB: number;
}

/** A group of elections in one worker (group-worker.ts): one candidate in each of `paths`. */
export interface GroupJoinArgs {
  group: string;
  connect: string;
  paths: string[];
  /** One Session for the whole group (true), or one per election. */
  shared: boolean;
  sessionTimeout?: number;
  handleSignals?: boolean;
  /** An ephemeral node the group's (shared) session creates outside every election: it goes with the session. */
  marker?: string;
  /** A file the group writes, synchronously, once all its elections closed: when they began and finished closing. */
  trace?: string;
}

/** What a group that left on a signal wrote to its trace file (hrtime ms). */
export interface ClosingTrace {
  firstClosing: number;
  lastClosing: number;
  lastClosed: number;
  /** Keep-alives (`exists /`) the group had sent by then, in all. */
  keepAlives: number;
}

export interface GroupStatus {
  leading: number;
  waiting: number;
  /** hrtime ms of the latest `elected` in the group (NaN: none yet). */
  lastElectedAt: number;
  /** The first and last watch notification on the group's elections since the last groupMark (NaN: none). */
  firstNotification: number;
  lastNotification: number;
  /** Suspensions and expiries of the group's sessions so far. */
  interruptions: number;
  errors: string[];
}

/** Per election of a group, by index: what its candidate here sent and received. */
export interface GroupCounters {
  /** Requests other than `exists`. */
  requests: number[];
  /** The group's keep-alive reads (`exists /`, per session while a term runs), in all. */
  keepAlives: number;
  notifications: number[];
  byOperation: Record<string, number>;
}

/** One observer's latest value: the leader's node, when it came (hrtime ms), how many values so far. */
export interface ObservedValue {
  node: string | undefined;
  at: number;
  values: number;
}
