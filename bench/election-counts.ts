/**
 * Counting per election on a shared session: a Transport that wraps the native one and charges
 * every request, and every watch notification delivered, to the election its path belongs to
 * (the election node itself, or a candidate node under it). The mass-failover figure uses it to
 * say, election by election, which candidates did any ZooKeeper work: the library keeps no
 * counters of its own.
 */
import type { Transport, Watcher } from '../lib/index.js';
import { nativeTransport } from '../lib/zk/native-client.js';
import { interceptingTransport } from '../spec/support/counting-transport.js';
import { hrNow } from './timing.js';

/** The methods whose second argument may be a watcher. */
const WATCHING = new Set(['get', 'exists', 'getChildren']);

export class ElectionCounts {
  /** Requests per election, by index, except `exists` (keep-alives). */
  readonly requests: number[];
  /**
   * `exists` reads: the session's keep-alive (`exists /` every third of the session timeout while
   * any term on it runs: Session.keepAlive), the only `exists` a candidate sends. Not an election's
   * work, so counted for the whole process, not per election.
   */
  keepAlives = 0;
  /** Watch notifications delivered to this process per election, by index. */
  readonly notifications: number[];
  /** Every request by operation, the bench's own (markers) included. */
  readonly byOperation: Record<string, number> = {};
  readonly #index = new Map<string, number>();

  constructor(paths: readonly string[]) {
    this.requests = paths.map(() => 0);
    this.notifications = paths.map(() => 0);
    paths.forEach((path, i) => this.#index.set(path, i));
  }

  /** The election `path` belongs to: the election node itself or one of its children. */
  indexOf(path: string): number | undefined {
    return this.#index.get(path) ?? this.#index.get(path.slice(0, path.lastIndexOf('/')));
  }

  /** When the first and the last watch notification of an election arrived (hrtime ms, NaN: none yet). */
  firstNotification = Number.NaN;
  lastNotification = Number.NaN;

  request(op: string, path: unknown): void {
    this.byOperation[op] = (this.byOperation[op] ?? 0) + 1;
    if (op === 'exists') {
      this.keepAlives += 1;
      return;
    }
    const i = typeof path === 'string' ? this.indexOf(path) : undefined;
    if (i !== undefined) this.requests[i] = (this.requests[i] ?? 0) + 1;
  }

  notified(path: string, at: number): void {
    const i = this.indexOf(path);
    if (i === undefined) return;
    this.notifications[i] = (this.notifications[i] ?? 0) + 1;
    if (Number.isNaN(this.firstNotification)) this.firstNotification = at;
    this.lastNotification = at;
  }

  /** Forgets the notification times, so that the next ones are a new span. */
  markNotifications(): void {
    this.firstNotification = Number.NaN;
    this.lastNotification = Number.NaN;
  }
}

/** A Transport whose handles charge their requests and notifications to `counts`. */
export function electionCountingTransport(counts: ElectionCounts, inner: Transport = nativeTransport): Transport {
  return interceptingTransport((operation, args) => {
    counts.request(operation, args[0]);
    const watcher = args[1];
    if (!WATCHING.has(operation) || typeof watcher !== 'function') return;
    const counted: Watcher = (event) => {
      counts.notified(event.path, hrNow());
      (watcher as Watcher)(event);
    };
    args[1] = counted;
  }, inner);
}
