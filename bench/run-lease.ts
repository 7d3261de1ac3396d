/**
 * Figure 10: how much of the safety margin `zk-election run` leaves when its leader is frozen
 * (SIGSTOP) or partitioned: the time from the old command's death to the successor's start.
 *
 * Each job connects to a TCP observer here at its start (bash's /dev/tcp) and keeps the socket in
 * every process of its group, so the kernel closes it when the last of them dies: the observer sees
 * both moments on one clock, its own. Two `run` processes take turns: each trial freezes or
 * partitions the leader, waits for the successor's job, then removes the frozen one (killed, not
 * resumed) or heals the partition, and the next trial starts from the other side.
 */
import net from 'node:net';
import readline from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listParticipants, Session } from '../lib/index.js';
import { killOnExit } from '../lib/testing/host-exit.js';
import { signalGroup, spawnClean } from '../lib/process/spawn-clean.js';
import { startFaultProxy, type FaultProxy } from '../spec/support/fault-proxy.js';
import { pollUntil } from '../lib/process/wait.js';
import { BenchTimeoutError, now, until, within } from './timing.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'cli', 'main.js');
const WAIT_MS = 30_000;

/** The job: reports to the observer on fd 3, which every process of its group inherits. */
const JOB = `
exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1
echo "start $ZK_ELECTION_ID" >&3
(trap '' TERM; exec sleep 1000000) &
case $2 in
  slow) trap 'sleep 2; exit 0' TERM;;
  *) trap '' TERM;;
esac
while :; do wait; done
`;

interface JobSeen {
  id: string;
  startAt: number;
  deathAt?: number;
  dead: Promise<number>;
}

/** Accepts the jobs' connections: when each started, and when its group's last process died. */
class JobObserver {
  readonly jobs: JobSeen[] = [];
  #listeners = new Set<() => void>();
  readonly #server = net.createServer((socket) => this.#accept(socket));

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', resolve);
    });
    return (this.#server.address() as net.AddressInfo).port;
  }

  #accept(socket: net.Socket): void {
    const startAt = now();
    let markDead!: (at: number) => void;
    const dead = new Promise<number>((resolve) => (markDead = resolve));
    socket.on('error', () => {});
    socket.once('close', () => markDead(now()));
    readline.createInterface({ input: socket }).once('line', (line) => {
      const job: JobSeen = { id: line.replace(/^start /, ''), startAt, dead };
      void dead.then((at) => (job.deathAt = at));
      this.jobs.push(job);
      for (const listener of this.#listeners) listener();
    });
  }

  /** The first job of `id` seen from index `from` on. */
  async next(id: string, from: number, ms: number): Promise<JobSeen> {
    const find = (): JobSeen | undefined => this.jobs.slice(from).find((job) => job.id === id);
    await until(() => find() !== undefined, ms, `a job of ${id}`, 5);
    return find()!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** One `zk-election run` in a process group of its own, killed by group at the end. */
class Sidecar {
  started = 0;
  readonly child: ChildProcess;

  constructor(readonly id: string, path: string, connect: string, sessionTimeout: number, port: number, mode: string) {
    const args = [CLI, 'run', path, '--id', id, '--connect', connect, '--session-timeout', String(sessionTimeout), '--', 'bash', '-c', JOB, 'lease-job', String(port), mode];
    this.child = spawnClean(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const forget = this.child.pid === undefined ? () => {} : killOnExit(this.child.pid);
    this.child.once('exit', forget);
    // Counted so that a fault is injected only once run has named the group to its guard.
    readline.createInterface({ input: this.child.stderr! }).on('line', (line) => {
      if (line.includes('elected; command started')) this.started += 1;
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.pid !== undefined && this.child.exitCode === null) signalGroup(this.child.pid, signal);
  }
}

export interface LeaseSamples {
  /** Old command's death -> successor's start, ms, one per trial. */
  margins: number[];
  /** Fault -> successor's start, ms. */
  failovers: number[];
}

export type LeaseFault = 'freeze' | 'partition';

/** `trials` hand-overs forced by `fault`, with run's defaults at session timeout `sessionTimeout`. */
export async function runLeaseTrials(connect: string, fault: LeaseFault, sessionTimeout: number, trials: number): Promise<LeaseSamples> {
  const path = `/bench/run-lease/${fault}`;
  const observer = new JobObserver();
  const port = await observer.listen();
  const session = await Session.connect({ connect });
  const proxies: FaultProxy[] = [];
  const sidecars: Sidecar[] = [];
  const samples: LeaseSamples = { margins: [], failovers: [] };
  const [host, clientPort] = connect.split(',')[0]!.split('/')[0]!.split(':');
  const spawn = async (n: number): Promise<Sidecar> => {
    let via = connect;
    if (fault === 'partition') {
      const proxy = await startFaultProxy({ host: host!, port: Number(clientPort) });
      proxies[n] = proxy;
      via = proxy.address;
    }
    const sidecar = new Sidecar(`${fault}-${n}`, path, via, sessionTimeout, port, fault === 'partition' ? 'slow' : 'ignore');
    sidecars[n] = sidecar;
    return sidecar;
  };
  try {
    let leader = await spawn(0);
    await observer.next(leader.id, 0, WAIT_MS);
    let waiter = await spawn(1);
    for (let trial = 0; trial < trials; trial += 1) {
      await waitJoined(session, path, waiter.id);
      const terms = (): number => observer.jobs.filter((job) => job.id === leader.id).length;
      await until(() => leader.started >= terms(), WAIT_MS, `${leader.id} to log its command's start`, 5);
      const old = observer.jobs.filter((job) => job.id === leader.id).at(-1)!;
      const from = observer.jobs.length;
      const faultAt = now();
      if (fault === 'freeze') leader.signal('SIGSTOP');
      else proxies[sidecars.indexOf(leader)]!.blackhole();
      const successor = await observer.next(waiter.id, from, sessionTimeout + WAIT_MS);
      const deathAt = await within(old.dead, WAIT_MS, `${leader.id}'s job to die`);
      samples.margins.push(successor.startAt - deathAt);
      samples.failovers.push(successor.startAt - faultAt);
      if (fault === 'freeze') {
        leader.signal('SIGKILL');
        [leader, waiter] = [waiter, await spawn(sidecars.length)];
      } else {
        proxies[sidecars.indexOf(leader)]!.restore();
        [leader, waiter] = [waiter, leader];
      }
    }
    return samples;
  } finally {
    for (const sidecar of sidecars) sidecar.signal('SIGKILL');
    await Promise.all(proxies.map((proxy) => proxy.close()));
    await session.close();
    await observer.close();
  }
}

async function waitJoined(session: Session, path: string, id: string): Promise<void> {
  const found = await pollUntil(async () => (await listParticipants(path, { connect: session })).some((p) => p.id === id), { timeoutMs: WAIT_MS });
  if (!found) throw new BenchTimeoutError(`${id} did not join ${path} within ${WAIT_MS} ms`);
}
