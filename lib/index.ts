/** zk-election: leader election on Apache ZooKeeper. Public exports only. */
export { electLeader, type ElectLeaderOptions } from './election/elect-leader.js';
export { Election, type ElectionOptions } from './election/election.js';
export type { ElectionEvents, ElectionState, WaitingInfo } from './election/lifecycle.js';
export { Leadership, type SuspendedPolicy } from './election/leadership.js';
export { runAsLeader, type RunAsLeaderOptions } from './election/run-as-leader.js';
export { getLeader, listParticipants, participantToJson, type Participant } from './observe/list-participants.js';
export { Session, type SessionOptions, type SessionState, type SessionEvents, type AuthInfo } from './session/session.js';
export type { CandidateOptions } from './election/election-options.js';
export { MAX_PAYLOAD_BYTES, type CandidatePayload } from './znode/payload.js';
export { Perms, type Acl, type Stat } from './zk/handle.js';
export type { RetryPolicy } from './session/retry.js';
export type { Logger } from './util/logger.js';
export type { Clock } from './util/clock.js';
export type { Transport, ZkHandle, HandleOptions, HandleEvents, Watcher, WatchEvent } from './zk/handle.js';
export * from './errors.js';
export { observeLeader, type ObserveLeaderOptions } from './observe/observe-leader.js';
export { requestStepDown, type StepDownOptions, type StepDownResult } from './observe/request-step-down.js';
