/// <reference types="node" preserve="true" />
/**
 * `zk-election/testing`: the kit for testing services built on zk-election, as curator-test and
 * kazoo.testing are for theirs. Real ZooKeeper servers (a standalone server or a 3-node ensemble)
 * on free loopback ports, tracked by pid so that nothing outlives the process that started them.
 * It is its own entry point: the library proper never loads it.
 */
export { DEFAULT_SEARCH_DIRS, findJava, findZooKeeperClasspath, findZooKeeperRuntime, type ZooKeeperRuntime } from './classpath.js';
export { startZooKeeper, type LocalEnsemble, type StartZooKeeperOptions } from './ensemble.js';
export type { TestTlsOptions } from './ensemble-tls.js';
export type { TestCertificates } from './certificates.js';
export { TestingError, ZooKeeperNotFoundError, ServerTimeoutError, type TestingErrorCode } from './testing-errors.js';
export { fourLetter, parseMode, type ServerMode } from './four-letter.js';
export { logTail } from './log-tail.js';
export { ServerExitedError, type LocalServer } from './local-server.js';
export { expireSession, type ExpireSessionOptions } from './expire.js';
export { MemoryZooKeeper, type MemoryZooKeeperOptions, type SessionTarget } from './memory/memory-zookeeper.js';
export { ManualClock } from './memory/manual-clock.js';
