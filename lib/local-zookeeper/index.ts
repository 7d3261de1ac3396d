/**
 * Local ZooKeeper servers for tests and `zk-election demo`: real JVMs on loopback ports,
 * tracked by pid so that nothing outlives the process that started them.
 */
export { DEFAULT_SEARCH_DIRS, findJava, findZooKeeperClasspath, findZooKeeperRuntime, type ZooKeeperRuntime } from './classpath.js';
export { startZooKeeper, type LocalEnsemble, type StartZooKeeperOptions } from './ensemble.js';
export { fourLetter, parseMode, type ServerMode } from './four-letter.js';
export { logTail } from './log-tail.js';
export { ServerExitedError, type LocalServer } from './server.js';
