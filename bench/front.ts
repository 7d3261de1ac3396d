/**
 * Candidates in the bench's own process, each on its own Session: the ones whose hand-over is
 * timed, so that both ends of a measurement read the same clock.
 */
import { electLeader, Session, type Leadership, type TlsOptions } from '../lib/index.js';
import { countingTransport, newCounts } from '../spec/support/counting-transport.js';
import { until } from './timing.js';

export interface FrontCandidate {
  session: Session;
  /** electLeader's promise: resolves when this candidate leads. */
  leadership: Promise<Leadership>;
  isLeader(): boolean;
}

const SETTLE_MS = 15_000;

/**
 * Joins the election with electLeader on a fresh session and returns once the candidate waits
 * with its watch registered on the server (or leads): no join traffic overlaps the next figure.
 */
export async function joinFront(path: string, connect: string, stop: AbortSignal, tls?: TlsOptions): Promise<FrontCandidate> {
  const counts = newCounts();
  const session = await Session.connect({ connect, transport: countingTransport(counts), ...(tls ? { tls } : {}) });
  let led = false;
  const leadership = electLeader(path, { connect: session, signal: stop });
  leadership.then(
    () => (led = true),
    () => {},
  );
  // A waiting candidate sends create, get (its own node), getChildren, then get with a watch.
  const ops = counts.byOperation;
  await until(() => led || ((ops.getChildren ?? 0) >= 1 && (ops.get ?? 0) >= 2), SETTLE_MS, `candidate joining ${path}`);
  // Requests on one session are answered in order: after this reply the watch is registered.
  await session.retrying('barrier', (handle) => handle.exists(path));
  return { session, leadership, isLeader: () => led };
}

/** Ends a front candidate: resigns if it leads, then closes its session (which deletes its node). */
export async function dropFront(candidate: FrontCandidate): Promise<void> {
  if (candidate.isLeader()) await (await candidate.leadership).resign().catch(() => {});
  await candidate.session.close();
}
