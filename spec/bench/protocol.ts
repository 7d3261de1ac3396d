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
  | 'rawStorm';

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
  /** Of `total`, the `exists` reads: only a leader's periodic heartbeat sends those. */
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
