import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Logger } from 'winston';
import { ServerTimeoutError, TestingError } from './testing-errors.js';
import { spawnClean, stopProcess } from '../process/spawn-clean.js';
import type { MemberSpec } from './ensemble-config.js';
import { DEFAULT_FOUR_LETTER_TIMEOUT_MS, fourLetter, parseMode, type ServerMode } from './four-letter.js';
import { killOnExit } from './host-exit.js';
import { logTail } from './log-tail.js';
import { deadlineIn, pollUntil, remaining } from '../process/wait.js';
import type { TlsOptions } from '../session/tls-options.js';
import { LOOPBACK } from './ports.js';

/** One ZooKeeper server JVM of a local ensemble. */
export interface LocalServer {
  /** The server id (`myid`), from 1. */
  readonly id: number;
  /** The port clients connect to: the secure client port of a TLS-only server (it has no other). */
  readonly clientPort: number;
  /** The JVM's pid while it runs. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** True between pause() and resume(). */
  readonly paused: boolean;
  /** stdout and stderr of every run of this server, appended. */
  readonly logFile: string;
  /** Starts a stopped server with the same ports and data; resolves once it serves clients. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within a grace period; resolves once it exited. */
  stop(): Promise<void>;
  /** SIGKILL; resolves once it exited. */
  kill(): Promise<void>;
  /** SIGSTOP: the process freezes with its sockets open, as in a long GC pause. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** A four-letter word to this server (over TLS, with the ensemble's client certificate, to a TLS-only one). */
  fourLetter(cmd: string, timeoutMs?: number): Promise<string>;
  /** The `srvr` Mode; undefined when the server is down, paused, unreachable or not serving. */
  mode(): Promise<ServerMode | undefined>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error | undefined;
}

/** How to launch the JVM; shared by every member. */
export interface LaunchSpec {
  java: string;
  classpath: string;
  jvmArgs: readonly string[];
  startTimeoutMs: number;
  logger: Logger | undefined;
  /** How the kit itself talks to a TLS-only server (its four-letter words); undefined for plaintext. */
  clientTls: TlsOptions | undefined;
}

const MAIN_CLASS = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';
const STOP_GRACE_MS = 5000;
const KILL_WAIT_MS = 10_000;
const POLL_INTERVAL_MS = 100;
const MODE_TIMEOUT_MS = 1000;

/** The server exited before it served; `addressInUse` says whether fresh ports may help. */
export class ServerExitedError extends TestingError {
  override name = 'ServerExitedError';
  readonly addressInUse: boolean;
  constructor(id: number, exit: ExitInfo, tail: string) {
    const how = exit.error ? exit.error.message : `code ${exit.code}, signal ${exit.signal}`;
    super(`ZooKeeper server ${id} exited before it served (${how}); last lines of its log:\n${tail}`, 'SERVER_EXITED', {
      cause: exit.error,
    });
    this.addressInUse = /Address already in use|BindException/.test(tail);
  }
}

export class ServerProcess implements LocalServer {
  private child: ChildProcess | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private exitInfo: ExitInfo | undefined;
  private isPaused = false;
  private closed = false;

  constructor(
    readonly member: MemberSpec,
    private readonly launchSpec: LaunchSpec,
  ) {}

  get id(): number { return this.member.id; }
  get clientPort(): number { return this.member.clientPort; }
  get logFile(): string { return this.member.logFile; }
  get pid(): number | undefined { return this.running ? this.child?.pid : undefined; }
  get running(): boolean { return this.child !== undefined && this.exitInfo === undefined; }
  get paused(): boolean { return this.running && this.isPaused; }

  async start(): Promise<void> {
    this.launch();
    await this.waitUntilServing(deadlineIn(this.launchSpec.startTimeoutMs));
  }

