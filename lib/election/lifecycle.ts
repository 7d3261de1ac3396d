/**
 * The lifecycle of a candidate (an Election), as data: its states, the one table of allowed
 * transitions, and the events it emits. Election changes its state only through a transition
 * checked here; listeners get `state` after the field has changed.
 *
 *   latent  -> joining | closing
 *   joining -> joining | waiting | leading | closing   (session, our node, the first listing)
 *   waiting -> waiting | joining | leading | closing   (watch on the predecessor armed; again when it changes)
 *   leading -> joining | closing                       (term over: requeue, or close)
 *   closing -> closed                                  (our node deleted, our own session closed)
 *   closed  -> (final)
 */
import { ElectionStateError, type LeadershipLostError } from '../errors.js';
import type { Leadership } from './leadership.js';
import type { Participant } from '../observe/list-participants.js';

export type ElectionState = 'latent' | 'joining' | 'waiting' | 'leading' | 'closing' | 'closed';

export const TRANSITIONS: Readonly<Record<ElectionState, readonly ElectionState[]>> = {
  latent: ['joining', 'closing'],
  joining: ['joining', 'waiting', 'leading', 'closing'],
  waiting: ['waiting', 'joining', 'leading', 'closing'],
  leading: ['joining', 'closing'],
  closing: ['closed'],
  closed: [],
};

/** Throws ILLEGAL_TRANSITION for a transition the table does not allow. */
export function checkTransition(path: string, from: ElectionState, to: ElectionState, cause: string): void {
  if (!TRANSITIONS[from].includes(to)) {
    throw new ElectionStateError(`election ${path}: no transition ${from} -> ${to} (${cause})`, 'ILLEGAL_TRANSITION');
  }
}

/** Placed and watching: emitted once the watch on the predecessor is armed, and again when the predecessor changes. */
export interface WaitingInfo {
  /** Our node. */
  node: string;
  /** The node we wait behind (the only one we watch). */
  predecessor: string;
  /** The predecessor's participant id, when its data names one. */
  predecessorId: string | undefined;
  /** Candidates ahead of us (1 = next in line). */
  position: number;
  /** The leader's node name, as of the same listing (the predecessor itself when position is 1). */
  leader: string;
}

export interface ElectionEvents {
  state: [to: ElectionState, from: ElectionState, cause: string];
  waiting: [info: WaitingInfo];
  elected: [leadership: Leadership];
  lost: [leadership: Leadership, error: LeadershipLostError];
  suspended: [leadership: Leadership];
  resumed: [leadership: Leadership];
  /** The leader (a Participant), or undefined when nobody leads: now, and on every change. Costs a watch while listened to. */
  leader: [leader: Participant | undefined];
  error: [error: Error];
}
