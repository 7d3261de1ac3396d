/**
 * The native abort of issue 14, made deterministic: one process, two native handles, one socket
 * descriptor number handed from the first handle's C client to the second's while the binding
 * still polls it for the first.
 *
 *   node dist/spec/support/descriptor-reuse-child.js <host:port of a ZooKeeper server>
 *
 * 1. Handle A connects through a proxy in this process; no descriptor below A's socket is free.
 * 2. The proxy resets A's connection (RST), and A sends a request: the send fails and the C client
 *    closes its socket inside the a_* call (nonblocking_send), where the binding does not look.
 * 3. Handle B is created at once: its socket gets the number A's just freed. The unpatched binding
 *    still has A's uv_poll_t registered on that number, so B's uv_poll_init fails with UV_EEXIST
 *    (unchecked) and uv_poll_start on the uninitialised handle aborts the process
 *    (`uv_poll_start: Assertion '!uv__is_closing(handle)' failed`, or a SIGSEGV).
 * 4. With the patched binding both handles go on: B connects, A reconnects to its session.
 *
 * Prints JSON lines: `reused` (the number B's socket got), then `ok`; exits 0. Exits 2 when the
 * setup did not reproduce the reuse (so the run proves nothing), 1 on any other failure.
 */
import fs from 'node:fs';
import net from 'node:net';
import { systemClock } from '../../lib/util/clock.js';
import { pollUntil } from '../../lib/process/wait.js';
import { ZkClient } from '../../lib/zk/native-client.js';

const WAIT_MS = 20_000;
const SEND_ATTEMPTS = 200;
const SEND_GAP_MS = 5;
const pause = new Int32Array(new SharedArrayBuffer(4));
const target = process.argv[2] ?? '';
const [host = '', port = ''] = target.split(':');

function say(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function fail(code: number, message: string): never {
  say({ event: code === 2 ? 'not-reproduced' : 'failed', message });
  process.exit(code);
}

/** What descriptor `fd` refers to (`socket:[inode]`, a path), or undefined when it is free. */
function describeFd(fd: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** Opens /dev/null until every number below the highest open descriptor is taken; returns them. */
function fillHoles(): number[] {
  const highest = Math.max(...fs.readdirSync('/proc/self/fd').map(Number));
  const held: number[] = [];
  for (;;) {
    const fd = fs.openSync('/dev/null', 'r');
    if (fd > highest) {
      fs.closeSync(fd);
      return held;
    }
    held.push(fd);
  }
}

/** The number the next open() or socket() gets. */
function lowestFree(): number {
  const fd = fs.openSync('/dev/null', 'r');
  fs.closeSync(fd);
  return fd;
}

function connected(client: ZkClient, name: string): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not connect within ${WAIT_MS} ms`)), WAIT_MS);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A loopback proxy to the server whose client-side connections can be reset. */
async function startProxy(): Promise<{ port: number; accepted: net.Socket[]; server: net.Server }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      from.on('error', () => {});
      from.on('close', () => to.destroy());
      from.pipe(to);
    }
    accepted.push(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, accepted, server };
}

/** Asks until the client answers (it first has to reconnect), within WAIT_MS. */
async function answers(client: ZkClient, name: string): Promise<void> {
  let last: Error | undefined;
  const answered = await pollUntil(
    () =>
      client.exists('/').then(
        () => true,
        (error: unknown) => ((last = error as Error), false),
      ),
    { timeoutMs: WAIT_MS, intervalMs: 100 },
  );
  if (!answered) throw new Error(`${name} did not answer within ${WAIT_MS} ms: ${last?.message ?? 'no reply'}`);
}

if (!host || !port) fail(1, 'usage: descriptor-reuse-child.js <host:port>');
const proxy = await startProxy();
const holes = fillHoles();
const number = lowestFree();
const a = new ZkClient({ connect: `127.0.0.1:${proxy.port}`, sessionTimeout: 6000, clock: systemClock });
await connected(a, 'handle A');
const socketOfA = describeFd(number);
if (!socketOfA?.startsWith('socket:') || proxy.accepted.length !== 1) fail(2, `descriptor ${number} is ${socketOfA}, not handle A's socket`);

// From here to the second handle everything is synchronous: the binding gets no chance to look.
// The kernel may take a moment to deliver the reset (under load, on another CPU): wait for it
// without returning to the event loop, a few milliseconds at a time, a second at most.
proxy.accepted[0]!.resetAndDestroy();
let attempts = 0;
while (describeFd(number) === socketOfA && attempts < SEND_ATTEMPTS) {
  attempts += 1;
  a.exists('/').catch(() => {});
  if (describeFd(number) === socketOfA) Atomics.wait(pause, 0, 0, SEND_GAP_MS);
}
if (describeFd(number) !== undefined) fail(2, `handle A's C client did not close descriptor ${number} after ${attempts} sends`);
const b = new ZkClient({ connect: target, sessionTimeout: 6000, clock: systemClock });
const socketOfB = describeFd(number);
if (!socketOfB?.startsWith('socket:')) fail(2, `handle B's socket did not get descriptor ${number} (it is ${socketOfB})`);
say({ event: 'reused', fd: number, sends: attempts });

try {
  await connected(b, 'handle B');
  await answers(b, 'handle B');
  await answers(a, 'handle A');
} catch (error) {
  fail(1, (error as Error).message);
}
a.close();
b.close();
for (const fd of holes) fs.closeSync(fd);
proxy.server.close();
for (const socket of proxy.accepted) socket.destroy();
say({ event: 'ok' });
process.exit(0);
