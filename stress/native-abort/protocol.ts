/** What the native-abort stress driver tells a victim process, and the JSON lines a victim prints. */

export interface VictimConfig {
  name: string;
  connect: string;
  path: string;
  sessionTimeout: number;
  /** Elections that each open a session of their own. */
  ownSessions: number;
  /** Elections sharing one Session. */
  sharedElections: number;
  /** How often a short-lived session is opened and closed, ms. */
  churnMs: number;
}

export interface VictimStats {
  connected: number;
  suspended: number;
  expired: number;
  buried: number;
  churned: number;
  errors: number;
}

export type VictimLine = { event: 'ready'; pid: number } | ({ event: 'stats' } & VictimStats) | { event: 'exit' };
