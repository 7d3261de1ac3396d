/**
 * zk-election: leader election on Apache ZooKeeper. Every public name is listed here by name (no
 * `export *`): what is not listed is not API. spec/unit/public-surface.test.ts holds the list.
 */
export { electLeader, type ElectLeaderOptions } from './election/elect-leader.js';
export { Election, type ElectionOptions } from './election/election.js';
export type { ElectionEvents, ElectionState, WaitingInfo } from './election/lifecycle.js';
export { Leadership, type SuspendedPolicy } from './election/leadership.js';
export { runAsLeader, type RunAsLeaderOptions } from './election/run-as-leader.js';
export type { CandidateOptions } from './election/election-options.js';

export { getLeader, listParticipants, participantToJson, type Participant } from './observe/list-participants.js';
export { observeLeader, type ObserveLeaderOptions } from './observe/observe-leader.js';
export { requestStepDown, type StepDownOptions, type StepDownResult } from './observe/request-step-down.js';

export { Session, type SessionOptions, type SessionState, type SessionEvents, type AuthInfo } from './session/session.js';
export type { RetryPolicy } from './session/retry.js';

export { MAX_PAYLOAD_BYTES, type CandidatePayload } from './znode/payload.js';
export { Perms, type Acl, type Stat } from './zk/handle.js';
export type { Transport, ZkHandle, HandleOptions, HandleEvents, Watcher, WatchEvent } from './zk/handle.js';
export type { MultiOp, MultiResult } from './zk/handle.js';
export type { Logger } from './util/logger.js';
export type { Clock } from './util/clock.js';

export {
  ZkElectionError,
  isZkElectionError,
  type ErrorCode,
  type ZooKeeperErrorCode,
  type LibraryErrorCode,
  // ZooKeeper's answers (codes from the return-code table)
  ZooKeeperError,
  NoNodeError,
  NodeExistsError,
  NoAuthError,
  ConnectionLossError,
  OperationTimeoutError,
  SessionExpiredError,
  // The library's own
  InvalidPathError,
  InvalidArgumentError,
  InvalidConnectStringError,
  NativeClientError,
  DataTooLargeError,
  SessionTimeoutError,
  UnreachableError,
  AbortedError,
  TimeoutError,
  ClosedError,
  LeadershipLostError,
  type LostReason,
  CandidateGoneError,
  NoLeaderError,
  NoParticipantError,
  NotLeaderError,
  ElectionStateError,
  DrainFailedError,
} from './errors.js';
