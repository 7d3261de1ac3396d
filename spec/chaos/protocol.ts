/**
 * What the chaos test and its child processes say to each other: the worker's and the monitor's
 * configuration (one JSON argument), the JSON lines they print, and the fenced resource's wire format.
 *
 * Times: `at` and `claimAt` are epoch milliseconds with sub-millisecond resolution
 * (`performance.timeOrigin + performance.now()`), comparable across processes on one machine.
 * The test orders writes by their arrival on its own `performance.now()` instead.
 */

export interface WorkerConfig {
  /** Name of this worker process, e.g. `w1.2` (slot 1, second generation). */
  worker: string;
  /** Connect string through this worker's own fault proxies. */
  connect: string;
  path: string;
  /** One participant (one runAsLeader, one session) per id. */
  ids: string[];
  sessionTimeout: number;
  /** Loopback port of the fenced resource. */
  resourcePort: number;
  /** A participant leading writes, then waits this many ms (uniformly drawn). */
  writeGapMs: [number, number];
  /**
   * Between the `isValid()` check and the send, a participant prepares its write for this many ms
   * (uniformly drawn), so that a SIGSTOP can land in between: the case fencing exists for.
   */
  prepareMs: [number, number];
  /** Priorities of some participants (the others have 0); a preferred one takes over once settled. */
  priorities?: Record<string, number>;
  /** Their `preferAfter`, ms. */
  preferAfterMs?: number;
}

export interface MonitorConfig {
  connect: string;
  path: string;
}

/** Lines printed by workers (and by the monitor: 'ready', 'listing', 'error'). */
export type WorkerLine =
  | { event: 'ready'; worker: string; pid: number; at: number }
  | { event: 'elected'; worker: string; id: string; token: string; at: number }
  | { event: 'lost'; worker: string; id: string; token: string; reason: string; validAtLoss: boolean; writes: number; at: number }
  | { event: 'write'; worker: string; id: string; token: string; claimAt: number; outcome: WriteOutcome; at: number }
  | { event: 'log'; worker: string; id: string; level: string; message: string; code?: number; sessionId?: string; reason?: string; at: number }
  | { event: 'stopped'; worker: string; id: string; how: string; at: number }
  | { event: 'exit'; worker: string; at: number }
  | { event: 'lingering'; worker: string; at: number }
  | { event: 'error'; worker: string; kind: string; id?: string; code?: string; message: string; at: number };

export interface ListingLine {
  event: 'listing';
  n: number;
  ids?: string[];
  error?: string;
  at: number;
}

/** One write as sent to the fenced resource, newline-delimited JSON. */
export interface WriteRequest {
  n: number;
  token: string;
  id: string;
  claimAt: number;
}

export interface WriteReply {
  n: number;
  ok: boolean;
}

export type WriteOutcome = 'accepted' | 'rejected' | 'failed';

/** Epoch ms, sub-millisecond, comparable across processes. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
