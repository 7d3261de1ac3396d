import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import {
  fourLetter as fourLetterToPort,
  logTail,
  startZooKeeper,
  type LocalEnsemble,
  type StartZooKeeperOptions,
} from 'zk-election/testing';

/**
 * The jest fixture for a real ZooKeeper, in the manner of kazoo's harness: one ensemble per
 * test file (or describe block), a fresh subtree per test, and the server logs printed when
 * a test failed.
 */

export interface UseZooKeeperOptions extends StartZooKeeperOptions {
  /** Timeout of the beforeAll that starts the servers. @default 60000 */
  beforeAllTimeoutMs?: number;
  /** Lines of each server log printed after a failure. @default 80 */
  logLines?: number;
}

export interface ZooKeeperFixture {
  /** Set by beforeAll; reading it earlier throws. */
  readonly ensemble: LocalEnsemble;
  readonly connectString: string;
}

/** Starts a local ensemble in beforeAll and stops it in afterAll of the enclosing block. */
export function useZooKeeper(options: UseZooKeeperOptions = {}): ZooKeeperFixture {
  const { beforeAllTimeoutMs = 60_000, logLines = 80, ...startOptions } = options;
  let ensemble: LocalEnsemble | undefined;
  beforeAll(async () => {
    ensemble = await startZooKeeper(startOptions);
  }, beforeAllTimeoutMs);
  afterAll(async () => {
    if (!ensemble) return;
    if (anyTestFailed() || process.env.ZK_PRINT_SERVER_LOGS === '1') await printServerLogs(ensemble, logLines);
    await ensemble.stop();
  }, beforeAllTimeoutMs);
  const started = (): LocalEnsemble => {
    if (!ensemble) throw new Error('useZooKeeper: the ensemble is started in beforeAll; use it inside a test or hook');
    return ensemble;
  };
  return {
    get ensemble() {
      return started();
    },
    get connectString() {
      return started().connectString;
    },
  };
}

/** A fresh `/t-<random>/<prefix>` path, so that every test works in its own subtree. */
export function uniquePath(prefix = 'election'): string {
  return `/t-${randomBytes(6).toString('hex')}/${prefix}`;
}

/**
 * A four-letter word to a port, or to the first server of a connect string
 * (`127.0.0.1:2181,127.0.0.1:2182` or with a chroot suffix).
 */
export function fourLetter(connectStringOrPort: string | number, word: string, timeoutMs?: number): Promise<string> {
  if (typeof connectStringOrPort === 'number') return fourLetterToPort(connectStringOrPort, word, timeoutMs);
  const first = connectStringOrPort.split(',')[0]?.split('/')[0] ?? '';
  const match = /^(.+):(\d+)$/.exec(first);
  if (!match?.[1] || !match[2]) throw new Error(`fourLetter: no host:port in ${JSON.stringify(connectStringOrPort)}`);
  return fourLetterToPort(Number(match[2]), word, timeoutMs, match[1]);
}

async function printServerLogs(ensemble: LocalEnsemble, lines: number): Promise<void> {
  if (!fs.existsSync(ensemble.baseDir)) {
    process.stderr.write(`\n===== ZooKeeper logs: ${ensemble.baseDir} is gone (the ensemble was stopped inside a test)\n`);
    return;
  }
  for (const server of ensemble.servers) {
    const tail = await logTail(server.logFile, lines);
    process.stderr.write(`\n===== ZooKeeper server ${server.id} (port ${server.clientPort}): last ${lines} lines of ${server.logFile}\n${tail}\n`);
  }
}

interface CircusBlock {
  type: 'describeBlock' | 'test';
  children?: CircusBlock[];
  errors?: unknown[];
}

/**
 * Whether a test of this file has failed so far. Jest has no public API for that in an
 * afterAll, so this reads jest-circus's state, which it keeps on the test file's global
 * under a symbol named JEST_STATE_SYMBOL. Should that ever change, it answers false and the
 * logs are not printed (ZK_PRINT_SERVER_LOGS=1 prints them anyway).
 */
function anyTestFailed(): boolean {
  const symbol = Object.getOwnPropertySymbols(globalThis).find((s) => s.description === 'JEST_STATE_SYMBOL');
  const state = symbol ? (globalThis as unknown as Record<symbol, { rootDescribeBlock?: CircusBlock } | undefined>)[symbol] : undefined;
  return state?.rootDescribeBlock ? blockFailed(state.rootDescribeBlock) : false;
}

function blockFailed(block: CircusBlock): boolean {
  if (block.type === 'test') return (block.errors?.length ?? 0) > 0;
  return (block.children ?? []).some(blockFailed);
}
