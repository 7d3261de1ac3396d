/**
 * The arithmetic of `run`'s lease, pure: when the command gets SIGTERM and SIGKILL, and how much
 * grace fits.
 *
 * With T the session timeout and M the lease margin, the lease deadline D is the last contact with
 * ZooKeeper + T - M (`Leadership.expiresAt`): the server cannot have expired the session, and so no
 * successor can have started, before D. `run` wants the command's whole group dead by D, so:
 *
 *   SIGKILL at  D - killLead          (killLead: time for the kernel to tear the group down)
 *   SIGTERM at  D - killLead - grace  (unless the lease is renewed before then)
 *
 * While connected, `run` confirms its leadership every T/10, so the deadline is never more than
 * T/10 (and a round trip) stale; the grace must fit in what is left of the lease then, with one
 * more confirmation interval to spare so that a single late reply does not stop the command:
 * grace <= T - M - killLead - 2 * T/10. With the defaults (grace 30 % of T, M 10 % of T) a
 * disconnection of up to about half of T costs nothing.
 */

/** `run` confirms leadership (and so renews its lease) every this fraction of T. */
const CONFIRM_FRACTION = 0.1;
/** Confirmations no closer than this, whatever T. */
const MIN_CONFIRM_MS = 50;
/** Default --grace, as a fraction of T. */
const DEFAULT_GRACE_FRACTION = 0.3;
/** Default --lease-margin, as a fraction of T: the library's own default. */
const DEFAULT_MARGIN_FRACTION = 0.1;
/** SIGKILL goes out this long before the deadline (at most half the margin). */
const MAX_KILL_LEAD_MS = 100;

export interface LeasePlan {
  /** T, ms. */
  sessionTimeout: number;
  /** M, ms. */
  leaseMargin: number;
  /** How often `run` confirms its leadership, ms. */
  confirmEvery: number;
  /** SIGKILL this long before the deadline, ms. */
  killLead: number;
  /** SIGTERM this long before SIGKILL, ms: --grace, or what of it fits. */
  grace: number;
  /** The grace asked for, when it did not fit and `grace` is shorter. */
  shortenedFrom?: number;
}

export function defaultLeaseMargin(sessionTimeout: number): number {
  return Math.round(sessionTimeout * DEFAULT_MARGIN_FRACTION);
}

function confirmInterval(sessionTimeout: number): number {
  return Math.max(MIN_CONFIRM_MS, Math.round(sessionTimeout * CONFIRM_FRACTION));
}

/** The longest grace that fits in the lease of a session with timeout T and margin M. */
export function maxGrace(sessionTimeout: number, leaseMargin: number): number {
  return Math.max(0, sessionTimeout - leaseMargin - killLeadFor(leaseMargin) - 2 * confirmInterval(sessionTimeout));
}

export function planLease(sessionTimeout: number, leaseMargin: number, requestedGrace: number | undefined): LeasePlan {
  const wanted = requestedGrace ?? Math.round(sessionTimeout * DEFAULT_GRACE_FRACTION);
  const fits = maxGrace(sessionTimeout, leaseMargin);
  return {
    sessionTimeout,
    leaseMargin,
    confirmEvery: confirmInterval(sessionTimeout),
    killLead: killLeadFor(leaseMargin),
    grace: Math.min(wanted, fits),
    ...(wanted > fits ? { shortenedFrom: wanted } : {}),
  };
}

function killLeadFor(leaseMargin: number): number {
  return Math.min(MAX_KILL_LEAD_MS, Math.floor(leaseMargin / 2));
}
