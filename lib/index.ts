/** zk-election: leader election on Apache ZooKeeper. Public exports only. */
export { electLeader, type ElectLeaderOptions } from './elect-leader.js';
export { Election, type ElectionOptions } from './election.js';
export type { ElectionEvents, ElectionState, WaitingInfo } from './lifecycle.js';
export { Leadership, type SuspendedPolicy } from './leadership.js';
export { runAsLeader, type RunAsLeaderOptions } from './run-as-leader.js';
export { getLeader, listParticipants, participantToJson, type Participant } from './participants.js';
export { Session, type SessionOptions, type SessionState, type SessionEvents, type AuthInfo } from './session.js';
export { MAX_PAYLOAD_BYTES, type CandidateOptions, type CandidatePayload } from './options.js';
export { Perms, type Acl, type Stat } from './zk-handle.js';
export type { RetryPolicy } from './retry.js';
export type { Logger } from './logger.js';
export type { Clock } from './clock.js';
export type { Transport, ZkHandle, HandleOptions, HandleEvents, Watcher, WatchEvent } from './zk-handle.js';
export * from './errors.js';
export { observeLeader, type ObserveLeaderOptions } from './observe.js';
export { requestStepDown, type StepDownOptions, type StepDownResult } from './step-down.js';
