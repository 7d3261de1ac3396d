/**
 * Container parents on a server without them (ZooKeeper before 3.5 answers a container create
 * with UNIMPLEMENTED): the election still runs, its parents are made persistent, and the library
 * says so once per session at debug. No real server of that age is at hand, so the in-memory
 * ZooKeeper plays one: its transport is wrapped to refuse CONTAINER creates as such a server does.
 */
import { Election, Session, type Transport } from 'zk-election';
import { MemoryZooKeeper } from 'zk-election/testing';
import { errorForReturnCode } from '../../lib/errors.js';
import { CreateMode } from '../../lib/zk/handle.js';
import type { Logger } from '../../lib/util/logger.js';

/** The memory server's transport, with container creates refused (UNIMPLEMENTED, -6) and counted. */
function withoutContainers(memory: MemoryZooKeeper, refused: string[]): Transport {
  return (options) => {
    const handle = memory.transport(options);
    const create = handle.create.bind(handle);
    handle.create = (path, data, mode) => {
      if (mode !== CreateMode.CONTAINER) return create(path, data, mode);
      refused.push(path);
      return Promise.reject(errorForReturnCode(-6, { operation: 'create', path }));
    };
    return handle;
  };
}

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    error: (message) => void lines.push(`error ${message}`),
    warn: (message) => void lines.push(`warn ${message}`),
    info: () => undefined,
    debug: (message) => void lines.push(`debug ${message}`),
    child: () => logger,
  };
  return logger;
}

test('UNIMPLEMENTED on a container create: persistent parents, one debug line per session, the candidate leads', async () => {
  const memory = new MemoryZooKeeper();
  const refused: string[] = [];
  const lines: string[] = [];
  const session = await Session.connect({ connect: MemoryZooKeeper.CONNECT, transport: withoutContainers(memory, refused) });
  const first = new Election('/old/server/one', { connect: session, logger: recordingLogger(lines) });
  const second = new Election('/old/server/two', { connect: session, logger: recordingLogger(lines) });
  try {
    await first.start();
    await second.start();
    await Promise.all([first.waitForLeadership(), second.waitForLeadership()]);
    const fallbacks = lines.filter((line) => line.includes('no container nodes'));
    expect({
      // Tried once, on the first parent of this session's first walk; never again on it.
      refused,
      fallbacks: fallbacks.length,
      paths: ['/old', '/old/server', '/old/server/one', '/old/server/two'].map((path) => memory.exists(path)),
      errors: lines.filter((line) => line.startsWith('error')),
    }).toEqual({ refused: ['/old'], fallbacks: 1, paths: [true, true, true, true], errors: [] });
  } finally {
    await first.close();
    await second.close();
    await session.close();
  }
});
