/**
 * The `run` sidecar's supervisor: it runs the command of each term (a LeasedCommand), renews the
 * lease while it runs, restarts it with a growing delay when it exits, hands the term on after too
 * many quick exits, stops it before our node is released (the Election's `drain`) and on the way
 * out. lib/cli/run-command.ts parses the flags and builds it.
 */
import { EventEmitter } from 'node:events';
import type { Election } from '../election/election.js';
import type { Leadership, SuspendedPolicy } from '../election/leadership.js';
import { delay } from '../util/abort.js';
import { monotonicNow } from '../util/clock.js';
import { SECRET_ENV } from './credentials.js';
import { EXIT, exitForSignal, type cliLogger } from './io.js';
import { Confirmations } from './run/confirmations.js';
import { canGuard } from './run/group-guard.js';
import { LeasedCommand } from './run/leased-command.js';
import type { LeasePlan } from './run/lease-plan.js';
import { HAND_ON_AFTER, type RestartBackoff } from './run/restart-backoff.js';

export interface RunConfig {
  path: string;
  command: string[];
  suspendedPolicy: SuspendedPolicy;
  /**
   * T, M and the grace that fits, decided once: T is the one asked for, since the library refuses a
   * session whose granted timeout differs (strictSessionTimeout).
   */
  plan: LeasePlan;
  once: boolean;
  /** When the command is restarted after it exits, and when the term is handed on. */
  backoff: RestartBackoff;
}

type Log = ReturnType<typeof cliLogger>;

export class Supervisor extends EventEmitter<{ restart: [] }> {
  #command: LeasedCommand | undefined;
  #stopping = false;
  /** Aborted on shutdown: ends a wait before a restart. */
  readonly #shutdownSignal = new AbortController();
  /** The current term's renewals. */
  #confirmations: Confirmations | undefined;
  #done!: (code: number) => void;

  constructor(
    readonly election: Election,
    readonly config: RunConfig,
    readonly log: Log,
  ) {
    super();
  }

