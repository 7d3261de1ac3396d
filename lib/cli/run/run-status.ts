/**
 * What `zk-election run` says about itself on /metrics and /healthz (lib/cli/run/metrics.ts), read
 * from its Election at the moment of asking rather than mirrored from events, so that a scrape
 * never shows a state the election has already left: a lease that ran out while no timer had fired
 * yet (this process was paused) reads as lost at once, through `Leadership.isValid()`.
 *
 * Roles: `leader` holds a term whose lease has not run out; `follower` waits in the queue behind a
 * watched predecessor; `candidate` is between the two (joining, rejoining after a lost term or an
 * expiry, or a term over whose command is still stopping); `stopped` is shutting down or closed.
 *
 * Health is "can this sidecar do its job": lead now, or take over when its turn comes. So 200
 * while the session is connected, whatever the role (a connected follower is exactly what a
 * standby should be), and for a leader while its lease holds even if disconnected (its command
 * legitimately runs on through a short blip); 503 otherwise, and while `run` shuts down.
 */
import { monotonicNow } from '../../util/clock.js';
import type { Election } from '../../election/election.js';
import { standingOf } from '../../znode/recipe.js';
import { baseName } from '../../zk/paths.js';
import type { SessionState } from '../../session/session.js';

export type Role = 'leader' | 'follower' | 'candidate' | 'stopped';

/** Every session state, each one series of `zk_election_session_state`; the Record keeps it complete. */
export const SESSION_STATES = Object.keys({
  connecting: true,
  connected: true,
  suspended: true,
  reconnected: true,
  expired: true,
  closed: true,
} satisfies Record<SessionState, true>) as SessionState[];

/** `zk_election_queue_position` when we are in no queue: joining, rejoining, stopped. */
const NOT_QUEUED = -1;

/** How long a scrape may wait for the listing that makes the queue position exact. */
const LISTING_BOUND_MS = 2000;

export interface Snapshot {
  id: string;
  role: Role;
  /** The fencing token of the valid term; undefined unless leader. */
  token: bigint | undefined;
  session: SessionState;
  /** What is left of the lease, ms; 0 unless leader. */
  leaseRemainingMs: number;
}

export interface Health {
  /** 200 or 503. */
  status: number;
  body: { id: string; role: Role; token: string | null; session: SessionState };
}

/** The health check's rule, pure: connected, or leading on a lease that holds; never while stopping. */
export function healthOf(snapshot: Snapshot): Health {
  const connected = snapshot.session === 'connected' || snapshot.session === 'reconnected';
  const healthy = snapshot.role !== 'stopped' && (connected || snapshot.role === 'leader');
  return {
    status: healthy ? 200 : 503,
    body: { id: snapshot.id, role: snapshot.role, token: snapshot.token?.toString() ?? null, session: snapshot.session },
  };
}

export class RunStatus {
  /** Position from the latest `waiting` event: exact when emitted, an upper bound after. */
  #announced = NOT_QUEUED;
  #listing: Promise<number> | undefined;

  constructor(readonly election: Election) {
    election.on('waiting', (info) => (this.#announced = info.position));
  }

  snapshot(): Snapshot {
    const { election } = this;
    const leadership = election.leadership;
    const leading = leadership?.isValid() ?? false;
    return {
      id: election.id,
      role: leading ? 'leader' : roleOf(election.state),
      token: leading ? leadership!.token : undefined,
      session: election.session?.state ?? (roleOf(election.state) === 'stopped' ? 'closed' : 'connecting'),
      leaseRemainingMs: leading ? Math.max(0, leadership!.expiresAt - monotonicNow()) : 0,
    };
  }

  /**
   * Candidates ahead of us: 0 for the leader, NOT_QUEUED outside the queue. A waiting candidate
   * watches only its predecessor, so the `waiting` event's position goes stale when someone further
   * ahead leaves (the leader of three fails over: the third stays "2"). A scrape therefore lists
   * the candidates (one getChildren, bounded, shared by concurrent scrapes) and falls back to the
   * announced position when it cannot. New candidates only ever join behind us, so that fallback
   * can only be too high, never too low.
   */
  async position(): Promise<number> {
    const { election } = this;
    if (election.leadership?.isValid()) return 0;
    if (election.state !== 'waiting') return NOT_QUEUED;
    this.#listing ??= this.#list().finally(() => (this.#listing = undefined));
    return this.#listing;
  }

  async #list(): Promise<number> {
    const { session, node, path } = this.election;
    if (!session?.isConnected || node === undefined) return this.#announced;
    try {
      const children = await session.retrying('list candidates for the queue position', (handle) => handle.getChildren(path), {
        signal: AbortSignal.timeout(LISTING_BOUND_MS),
        retries: 0,
      });
      const standing = standingOf(children, baseName(node));
      if (standing.kind === 'waiting') return standing.position;
      return standing.kind === 'leader' ? 0 : NOT_QUEUED;
    } catch {
      // Disconnected or slow: the metric is best effort, and the last announced value is a bound.
      return this.#announced;
    }
  }
}

function roleOf(state: Election['state']): Role {
  if (state === 'waiting') return 'follower';
  if (state === 'closing' || state === 'closed') return 'stopped';
  return 'candidate';
}
