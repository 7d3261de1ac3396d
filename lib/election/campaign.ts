/**
 * One campaign: from "no node" (or a node that is still good) to "our node is the lowest". It is
 * one function retried as a whole (kazoo's shape): whatever means "start over" (the session
 * expired, our node was deleted, the connection stayed lost) is an error that p-retry answers
 * with a fresh attempt after bounded backoff, once the old node is released. The election that
 * runs it sees only what {@link CampaignHost} exposes.
 */
import { abortReason, raceAbort } from '../util/abort.js';
import { newPlacement, placeNode, readStanding, watchPredecessor, type Placement } from './candidacy.js';
import { CandidateGoneError, isRetryable, type ZkElectionError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import type { ValidatedCandidateOptions } from './election-options.js';
import type { TermInit } from './leadership.js';
import { retry } from '../session/retry.js';
import type { Session } from '../session/session.js';
import type { WatchEvent } from '../zk/handle.js';

export interface CampaignHost {
  readonly session: Session;
  readonly parent: string;
  readonly options: ValidatedCandidateOptions;
  readonly logger: Logger;
  /** The election's stop: close() aborts it. */
  readonly signal: AbortSignal;
  /** The placement the election holds, and how to hand it a new one (before its create is sent). */
  current(): Placement | undefined;
  adopt(placement: Placement): void;
  /** Releases the held placement: deletes its node, or finds it by marker first. */
  release(): Promise<void>;
  /** Registers what wakes the current wait (a deleted own node, an ended session, close()). */
  setWake(wake: (() => void) | undefined): void;
  onWaiting(info: { node: string; predecessor: string; predecessorId: string | undefined; position: number }): void;
  /** The watch on our own node fired: deleted, or its data changed (a step-down request). */
  onOwnNode(placement: Placement, event: WatchEvent): void;
  /** A start-over: back to joining, with the cause. */
  restart(cause: string): void;
}

/** Campaigns until our node is the lowest; resolves with its placement. */
export function campaign(host: CampaignHost): Promise<Placement> {
  const policy = host.options.retry ?? {};
  let placedOnce = host.current() !== undefined;
  return retry(
    'campaign',
    async () => {
      const placement = await ensurePlaced(host);
      placedOnce = true;
      await waitUntilLowest(host, placement);
      return placement;
    },
    {
      retries: policy.retries ?? Infinity,
      minTimeout: policy.minTimeout ?? 50,
      maxTimeout: policy.maxTimeout ?? 2000,
      ...(policy.maxRetryTime === undefined ? {} : { maxRetryTime: policy.maxRetryTime }),
      signal: host.signal,
      logger: host.logger,
      retryIf: (error) => !host.signal.aborted && isStartOver(error, placedOnce),
      beforeRetry: async (error) => {
        host.logger.warn('candidacy interrupted, starting over', { error: (error as Error).message });
        await host.release();
        if (!host.signal.aborted) host.restart(`start over: ${(error as Error).message}`);
      },
    },
  );
}

/**
 * Worth a fresh attempt: our node or its session is gone, or the connection stayed lost. An
 * unreachable ensemble counts only once we had joined; before that, start() reports it.
 */
function isStartOver(error: unknown, joined: boolean): boolean {
  if (error instanceof CandidateGoneError || isRetryable(error)) return true;
  const code = (error as ZkElectionError).code;
  return code === 'SESSION_EXPIRED' || code === 'SESSION_MOVED' || (joined && code === 'UNREACHABLE');
}

/** Our node, made anew unless the one we hold is still good. */
async function ensurePlaced(host: CampaignHost): Promise<Placement> {
  const held = host.current();
  if (held && !held.gone && held.name !== undefined && host.session.isCurrent(held.epoch)) return held;
  if (held) await host.release();
  const { epoch } = await host.session.connected(host.signal);
  const placement = newPlacement(host.parent, epoch);
  // Held before the create is sent: close() at any await below finds it and releases it.
  host.adopt(placement);
  const onOwnNode = (event: WatchEvent): void => host.onOwnNode(placement, event);
  await placeNode(host.session, placement, host.options.payload, { logger: host.logger, acl: host.options.acl, signal: host.signal, onOwnNode });
  host.logger.info('candidate node created', { node: placement.path, token: placement.token?.toString() });
  return placement;
}

/**
 * Waits until our node is the lowest. After every wake-up it lists the children again and
 * recomputes: a deleted predecessor never by itself means leadership (a lower candidate may still
 * live). It watches only its immediate predecessor, never the parent.
 */
async function waitUntilLowest(host: CampaignHost, placement: Placement): Promise<void> {
  const warned = new Set<string>();
  for (;;) {
    if (host.signal.aborted) throw abortReason(host.signal);
    if (placement.gone) throw new CandidateGoneError(placement.path!);
    const standing = await readStanding(host.session, placement, warned, host.logger, host.signal);
    if (placement.gone || standing.kind === 'absent') throw new CandidateGoneError(placement.path!);
    if (standing.kind === 'leader') return;
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    host.setWake(wake);
    try {
      const data = await watchPredecessor(host.session, placement, standing.predecessor.name, wake, host.signal);
      if (data === undefined || placement.gone) continue;
      host.onWaiting({ node: placement.path!, predecessor: standing.predecessor.name, predecessorId: participantId(data), position: standing.position });
      await raceAbort(woken, host.signal);
    } finally {
      host.setWake(undefined);
    }
  }
}

function participantId(data: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    const id = (parsed as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The init of a term that starts on `placement`: what the election knows, resolved. */
export function termOf(options: ValidatedCandidateOptions, session: Session, placement: Placement, term: number, logger: Logger): TermInit {
  return {
    id: options.id,
    parent: placement.parent,
    node: placement.path!,
    sequence: placement.sequence!,
    token: placement.token!,
    term,
    session,
    epoch: placement.epoch,
    // 10 % of the timeout the server granted: known only now that the session is.
    leaseMargin: options.leaseMargin ?? Math.round(session.negotiatedTimeout * 0.1),
    suspendedPolicy: options.suspendedPolicy,
    logger,
  };
}
