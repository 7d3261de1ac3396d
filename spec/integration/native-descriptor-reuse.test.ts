/**
 * Issue 14, the native client's abort: a regression test on a real server. The scenario runs in a
 * child process (spec/support/descriptor-reuse-child.ts), because on the unpatched binding
 * it kills its process: one handle's C client closes its socket inside a request (a failed send),
 * and a second handle's socket gets the same descriptor number while the binding still polls it.
 * The patched binding (lib/native, built by `npm install`) polls a descriptor of its own instead.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { addonFile } from '../../lib/zk/native-binding.js';
import { spawnTracked, type TrackedProcess } from '../support/processes.js';
import { useZooKeeper } from '../support/zookeeper.js';

const CHILD = fileURLToPath(new URL('../../dist/spec/support/descriptor-reuse-child.js', import.meta.url));
const RUN_MS = 45_000;
/**
 * On the unpatched binding the child dies in uv_poll_start at once (SIGSEGV or SIGABRT), but that is
 * undefined behaviour on an uninitialised handle, which could as well corrupt the event loop and run
 * on: a 3 GiB address-space limit makes any such run end quickly too.
 */
const BOUNDED = 'ulimit -v 3000000 && exec "$0" "$@"';

const zk = useZooKeeper({ servers: 1 });
const children: TrackedProcess[] = [];
afterEach(async () => {
  await Promise.allSettled(children.splice(0).map((child) => child.kill9()));
});

test('the native client zk-election loads is built from the patched source', () => {
  const addon = addonFile();
  // In a child: the test runner's own module registry is no place to load an addon twice.
  const mark = execFileSync(process.execPath, ['-p', `require(${JSON.stringify(addon)}).ZooKeeper.ZK_ELECTION_PATCH`], { encoding: 'utf8' }).trim();
  expect(mark).toBe('owned-poll-descriptor/1');
});

test('a socket descriptor freed inside a request and reused by a second handle at once: both handles live on', async () => {
  const child = await spawnTracked('/bin/bash', ['-c', BOUNDED, process.execPath, CHILD, zk.connectString]);
  children.push(child);
  const exit = await child.waitForExit(RUN_MS);
  const lines = child.lines.map((line) => JSON.parse(line) as { event: string; fd?: number; message?: string });
  const report = `stdout:\n${child.lines.join('\n')}\nstderr:\n${child.errorLines.join('\n')}`;
  // The reuse really happened (exit 2 would mean the setup did not reproduce it)...
  expect({ exit, reused: lines.some((l) => l.event === 'reused' && typeof l.fd === 'number'), report }).toEqual({
    exit: { code: 0, signal: null },
    reused: true,
    report,
  });
  // ...and both handles answered afterwards.
  expect(lines.at(-1)?.event).toBe('ok');
}, RUN_MS + 10_000);
