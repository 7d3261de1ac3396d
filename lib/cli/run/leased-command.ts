/**
 * One run of `zk-election run`'s command under one term's lease: its process group, its guard,
 * and the two moments that bound it (lib/cli/run/lease-plan.ts): SIGTERM at the kill time minus the
 * grace, SIGKILL at the kill time, unless the lease is renewed first.
 *
 * Both this process and the guard (lib/group-guard.ts) enforce the kill time: this one so that the
 * command gets its SIGTERM and grace, the guard so that the group dies even when this process is
 * frozen or dead. Once the kill time has passed nothing renews it, here or in the guard: a reply
 * that arrives after a pause belongs to a term this command no longer has.
 */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { delay } from '../../util/abort.js';
import { monotonicNow } from '../../util/clock.js';
import { openGroupGuard, type GroupGuard } from './group-guard.js';
import type { Leadership } from '../../election/leadership.js';
import { signalGroup, spawnClean } from '../../process/spawn-clean.js';
import { settlesWithin } from '../../process/wait.js';
import type { LeasePlan } from './lease-plan.js';
import type { Logger as Log } from 'winston';

/** How often an emptying group is looked at: its members are not all our children, no event tells. */
const GROUP_POLL_MS = 20;
/** How long after SIGKILL a group may take to empty before we say so. */
const KILL_WAIT_MS = 10_000;

export interface LeasedCommandOptions {
  command: readonly string[];
  env: NodeJS.ProcessEnv;
  leadership: Leadership;
  plan: LeasePlan;
  log: Log;
}

/** 'done' once the group is empty and the guard dismissed: nothing is due any more. */
type Phase = 'running' | 'stopping' | 'killed' | 'done';

export class LeasedCommand {
  readonly #child: ChildProcess;
  /** The command's pid, which is also its process group id; undefined if it could not start. */
  readonly pgid: number | undefined;
  /** The command's exit status (128 + signal number when killed; 127 when it could not start). */
  readonly exited: Promise<number>;
  /** The term this run of the command belongs to. */
  readonly leadership: Leadership;
  readonly #plan: LeasePlan;
  readonly #log: Log;
  readonly #guard: GroupGuard | undefined;
  /** The lease deadline as last renewed, on the monotonic clock. */
  #deadline: number;
  #phase: Phase = 'running';
  /** SIGKILL time of a stop under way: its start + grace, never after the lease's kill time. */
  #stopKillAt = Infinity;
  #timer: NodeJS.Timeout | undefined;
  #stopped: Promise<void> | undefined;

