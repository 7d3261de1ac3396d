/**
 * requestStepDown(): ask the leader of an election (or the participant with a given id, which must
 * be the leader) to step down, and wait until another participant leads. The request is a field
 * written into the leader's own node, which it watches: it ends its term with reason `step-down`,
 * stops its work (an Election's `drain`, `zk-election run`'s command) and only then releases its
 * node, so the next leader starts after the old one has stopped. `force` deletes the node
 * instead, for a participant that cannot answer (frozen, partitioned): its own watch, or its
 * session, then tells it.
 */
import { abortReason, combineSignals } from '../util/abort.js';
import { InvalidArgumentError, isZkElectionError, NoLeaderError, NoParticipantError, NotLeaderError, UnreachableError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { observeLeader } from './observe-leader.js';
import { readParticipants, type Participant } from './list-participants.js';
import { defaultConnectString, type Session } from '../session/session.js';
import { resolveSession } from '../session/resolve-session.js';
import type { AuthInfo } from '../session/session-options.js';
import { withStepDownRequest } from '../znode/step-down-request.js';
import { keysOf, optionalSignal, optionalTimeout, optionsObject, validateElectionPath } from '../util/validate.js';
import type { ZkHandle } from '../zk/handle.js';

export interface StepDownOptions {
  /** Only this participant, and only if it leads (NOT_LEADER otherwise). @default the leader */
  id?: string;
  connect?: string | Session;
  signal?: AbortSignal;
  /** ms to wait for another leader; then it rejects with TIMEOUT. @default 30000 */
  timeout?: number;
  /** Who asks, recorded in the request. @default user@host */
  by?: string;
  connectTimeout?: number;
  auth?: AuthInfo | AuthInfo[];
  logger?: Logger;
}

export interface StepDownResult {
  /** The participant asked to step down. */
  previous: Participant;
  /** The leader after it (another node: with nobody else waiting, the same participant's next term). */
  next: Participant;
}

export const DEFAULT_STEP_DOWN_TIMEOUT = 30_000;

const STEP_DOWN_KEYS = keysOf<StepDownOptions>()('id', 'connect', 'signal', 'timeout', 'by', 'connectTimeout', 'auth', 'logger');

/** Asks the leader to step down; resolves once another node leads. */
export function requestStepDown(path: string, options: StepDownOptions = {}): Promise<StepDownResult> {
  return stepDown(path, options, false);
}

/** Deletes the participant's node instead of asking (`zk-election step-down --force`). */
export function forceStepDown(path: string, options: StepDownOptions = {}): Promise<StepDownResult> {
  return stepDown(path, options, true);
}

async function stepDown(path: string, options: StepDownOptions, force: boolean): Promise<StepDownResult> {
  optionsObject('options', options, STEP_DOWN_KEYS);
  validateElectionPath(path);
  if (options.id !== undefined && typeof options.id !== 'string') throw new InvalidArgumentError('Expected `id` to be a string');
  if (options.by !== undefined && typeof options.by !== 'string') throw new InvalidArgumentError('Expected `by` to be a string');
  optionalSignal('signal', options.signal);
  const timeout = optionalTimeout('timeout', options.timeout) ?? DEFAULT_STEP_DOWN_TIMEOUT;
  const { signal, dispose } = combineSignals([options.signal], timeout, `no other leader of ${path} within ${timeout} ms`);
  const { session, owned } = await resolveSession(options.connect, { ...options, signal }).catch((error: unknown) => {
    // The time ran out before ZooKeeper answered at all: that is an unreachable ensemble, not a
    // leader that would not step down (the caller's advice differs: check the ensemble, not --force).
    if (signal.aborted && !options.signal?.aborted) throw new UnreachableError(typeof options.connect === 'string' ? options.connect : defaultConnectString(), timeout, { cause: error });
    throw error;
  });
  try {
    const { target, leader } = await session.retrying('find participant', (handle) => findTarget(handle, path, options.id, force), { signal });
    if (force) {
      await session.retrying('delete participant node', (handle) => handle.delete(target.node), { signal }).catch(ignoreNoNode);
    } else {
      await session.retrying('request step-down', (handle) => writeRequest(handle, target.node, options.by ?? defaultRequester()), { signal });
    }
    // A waiting participant removed by force changes no leader.
    if (target.node !== leader.node) return { previous: target, next: leader };
    for await (const next of observeLeader(path, { connect: session, signal })) {
      if (next && next.node !== target.node) return { previous: target, next };
    }
    throw abortReason(signal);
  } finally {
    dispose();
    if (owned) await session.close();
  }
}

async function findTarget(handle: ZkHandle, path: string, id: string | undefined, force: boolean): Promise<{ target: Participant; leader: Participant }> {
  const participants = await readParticipants(handle, path);
  const leader = participants[0];
  if (!leader) throw new NoLeaderError(path);
  if (id === undefined) return { target: leader, leader };
  const target = participants.find((p) => p.id === id);
  if (!target) throw new NoParticipantError(path, id);
  if (!force && target.node !== leader.node) throw new NotLeaderError(path, id, leader.id);
  return { target, leader };
}

/** Adds the request to the node's data, keeping the rest; a concurrent write makes it read again. */
async function writeRequest(handle: ZkHandle, node: string, by: string): Promise<void> {
  for (;;) {
    try {
      const { data, stat } = await handle.get(node);
      await handle.setData(node, withStepDownRequest(data, by), stat.version);
      return;
    } catch (error) {
      // Gone already: it left on its own, which is what we asked for.
      if (isZkElectionError(error, 'NO_NODE')) return;
      if (!isZkElectionError(error, 'BAD_VERSION')) throw error;
    }
  }
}

function ignoreNoNode(error: unknown): void {
  if (!isZkElectionError(error, 'NO_NODE')) throw error;
}

function defaultRequester(): string {
  const os = process.getBuiltinModule('node:os');
  try {
    return `${os.userInfo().username}@${os.hostname()}`;
  } catch {
    return os.hostname();
  }
}
