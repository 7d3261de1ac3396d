/**
 * requestStepDown(): ask the leader of an election (or the participant with a given id, which must
 * be the leader) to step down, and wait until another participant leads. The request is a field
 * written into the leader's own node, which it watches: it ends its term with reason `step-down`,
 * stops its work (an Election's `drain`, `zk-election run`'s command) and only then releases its
 * node, so the next leader starts after the old one has stopped. `force` deletes the node
 * instead, for a participant that cannot answer (frozen, partitioned): its own watch, or its
 * session, then tells it. `to` hands leadership to a named participant (handoff.ts).
 */
import { abortReason, combineSignals } from '../util/abort.js';
import { HandoffError, InvalidArgumentError, isZkElectionError, NoLeaderError, NoParticipantError, NotLeaderError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { observeLeader } from './observe-leader.js';
import { readLeader, readParticipants, type Participant } from './list-participants.js';
import type { Session } from '../session/session.js';
import { resolveSession } from '../session/resolve-session.js';
import type { AuthInfo } from '../session/session-options.js';
import { requeueBehind, writeRequest } from './handoff.js';
import { validateTlsOptions, type TlsOptions } from '../session/tls-options.js';
import { keysOf, optionalSignal, optionalTimeout, optionsObject, validateElectionPath } from '../util/validate.js';
import type { ZkHandle } from '../zk/handle.js';

export interface StepDownOptions {
  /** Only this participant, and only if it leads (NOT_LEADER otherwise). @default the leader */
  id?: string | undefined;
  /**
   * Hand leadership to the participant with this id: when the promise resolves it leads, and
   * nobody else led in between; the others keep their relative order behind it. Already the
   * leader: resolves at once. It leaves before it can lead: rejects with HANDOFF_TARGET_GONE
   * once another participant leads (a normal succession); the leader leaves on its own before it
   * is asked: HANDOFF_INTERRUPTED.
   */
  to?: string | undefined;
  connect?: string | Session | undefined;
  signal?: AbortSignal | undefined;
  /** ms to wait for another leader; then it rejects with TIMEOUT. @default 30000 */
  timeout?: number | undefined;
  /** Who asks, recorded in the request. @default user@host */
  by?: string | undefined;
  connectTimeout?: number | undefined;
  auth?: AuthInfo | AuthInfo[] | undefined;
  /**
   * Connect over TLS (ZooKeeper's secureClientPort): **paths** of PEM files, checked when this is
   * called, before anything connects (TLS_CONFIG). Ignored with a shared Session (it has its own).
   * @default plaintext
   */
  tls?: TlsOptions | undefined;
  logger?: Logger | undefined;
}

export interface StepDownResult {
  /** The participant asked to step down. */
  previous: Participant;
  /** The leader after it (another node: with nobody else waiting, the same participant's next term). */
  next: Participant;
}

export const DEFAULT_STEP_DOWN_TIMEOUT = 30_000;

const STEP_DOWN_KEYS = keysOf<StepDownOptions>()('id', 'to', 'connect', 'signal', 'timeout', 'by', 'connectTimeout', 'auth', 'tls', 'logger');

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
  if (options.to !== undefined && (typeof options.to !== 'string' || options.to === '')) throw new InvalidArgumentError('Expected `to` to be a non-empty participant id');
  validateTlsOptions(options.tls);
  const timeout = optionalTimeout('timeout', options.timeout) ?? DEFAULT_STEP_DOWN_TIMEOUT;
  const { signal, dispose } = combineSignals([options.signal], timeout, `no other leader of ${path} within ${timeout} ms`);
  // Reaching ZooKeeper is bounded by its own timeout, at most `timeout`: an unreachable ensemble
  // is UNREACHABLE with its cause (a name that does not resolve), not a leader that would not step
  // down (the advice differs: check the ensemble, not --force).
  const { session, owned } = await resolveSession(options.connect, { ...options, connectTimeout: Math.min(options.connectTimeout ?? timeout, timeout) }).catch((error: unknown) => {
    dispose();
    throw error;
  });
  try {
    // One look at the election finds the leader, the participant asked and the handoff's target
    // (the requeues below start from this same listing): each listing reads every candidate's node.
    const { target, leader, successor, queue } = await session.retrying('find participant', (handle) => findParticipants(handle, path, options.id, options.to, force), { signal });
    const by = options.by ?? defaultRequester();
    // Already leads: nothing to do.
    if (successor?.node === leader.node) return { previous: leader, next: leader };
    if (successor && queue) await requeueBehind(session, queue, leader, successor, by, signal);
    if (force) {
      await session.retrying('delete participant node', (handle) => handle.delete(target.node), { signal }).catch(ignoreNoNode);
    } else {
      await session.retrying('request step-down', (handle) => writeRequest(handle, target.node, 'stepDown', { by, ...(options.to === undefined ? {} : { to: options.to }) }), { signal });
    }
    // A waiting participant removed by force changes no leader.
    if (target.node !== leader.node) return { previous: target, next: leader };
    for await (const next of observeLeader(path, { connect: session, signal })) {
      if (!next || next.node === target.node) continue;
      if (successor && next.node !== successor.node) {
        const gone = (await session.retrying('check successor', (handle) => handle.exists(successor.node), { signal })) === undefined;
        throw new HandoffError(gone ? 'HANDOFF_TARGET_GONE' : 'HANDOFF_INTERRUPTED', path, successor.id, next.id);
      }
      return { previous: target, next };
    }
    throw abortReason(signal);
  } finally {
    dispose();
    if (owned) await session.close();
  }
}

interface Found {
  target: Participant;
  leader: Participant;
  /** The participant a handoff goes to. */
  successor?: Participant | undefined;
  /** Every participant, in order, when a handoff needs them. */
  queue?: Participant[] | undefined;
}

/**
 * The leader and the participant asked (NO_LEADER, NO_PARTICIPANT, NOT_LEADER), and a handoff's
 * target (NO_PARTICIPANT when nobody has that id). A plain step-down of the leader reads the leader
 * alone (two requests, whatever N); the others read every participant once.
 */
async function findParticipants(handle: ZkHandle, path: string, id: string | undefined, to: string | undefined, force: boolean): Promise<Found> {
  if (id === undefined && to === undefined) {
    const leader = await readLeader(handle, path);
    if (!leader) throw new NoLeaderError(path);
    return { target: leader, leader };
  }
  const participants = await readParticipants(handle, path);
  const leader = participants[0];
  if (!leader) throw new NoLeaderError(path);
  const target = id === undefined ? leader : participants.find((p) => p.id === id);
  if (!target) throw new NoParticipantError(path, id!);
  if (!force && target.node !== leader.node) throw new NotLeaderError(path, id!, leader.id);
  if (to === undefined) return { target, leader };
  const successor = participants.find((p) => p.id === to);
  if (!successor) throw new NoParticipantError(path, to);
  return { target, leader, successor, queue: participants };
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