  /** Spawns the JVM if it is not running; does not wait for it to serve. */
  launch(): void {
    if (this.closed) throw new TestingError(`local ZooKeeper server ${this.id}: its ensemble was stopped`, 'NOT_RUNNING');
    if (this.running) return;
    const { java, classpath, jvmArgs, logger } = this.launchSpec;
    const args = [...jvmArgs, '-cp', classpath, MAIN_CLASS, this.member.configFile];
    const log = fs.openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      // A server (re)started while this process has sessions open must not inherit their sockets.
      // The kernel kills it the moment this process dies, even by SIGKILL (where setpriv exists; the
      // exit watchdog of lib/testing/host-exit.ts kills it elsewhere, and removes its data).
      child = spawnClean(java, args, { stdio: ['ignore', log, log], detached: false, dieWithParent: 'SIGKILL' });
    } finally {
      // The child holds its own copy of the descriptor.
      fs.closeSync(log);
    }
    // A forgotten server must not keep the process alive: it exits, and the exit hook kills the JVM.
    child.unref();
    this.child = child;
    this.exitInfo = undefined;
    this.isPaused = false;
    this.exited = this.watchExit(child);
    logger?.debug('local zookeeper: started JVM', { id: this.id, pid: child.pid, clientPort: this.clientPort });
  }

  private watchExit(child: ChildProcess): Promise<ExitInfo> {
    const untrack = child.pid === undefined ? () => {} : killOnExit(child.pid);
    return new Promise((resolve) => {
      const finish = (info: ExitInfo): void => {
        untrack();
        if (this.child === child) this.exitInfo = info;
        this.launchSpec.logger?.debug('local zookeeper: JVM exited', { id: this.id, pid: child.pid, ...info });
        resolve(info);
      };
      child.once('exit', (code, signal) => finish({ code, signal }));
      // A failed spawn (no java) emits 'error' and no 'exit'.
      child.once('error', (error) => {
        if (child.pid === undefined) finish({ code: null, signal: null, error });
      });
    });
  }

  /** Polls `srvr` until the server reports a Mode; there is no event to await for that. */
  async waitUntilServing(deadline: number): Promise<void> {
    let exited = false;
    const serving = await pollUntil(async () => (exited = this.exitInfo !== undefined) || (await this.mode()) !== undefined, {
      timeoutMs: remaining(deadline),
      intervalMs: POLL_INTERVAL_MS,
    });
    await this.throwIfExited();
    if (serving && !exited) return;
    throw new ServerTimeoutError(
      `ZooKeeper server ${this.id} (port ${this.clientPort}) did not serve within ${this.launchSpec.startTimeoutMs} ms; ` +
        `last lines of ${this.logFile}:\n${await logTail(this.logFile, 40)}`,
    );
  }

  async throwIfExited(): Promise<void> {
    if (this.child !== undefined && this.exitInfo !== undefined) {
      throw new ServerExitedError(this.id, this.exitInfo, await logTail(this.logFile, 40));
    }
  }

  stop(): Promise<void> {
    return this.terminate('SIGTERM', STOP_GRACE_MS);
  }

  kill(): Promise<void> {
    return this.terminate('SIGKILL', 0);
  }

  private async terminate(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const exited = this.exited;
    const pid = this.child?.pid;
    if (!this.running || !exited || pid === undefined) return;
    // A stopped process cannot act on SIGTERM until it runs again.
    const gone = await stopProcess(pid, exited, { signal, graceMs: signal === 'SIGKILL' ? 0 : graceMs, resume: this.isPaused, killWaitMs: KILL_WAIT_MS });
    if (!gone) throw new ServerTimeoutError(`ZooKeeper server ${this.id} (pid ${pid}) did not exit within ${KILL_WAIT_MS} ms of SIGKILL`);
  }

  pause(): void {
    this.signalRunning('SIGSTOP');
    this.isPaused = true;
  }

  resume(): void {
    this.signalRunning('SIGCONT');
    this.isPaused = false;
  }

  private signalRunning(signal: NodeJS.Signals): void {
    if (!this.running) throw new TestingError(`ZooKeeper server ${this.id} is not running`, 'NOT_RUNNING');
    this.signal(signal);
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(pid, signal);
    } catch (error) {
      // ESRCH: it exited between our check and the signal; its 'exit' event is on its way.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  fourLetter(cmd: string, timeoutMs = DEFAULT_FOUR_LETTER_TIMEOUT_MS): Promise<string> {
    return fourLetter(this.clientPort, cmd, timeoutMs, LOOPBACK, this.launchSpec.clientTls);
  }

  async mode(): Promise<ServerMode | undefined> {
    // A paused JVM accepts connections in the kernel and never answers: do not wait for it.
    if (!this.running || this.isPaused) return undefined;
    try {
      return parseMode(await this.fourLetter('srvr', MODE_TIMEOUT_MS));
    } catch {
      return undefined;
    }
  }

  /** After the ensemble stopped: start() throws NOT_RUNNING. */
  close(): void {
    this.closed = true;
  }
}