  /** Starts the command in a process group of its own, guarded from before its first instruction. */
  constructor(options: LeasedCommandOptions) {
    this.leadership = options.leadership;
    this.#plan = options.plan;
    this.#log = options.log;
    this.#deadline = options.leadership.expiresAt;
    // The guard starts first and learns the deadline before the command exists; the command's group
    // is unguarded only between the spawn's return and the (synchronous) write that names it.
    this.#guard = openGroupGuard();
    this.#guard?.deadline(this.#killAt);
    const [file, ...args] = options.command;
    // Through spawnClean: the command must not inherit our ZooKeeper socket (the C client sets no
    // CLOEXEC). Its own process gets SIGKILL from the kernel if we die; the guard takes its group.
    this.#child = spawnClean(file!, args, { stdio: 'inherit', env: options.env, dieWithParent: 'SIGKILL', detached: true });
    this.pgid = this.#child.pid;
    if (this.pgid !== undefined) this.#guard?.watch(this.pgid);
    else this.#guard?.dismiss();
    this.exited = new Promise((resolve) => {
      this.#child.once('error', (error) => {
        this.#log.error('command failed to start', { error: error.message });
        resolve(127);
      });
      this.#child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
    });
    void this.#guard?.gone.then(({ fired }) => this.#onGuardGone(fired));
    this.#schedule();
  }

  /** True once we have signalled the group (a stop, the lease running out): an exit after that is not the command's own. */
  get signalled(): boolean {
    return this.#phase !== 'running';
  }

  /** Last contact + T - M, as renewed so far. */
  get deadline(): number {
    return this.#deadline;
  }

  /** When the group gets SIGKILL: the deadline minus the time the kernel needs to tear it down. */
  get #killAt(): number {
    return this.#deadline - this.#plan.killLead;
  }

  /**
   * Takes the lease's deadline as it is now (the library moves it on every reply from ZooKeeper)
   * and passes it on to the guard. Nothing once the term is over or the kill time has passed.
   */
  renew(): void {
    const at = this.leadership.expiresAt;
    if (this.#phase === 'killed' || this.#phase === 'done' || !(at > this.#deadline) || monotonicNow() >= this.#killAt) return;
    this.#deadline = at;
    this.#guard?.deadline(this.#killAt);
    this.#schedule();
  }

  /**
   * SIGTERM to the group now, SIGKILL after the grace or at the kill time, whichever comes first;
   * resolves once the group is empty (its guard is then dismissed) and the command's exit is known.
   * Bounded: a group stuck in the kernel after SIGKILL is logged and waited for no longer. Idempotent.
   */
  stop(why: string): Promise<void> {
    this.#stopped ??= this.#stop(why);
    return this.#stopped;
  }

  async #stop(why: string): Promise<void> {
    if (this.pgid !== undefined && this.#phase === 'running' && signalGroup(this.pgid, 0)) {
      this.#phase = 'stopping';
      this.#stopKillAt = Math.min(monotonicNow() + this.#plan.grace, this.#killAt);
      this.#log.warn(`${why}; sending SIGTERM to the command's group`, { pgid: this.pgid, killInMs: Math.round(this.#stopKillAt - monotonicNow()) });
      signalGroup(this.pgid, 'SIGTERM');
      this.#schedule();
    }
    await this.#whileGroupLives();
    this.#phase = 'done';
    clearTimeout(this.#timer);
    // Only now: a guard dismissed earlier would leave what is left of the group unguarded.
    this.#guard?.dismiss();
    // An empty group means our child has exited; its 'exit' event is at most a tick away.
    await settlesWithin(this.exited, KILL_WAIT_MS);
  }

  async #whileGroupLives(): Promise<void> {
    let killedAt: number | undefined;
    while (this.pgid !== undefined && signalGroup(this.pgid, 0)) {
      if (this.#phase === 'killed') killedAt ??= monotonicNow();
      if (killedAt !== undefined && monotonicNow() - killedAt > KILL_WAIT_MS) {
        this.#log.error('command group still alive after SIGKILL (stuck in the kernel?)', { pgid: this.pgid });
        return;
      }
      await delay(GROUP_POLL_MS);
    }
  }

  /** One timer, at the next moment something is due: SIGTERM (the lease running out) or SIGKILL. */
  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#phase === 'killed' || this.#phase === 'done') return;
    const due = this.#phase === 'stopping' ? Math.min(this.#killAt, this.#stopKillAt) : this.#killAt - this.#plan.grace;
    this.#timer = setTimeout(() => this.#due(), Math.max(0, due - monotonicNow()));
  }

  #due(): void {
    // A reply may have come in since the last renewal: the deadline is exact only when looked at now.
    this.renew();
    const now = monotonicNow();
    if (now >= Math.min(this.#killAt, this.#stopKillAt)) return this.kill(now >= this.#killAt ? 'the lease deadline is here' : 'the grace period is over');
    if (this.#phase === 'running' && now >= this.#killAt - this.#plan.grace) {
      const silent = Math.round(now - (this.#deadline - this.#plan.sessionTimeout + this.#plan.leaseMargin));
      void this.stop(`no contact with ZooKeeper for ${silent} ms: the lease runs out in ${Math.round(this.#deadline - now)} ms`);
      return;
    }
    this.#schedule();
  }

  /** SIGKILL to the group now, unless it is known to be empty: its id may then belong to another. */
  kill(why: string): void {
    if (this.#phase === 'done') return;
    this.#phase = 'killed';
    clearTimeout(this.#timer);
    if (this.pgid === undefined || !signalGroup(this.pgid, 0)) return;
    this.#log.warn(`${why}; sending SIGKILL to the command's group`, { pgid: this.pgid });
    signalGroup(this.pgid, 'SIGKILL');
  }

  #onGuardGone(fired: boolean): void {
    if (!fired || this.#phase === 'killed' || this.#phase === 'done') return;
    // The guard only goes undismissed when it has killed the group (its deadline passed: were we
    // frozen?) or lost its pipe. Either way the group must not run on unguarded.
    this.#log.warn('the group guard has fired: the deadline passed without a renewal (was this process stopped?)', { pgid: this.pgid });
    this.kill('the group guard has fired');
  }
}
