/** What every section of the bench is handed: where the server is, the plan, the report. Types only. */
import type { LocalServer } from '../lib/testing/index.js';
import type { RawClient } from './raw-client.js';
import type { Report } from './report.js';

export interface Plan {
  /** Hand-overs run and discarded first, so that the server's JIT has compiled the paths we time. */
  warmup: number;
  failover: Array<[n: number, trials: number]>;
  storm: Array<[n: number, trials: number]>;
  herdTrials: number;
  /** Sizes at which the herd figures run: the smallest on its own, the others on a storm's population. */
  herdSizes: number[];
  footprintAt: number;
  footprintWindows: number;
  footprintWindowMs: number;
  sigterm: number;
  crash: Array<{ sessionTimeout: number; rounds: number; pairs: number }>;
  cli: { nodes: number; trials: number };
  /** `zk-election run` frozen or partitioned: its session timeout and the trials of each. */
  runLease: { sessionTimeout: number; trials: number };
  /** Figure 11: mass failover of E elections on shared sessions. */
  mass: MassPlan;
  /** Figures 12 and 13: observers and step-down. */
  observers: ObserverPlan;
  /** Figure 14: server cost per operation, and this machine's server saturated. */
  cost: CostPlan;
  /** Figures 15-17: import time (process pairs), RSS (trials each side), close (sessions each way). */
  lean: { importPairs: number; rssTrials: number; closeSessions: number };
  /** Figure 18: handoffs among N candidates, trials each way (to the next in line, to the last). */
  handoff: Array<[n: number, trials: number]>;
  /** Figure 19: the churns' cycles, as a fraction of bench/churn.ts's BENCH_CYCLES. */
  churnScale: number;
  /** Figures 20-21: TLS next to plaintext, trials of each (and warm-up rounds, discarded). */
  tls: { opens: number; handovers: number; warmup: number };
}

export interface Context {
  connect: string;
  server: LocalServer;
  tickTime: number;
  /** A bare session for the bench's own bookkeeping (parent nodes, the crash figure's watcher). */
  admin: RawClient;
  report: Report;
  plan: Plan;
  progress: (line: string) => void;
}

export interface MassPlan {
  /** Session timeout of the three processes (the kill -9 trials wait it out). */
  sessionTimeout: number;
  sizes: Array<{ e: number; sigterm: number; kill: number; sessionClose: number }>;
  /** The E at which issue 13's targets apply. */
  targetAt: number;
}

export interface ObserverPlan {
  observers: number;
  changes: number;
  warmup: number;
  stepDownLibrary: number;
  stepDownCli: number;
}

export interface CostPlan {
  elections: number;
  capacityReads: number;
  capacityWrites: number;
}
