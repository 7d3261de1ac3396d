/**
 * `zk-election demo`: a self-contained tour. It starts a local 3-node ensemble on free ports and N
 * participants as separate `zk-election run` processes, then narrates a graceful resignation, a
 * SIGKILL and the loss of a ZooKeeper server, printing failover times and the participants table
 * after each step. Everything it starts is stopped and removed at the end, also on Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startZooKeeper, type LocalEnsemble } from '../testing/index.js';
import { readParticipants, type Participant } from '../observe/list-participants.js';
import { Session } from '../session/session.js';
import { spawnClean, stopProcess } from '../process/spawn-clean.js';
import { parse } from './args.js';
import { participantsTable } from './format.js';
import { EXIT, exitForSignal, UsageError, type CliIo } from './io.js';

export const DEMO_HELP = `Usage: zk-election demo [--participants N] [--session-timeout MS]

Starts a local 3-node ZooKeeper ensemble (needs Java and ZooKeeper's jars: Debian's
'zookeeper' package, or $ZOOKEEPER_HOME) and N participants, each a separate
'zk-election run' process, then shows: who leads, a graceful resignation, a SIGKILL of
the leader, and a ZooKeeper server going down. Cleans up everything, also on Ctrl-C.

Options:
  --participants N       how many participants (default 3, at least 2)
  --session-timeout MS   participants' session timeout, 400 to 20000 (default 4000)

Example:
  zk-election demo --participants 4
`;

const PATH = '/demo/election';
const STEP_TIMEOUT_MS = 30_000;

export async function demoCommand(argv: string[], io: CliIo): Promise<number> {
  const parsed = parse(argv, { participants: { type: 'string' }, 'session-timeout': { type: 'string' } });
  if (parsed.values.help) return void io.stdout.write(DEMO_HELP), EXIT.OK;
  const count = Number(parsed.values.participants ?? 3);
  const sessionTimeout = Number(parsed.values['session-timeout'] ?? 4000);
  if (!Number.isInteger(count) || count < 2 || count > 50) throw new UsageError('--participants expects a whole number from 2 to 50');
  // The local ensemble grants 400 ms (two ticks) to 20 s; outside that the participants could not join.
  if (!Number.isInteger(sessionTimeout) || sessionTimeout < 400 || sessionTimeout > 20_000) throw new UsageError('--session-timeout expects 400 to 20000 ms');
  const demo = new Demo(io, count, sessionTimeout);
  const onSignal = (signal: NodeJS.Signals): void => void demo.abort(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await demo.run();
    return EXIT.OK;
  } catch (error) {
    // Interrupted: whatever the step was doing failed because we stopped it; not an error to report.
    if (demo.interruptedBy) return exitForSignal(demo.interruptedBy);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await demo.cleanup();
  }
}

class Demo {
  #ensemble: LocalEnsemble | undefined;
  #observer: Session | undefined;
  readonly #children = new Map<string, ChildProcess>();
  readonly #stop = new AbortController();
  #next = 1;

  constructor(
    readonly io: CliIo,
    readonly count: number,
    readonly sessionTimeout: number,
  ) {}

  say(text: string): void {
    this.io.stdout.write(`${text}\n`);
  }

  async run(): Promise<void> {
    this.say('Starting a local 3-node ZooKeeper ensemble on free loopback ports...');
    this.#ensemble = await startZooKeeper({ servers: 3, signal: this.#stop.signal });
    const zkLeader = await this.#ensemble.leader();
    this.say(`  ensemble up at ${this.#ensemble.connectString} (ZooKeeper leader: server ${zkLeader?.id ?? '?'})`);
    this.#observer = await Session.connect({ connect: this.#ensemble.connectString, signal: this.#stop.signal });

    this.say(`\nStarting ${this.count} participants, each a separate 'zk-election run' process (session timeout ${this.sessionTimeout} ms)...`);
    for (let i = 0; i < this.count; i += 1) this.#spawnParticipant();
    await this.#until((list) => list.length === this.count && list[0] !== undefined, 'all participants to join');
    await this.#table('Everyone has joined; the lowest sequence leads, each other participant watches only its predecessor:');

    await this.#step('1. The leader resigns gracefully (SIGTERM: it stops its command, deletes its node, closes its session).', 'SIGTERM');
    await this.#step(`2. The leader is killed with SIGKILL: nobody deletes its node; ZooKeeper expires its session after ${this.sessionTimeout} ms.`, 'SIGKILL');
    await this.#serverDown();
    this.say('\nDone. Stopping every participant and the ensemble, and removing their files.');
  }

  async #step(title: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    this.say(`\n${title}`);
    const before = await this.#leader();
    const child = this.#children.get(before.id);
    this.say(`   sending ${signal} to ${before.id} (pid ${child?.pid}, token ${before.token})`);
    const started = performance.now();
    // SIGKILL takes the whole process group, job included, as a crashed machine would;
    // SIGTERM goes to the supervisor alone, which stops its job before resigning.
    if (child?.pid !== undefined) process.kill(signal === 'SIGKILL' ? -child.pid : child.pid, signal);
    const after = await this.#until((list) => list[0] !== undefined && list[0].id !== before.id, 'a new leader');
    const took = performance.now() - started;
    this.#children.delete(before.id);
    const extra = signal === 'SIGKILL' ? ` (session timeout ${this.sessionTimeout} ms, which the server counts from the last time it heard from the killed process, not from the kill)` : '';
    this.say(`   new leader ${after[0]!.id} with token ${after[0]!.token} > ${before.token}, after ${took.toFixed(0)} ms${extra}`);
    this.#spawnParticipant();
    await this.#until((list) => list.length === this.count, 'the replacement participant to join');
    await this.#table(`   a replacement participant joined at the back:`);
  }

  async #serverDown(): Promise<void> {
    this.say('\n3. A ZooKeeper server goes down: the ensemble\'s own leader is stopped.');
    const server = await this.#ensemble!.leader();
    const before = await this.#leader();
    await server?.stop();
    this.say(`   stopped ZooKeeper server ${server?.id}; the other two elect a new ZooKeeper leader and keep serving`);
    await this.#ensemble!.waitForQuorum(STEP_TIMEOUT_MS, this.#stop.signal);
    const now = await this.#leader();
    const same = now.id === before.id ? 'still' : 'now';
    this.say(`   the election carries on: ${now.id} is ${same} the leader (token ${now.token}); sessions moved to the surviving servers`);
    await this.#table('   participants, read through the surviving servers:');
  }

  #spawnParticipant(): void {
    const id = `participant-${this.#next++}`;
    const cli = fileURLToPath(new URL('./main.js', import.meta.url));
    // The job each leader runs: a stand-in that idles until it is told to stop.
    const job = ['-e', "process.on('SIGTERM',()=>process.exit(0));setInterval(()=>{},1000)"];
    const args = [cli, 'run', PATH, '--id', id, '--connect', this.#ensemble!.connectString, '--session-timeout', String(this.sessionTimeout), '--grace', '2000', '--', process.execPath, ...job];
    // SIGTERM from the kernel if the demo dies, even by SIGKILL: a participant stops its command and leaves.
    const child = spawnClean(process.execPath, args, { stdio: 'ignore', detached: true, dieWithParent: 'SIGTERM' });
    this.#children.set(id, child);
  }

  async #leader(): Promise<Participant> {
    const list = await this.#until((l) => l[0] !== undefined, 'a leader');
    return list[0]!;
  }

  async #table(title: string): Promise<void> {
    const list = await this.#observer!.retrying('list', (handle) => readParticipants(handle, PATH));
    this.say(title);
    this.io.stdout.write(participantsTable(list).replace(/^(?=.)/gm, '   '));
  }

  /** Polls the participant list (every 20 ms, bounded) until `done` holds. */
  async #until(done: (list: Participant[]) => boolean, what: string): Promise<Participant[]> {
    const deadline = performance.now() + STEP_TIMEOUT_MS;
    for (;;) {
      if (this.#stop.signal.aborted) throw new Error('demo interrupted');
      const list = await this.#observer!.retrying('list', (handle) => readParticipants(handle, PATH), { signal: this.#stop.signal });
      if (done(list)) return list;
      if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The signal that interrupted the demo, if one did. */
  interruptedBy: NodeJS.Signals | undefined;

  abort(signal: NodeJS.Signals): void {
    this.interruptedBy = signal;
    this.say(`\nInterrupted (${signal}); stopping every process the demo started and removing its files.`);
    this.#stop.abort(new Error(`interrupted by ${signal}`));
  }

  async cleanup(): Promise<void> {
    const exits = [...this.#children.values()].map(async (child) => {
      if (child.pid === undefined) return;
      const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // `run` stops its command on SIGTERM; SIGKILL if it takes longer, and then its group guard
      // kills the command's process group (a group of its own, not the participant's).
      await stopProcess(child.pid, exited, { graceMs: 5000 });
    });
    await Promise.all(exits);
    this.#children.clear();
    await this.#observer?.close();
    await this.#ensemble?.stop();
  }
}