  async run(): Promise<number> {
    const finished = new Promise<number>((resolve) => (this.#done = resolve));
    const onSignal = (signal: NodeJS.Signals): void => void this.#shutdown(`received ${signal}`, exitForSignal(signal));
    const onCrash = (): void => {
      // Last resort on an uncaught exception: no copy of the command may outlive us.
      this.#command?.kill('uncaught exception');
      void this.election.close();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('uncaughtExceptionMonitor', onCrash);
    this.election.on('state', (to, from, cause) => this.log.info(`${from} -> ${to}`, { cause }));
    this.election.on('elected', (leadership) => void this.#onElected(leadership));
    this.election.on('suspended', (leadership) => this.#onSuspended(leadership));
    this.election.on('resumed', (leadership) => {
      this.log.info('reconnected; leadership resumed');
      if (this.#confirmations?.leadership === leadership) this.#confirmations.confirm();
    });
    this.election.on('error', (error) => this.log.error('election error', { error: error.message }));
    try {
      await this.election.start();
      this.log.info('campaigning', { path: this.config.path, id: this.election.id, node: this.election.node });
      // Closed by the library itself (an error it cannot recover from, logged as an election error):
      // nothing is left to campaign for, so stop the command and exit 1 rather than idle.
      this.election.on('state', (to, _from, cause) => {
        if (to === 'closed') void this.#shutdown(`election closed: ${cause}`, EXIT.FAILURE);
      });
      if (!canGuard) this.log.warn('no group guard here (it needs Linux, bash, /proc and setpriv): if this process is frozen or killed with SIGKILL, the command keeps running');
      return await finished;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('uncaughtExceptionMonitor', onCrash);
    }
  }

  async #onElected(leadership: Leadership): Promise<void> {
    if (this.#stopping) return;
    // Re-elected while the last term's command is still stopping: never two copies.
    const previous = this.#command;
    if (previous) {
      this.log.info('waiting for the previous command to stop', { pid: previous.pgid });
      await previous.stop('re-elected while the previous command still runs');
      if (this.#stopping || !leadership.isLeader) return;
    }
    await this.#start(leadership);
  }

  /** Starts the command for `leadership`'s term, after the delay that its quick exits so far call for. */
  async #start(leadership: Leadership): Promise<void> {
    const { backoff } = this.config;
    if (backoff.delayMs > 0) {
      try {
        await delay(backoff.delayMs, AbortSignal.any([leadership.signal, this.#shutdownSignal.signal]));
      } catch {
        return;
      }
    }
    if (this.#stopping || !leadership.isLeader) return;
    // A term can begin on an older evidence of contact than the grace needs (a successor leads on
    // the notification alone, with a lease half a session timeout old at worst): renew it first,
    // so that the command does not get its SIGTERM the moment it starts.
    const { plan: lease } = this.config;
    if (leadership.expiresAt - monotonicNow() < lease.grace + lease.killLead + lease.confirmEvery) {
      try {
        await leadership.verify();
      } catch {
        return; // the term is over: its end is handled where terms end
      }
      if (this.#stopping || !leadership.isLeader) return;
    }
    const restart = backoff.starting();
    if (restart) this.emit('restart');
    const { plan } = this.config;
    const command = new LeasedCommand({ command: this.config.command, env: this.#commandEnv(leadership, plan), leadership, plan, log: this.log });
    this.#command = command;
    this.log.info(restart ? 'command restarted' : 'elected; command started', {
      token: leadership.token.toString(),
      term: leadership.term,
      pid: command.pgid,
      leaseLeftMs: Math.round(command.deadline - monotonicNow()),
      graceMs: plan.grace,
      restarts: backoff.restarts,
    });
    this.#confirmations = new Confirmations(leadership, plan.confirmEvery, () => command.renew());
    leadership.signal.addEventListener('abort', () => this.#onLost(leadership), { once: true });
    const startedAt = monotonicNow();
    void command.exited.then((code) => this.#onCommandExit(leadership, command, code, monotonicNow() - startedAt));
  }

  #commandEnv(leadership: Leadership, plan: LeasePlan): NodeJS.ProcessEnv {
    // The command gets its own term's facts, not our credentials (main took them out of
    // process.env already; this holds for a `run` started in-process too).
    const env = { ...process.env };
    for (const name of SECRET_ENV) delete env[name];
    return {
      ...env,
      ZK_ELECTION_PATH: this.config.path,
      ZK_ELECTION_NODE: leadership.node,
      ZK_ELECTION_TOKEN: leadership.token.toString(),
      ZK_ELECTION_ID: leadership.id,
      ZK_ELECTION_SESSION_TIMEOUT: String(plan.sessionTimeout),
      ZK_ELECTION_LEASE_MARGIN: String(plan.leaseMargin),
    };
  }

  #onSuspended(leadership: Leadership): void {
    const leaseLeftMs = Math.round(leadership.expiresAt - monotonicNow());
    this.log.warn('disconnected from ZooKeeper; leadership held on the lease', { leaseLeftMs });
  }

  #onLost(leadership: Leadership): void {
    if (this.#stopping) return;
    const reason = (leadership.signal.reason as { reason?: string }).reason;
    // After our own resign() the command has stopped already; the rest is drained by the library's call.
    if (reason !== 'resigned') this.log.warn('leadership lost; stopping the command before giving up our node', { reason, token: leadership.token.toString() });
  }

  /**
   * The Election's `drain` hook: stops the command of `leadership`'s term, if it still runs, and
   * resolves once its group is dead. The library keeps our node until then, so after a step-down
   * or a lost term the next leader's command starts only after ours has exited.
   */
  async drain(leadership: Leadership): Promise<void> {
    const command = this.#command;
    if (command?.leadership !== leadership) return;
    const reason = (leadership.signal.reason as { reason?: string } | undefined)?.reason ?? 'ended';
    await command.stop(`term over (${reason})`);
  }

  async #onCommandExit(leadership: Leadership, command: LeasedCommand, code: number, ranMs: number): Promise<void> {
    if (this.#stopping) return;
    // Stopped by us (the term is over, the lease ran out): the next term starts it afresh.
    const own = !command.signalled;
    this.log.info('command exited', { code, ranMs: Math.round(ranMs), token: leadership.token.toString() });
    // Whatever it left running in its group must not outlive its term.
    await command.stop('the command exited; stopping what it left in its group');
    if (this.#command === command) this.#command = undefined;
    if (this.config.once) return this.#shutdown('--once: command finished', code);
    if (!own) return this.config.backoff.stopped();
    const plan = this.config.backoff.exited(ranMs, leadership);
    if (!leadership.isLeader) return;
    if (plan.handOn) {
      this.log.warn(`the command exited ${HAND_ON_AFTER} times in a row soon after starting: handing the term on (resigning and campaigning again)`, {
        code,
        quickExits: plan.quickExits,
        restarts: this.config.backoff.restarts,
        nextDelayMs: plan.delayMs,
      });
      await leadership.resign();
      return;
    }
    this.log.warn(plan.delayMs > 0 ? `the command exited soon after starting; restarting it in ${plan.delayMs} ms` : 'restarting the command', {
      code,
      quickExits: plan.quickExits,
      restarts: this.config.backoff.restarts,
    });
    await this.#start(leadership);
  }

  async #shutdown(why: string, code: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#shutdownSignal.abort();
    this.log.info('shutting down', { why });
    const command = this.#command;
    await command?.stop(`shutting down (${why})`);
    await this.election.close();
    this.log.info('resigned and closed');
    this.#done(code);
  }
}
