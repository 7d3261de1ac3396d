/**
 * What the watch on a candidate's own node tells it. The watch is armed by the read that fetches
 * the node's token (no extra request) and re-armed by the read that follows each data change.
 * A deletion ends a term at once (before its successor can be elected) and wakes a waiting
 * candidate, which then rejoins; a data change may carry an operator's step-down request.
 */
import { rewatchOwnNode, type Placement } from './candidacy.js';
import type { Leadership } from './leadership.js';
import type { Session } from '../session/session.js';
import { stepDownRequest } from '../znode/step-down-request.js';
import type { WatchEvent } from '../zk/handle.js';

export function ownNodeChanged(session: Session, placement: Placement, event: WatchEvent, target: { term(): Leadership | undefined; wake(): void }): void {
  // Looked up at every event: a candidate that was waiting at the first one may lead by the next.
  const term = target.term();
  if (event.type === 'deleted') {
    placement.gone = true;
    term?.end('node-deleted', 'our candidate node was deleted');
    target.wake();
    return;
  }
  if (event.type !== 'changed' || placement.gone) return;
  void rewatchOwnNode(session, placement, (next) => ownNodeChanged(session, placement, next, target)).then(
    (data) => {
      const request = stepDownRequest(data);
      const current = target.term();
      if (request && current?.isLeader) current.end('step-down', `requested by ${request.by ?? 'an operator'}`);
    },
    (error: unknown) => {
      // The node went between the change and this read: the watch that would have told us of the
      // deletion was the one this change used up, so this read is how we learn it.
      if ((error as { code?: string }).code !== 'NO_NODE') return; // the session is over: its state tells
      ownNodeChanged(session, placement, { type: 'deleted', path: event.path }, target);
    },
  );
}
