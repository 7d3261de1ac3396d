/**
 * A handoff: leadership moves from the leader L to a named participant T, and nobody else leads
 * in between. Built on the recipe's own rules (a queue ordered by creation, every candidate
 * watching only its predecessor), so every participant's safety argument stays the same:
 *
 *   1. Every candidate but L and T goes to the back of the queue, one at a time, in queue order
 *      (a `requeue` request in its node; it places a new node, then deletes the old one; we wait
 *      for that deletion before the next). Afterwards T is next after L, and the others stand in
 *      their old relative order behind T. Nothing to do when T is next already.
 *   2. L is asked to step down (the plain step-down: it stops its work, then releases its node).
 *   3. T, L's successor, leads; L rejoins behind everyone.
 *
 * At no moment can two participants lead: L stays the lowest node throughout 1 (requeues only
 * ever add nodes behind L and delete nodes behind L), and in 2 the successor of L is whoever is
 * next at that moment, as in any step-down. Tokens keep growing from leader to leader: a
 * requeued node is newer than T's. If T vanishes half-way (its process dies, its session
 * expires), the remaining steps still run and L's successor leads: a normal succession, reported
 * as HANDOFF_TARGET_GONE. If L vanishes half-way, its successor leads at that moment (T once T is
 * next). A candidate that does not requeue within REQUEUE_WAIT_MS (frozen, cut off) has its node
 * deleted instead: it rejoins at the back once it runs again, as after any deletion.
 */
import { isZkElectionError } from '../errors.js';
import type { Session } from '../session/session.js';
import type { ZkHandle } from '../zk/handle.js';
import { withNodeRequest, type RequestKind } from '../znode/node-requests.js';
import type { Participant } from './list-participants.js';

/** How long a candidate may take to requeue before its node is deleted for it, ms. */
export const REQUEUE_WAIT_MS = 3000;

/**
 * Step 1: everyone but `leader` and `target` behind `target`, in queue order (`queue`: the
 * participants as the caller listed them). Stops early when either is gone: each requeue first
 * checks that both still stand, so a listing that aged meanwhile moves nobody it should not.
 */
export async function requeueBehind(session: Session, queue: readonly Participant[], leader: Participant, target: Participant, by: string, signal: AbortSignal): Promise<void> {
  const position = queue.findIndex((p) => p.node === target.node);
  if (queue[0]?.node !== leader.node || position < 0) return;
  if (position === 1) return; // next already: the others keep their order as they are
  for (const participant of queue.slice(1)) {
    if (participant.node === target.node) continue;
    const [leaderStands, targetStands] = await Promise.all([stands(session, leader.node, signal), stands(session, target.node, signal)]);
    if (!leaderStands || !targetStands) return;
    await requeueOne(session, leader.node, participant.node, { by, to: target.id }, signal);
  }
}

/**
 * Asks one waiting candidate to requeue; resolves once its old node is gone (its new one exists by
 * then), or once the leader is (the handoff is over: whoever is next leads, this candidate maybe).
 */
async function requeueOne(session: Session, leader: string, node: string, request: { by: string; to: string }, signal: AbortSignal): Promise<void> {
  const written = await session.retrying('request requeue', (handle) => writeRequest(handle, node, 'requeue', request), { signal });
  if (!written) return;
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(REQUEUE_WAIT_MS)]);
  try {
    while (await session.retrying('watch requeued node', (handle) => allStand(handle, [node, leader], deadline), { signal: deadline }));
  } catch (error) {
    if (signal.aborted) throw error;
    // It did not move in time (frozen, cut off): while the leader still stands, its node is not a
    // leader's, and it goes; it rejoins at the back once it runs again.
    if (!(await stands(session, leader, signal))) return;
    await session.retrying('delete unresponsive candidate', (handle) => handle.delete(node), { signal }).catch((deleteError: unknown) => {
      if (!isZkElectionError(deleteError, 'NO_NODE')) throw deleteError;
    });
  }
}

/**
 * True once a change to any of `nodes` was seen while all of them stood (look again); false as
 * soon as one of them is gone. The watches are armed by the reads themselves.
 */
function allStand(handle: ZkHandle, nodes: readonly string[], signal: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    // The watches of this look are taken back once it is over: a watcher the handle keeps holds this wait.
    const watcher = (): void => settle(true);
    const settle = (value: boolean | Error): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      handle.unwatch?.(watcher);
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const onAbort = (): void => settle(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();
    for (const node of nodes) {
      handle.exists(node, watcher).then(
        (stat) => {
          if (stat === undefined) settle(false);
        },
        (error: unknown) => settle(error as Error),
      );
    }
  });
}

async function stands(session: Session, node: string, signal: AbortSignal): Promise<boolean> {
  return (await session.retrying('check participant', (handle) => handle.exists(node), { signal })) !== undefined;
}

/**
 * Adds a request to a node's data, keeping the rest; a concurrent write makes it read again.
 * False when the node is gone already (it left on its own).
 */
export async function writeRequest(handle: ZkHandle, node: string, kind: RequestKind, request: { by?: string; to?: string }): Promise<boolean> {
  for (;;) {
    try {
      const { data, stat } = await handle.get(node);
      await handle.setData(node, withNodeRequest(data, kind, request), stat.version);
      return true;
    } catch (error) {
      if (isZkElectionError(error, 'NO_NODE')) return false;
      if (!isZkElectionError(error, 'BAD_VERSION')) throw error;
    }
  }
}
