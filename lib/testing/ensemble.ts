import type { Logger } from 'winston';
import { abortedStart, ServerTimeoutError, TestingError } from './testing-errors.js';
import { findZooKeeperRuntime } from './classpath.js';
import { memberSpec, systemPropertyArgs, writeMemberFiles, type MemberSpec, type ServerTls, type Timing } from './ensemble-config.js';
import { clientTls, prepareServerTls, resolveTestTls, type ResolvedTestTls, type TestTlsOptions } from './ensemble-tls.js';
import type { TestCertificates } from './certificates.js';
import type { TlsOptions } from '../session/tls-options.js';
import type { ServerMode } from './four-letter.js';
import { makeBaseDir, type BaseDir } from './base-dir.js';
import { logTail } from './log-tail.js';
import { freeLoopbackPorts, isLoopbackPortFree, LOOPBACK } from './ports.js';
import { ServerExitedError, ServerProcess, type LaunchSpec, type LocalServer } from './local-server.js';
import { deadlineIn, remaining, sleep } from '../process/wait.js';

export interface StartZooKeeperOptions {
  /** How many servers: a standalone server or a three-member ensemble. @default 1 */
  servers?: 1 | 3 | undefined;
  /** Milliseconds per tick; session and sync limits are counted in ticks. @default 200 */
  tickTime?: number | undefined;
  /** The smallest session timeout the servers grant. @default 2 * tickTime */
  minSessionTimeout?: number | undefined;
  /** The largest session timeout the servers grant. @default 20000 */
  maxSessionTimeout?: number | undefined;
  /** Where configs, data and logs go. @default a fresh directory made by mkdtemp under os.tmpdir() */
  baseDir?: string | undefined;
  /** How long to wait until every server serves (a restart through LocalServer.start() too). @default 30000 */
  startTimeoutMs?: number | undefined;
  /** Receives debug lines about the JVMs; nothing is printed without it. */
  logger?: Logger | undefined;
  /** A fixed client port for a standalone server (`zk-election server`); free ports otherwise. */
  clientPort?: number | undefined;
  /** Gives up the start: the JVMs started so far are killed, baseDir removed, and the call rejects with code ABORTED. */
  signal?: AbortSignal | undefined;
  /**
   * Java system properties of every server JVM, for settings zoo.cfg cannot carry; for example
   * `{ 'znode.container.checkIntervalMs': '500' }` makes the server delete empty container nodes
   * within half a second instead of a minute.
   */
  systemProperties?: Record<string, string> | undefined;
  /**
   * TLS only: every server serves clients on a secure client port alone (Netty,
   * `secureClientPort`, no plaintext port), with a CA, a server and a client certificate made for
   * this ensemble in `baseDir/tls` (openssl and Java's keytool; Netty's jars on the classpath).
   * Pass the ensemble's `tls` to the library. `true` for the defaults. @default false
   */
  tls?: boolean | TestTlsOptions | undefined;
}

export interface LocalEnsemble {
  /** `127.0.0.1:p1,127.0.0.1:p2,...` */
  readonly connectString: string;
  readonly servers: readonly LocalServer[];
  readonly baseDir: string;
  /**
   * For a TLS ensemble, the library's `tls` option that connects to it: PEM file paths of the
   * test CA, the client certificate and its key (`{ ca, cert, key }`); undefined for plaintext.
   */
  readonly tls: TlsOptions | undefined;
  /** For a TLS ensemble, every certificate file made for it (the CA's key too, to sign more); undefined for plaintext. */
  readonly certificates: TestCertificates | undefined;
  /** Stops every JVM (SIGTERM, then SIGKILL), waits for them to exit, removes a baseDir it created. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** The server whose `srvr` Mode is leader (or standalone); undefined while there is none. */
  leader(): Promise<LocalServer | undefined>;
  /**
   * Resolves once a majority of servers serve with exactly one leader and every running,
   * unpaused server serves; rejects with a ServerTimeoutError after `timeoutMs`, ABORTED when `signal` aborts.
   */
  waitForQuorum(timeoutMs?: number, signal?: AbortSignal): Promise<void>;
}

/** JVM flags for a quick start and a small footprint; a test server holds a few kilobytes of data. */
export const JVM_ARGS: readonly string[] = [
  '-Xmx192m',
  '-Xss512k',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:-UsePerfData',
  '-Djava.awt.headless=true',
  '-Dzookeeper.admin.enableServer=false',
  // Durability does not matter for a throwaway server; fsync on a busy disk makes every write slow.
  '-Dzookeeper.forceSync=no',
  '-Dzookeeper.preAllocSize=1024',
  '-Dorg.slf4j.simpleLogger.showDateTime=true',
  '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
];

/**
 * Node's Symbol.asyncDispose. A sandboxed realm such as a jest test file has its own `Symbol`
 * without the property, but Node registers the symbol, so Symbol.for finds the same one there.
 */
const asyncDispose: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose);

const DEFAULT_QUORUM_WAIT_MS = 30_000;
const POLL_INTERVAL_MS = 100;

interface ResolvedOptions {
  servers: 1 | 3;
  timing: Timing;
  startTimeoutMs: number;
  logger: Logger | undefined;
  clientPort: number | undefined;
  signal: AbortSignal | undefined;
  /** `-Dname=value` for each of `systemProperties`. */
  jvmProperties: string[];
  tls: ResolvedTestTls | undefined;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new TestingError(`${name} must be a positive integer, got ${String(value)}`, 'INVALID_ARGUMENT');
  }
  return value;
}

function resolveOptions(options: StartZooKeeperOptions): ResolvedOptions {
  const servers = options.servers ?? 1;
  if (servers !== 1 && servers !== 3) throw new TestingError(`servers must be 1 or 3, got ${String(servers)}`, 'INVALID_ARGUMENT');
  const tickTime = positiveInteger('tickTime', options.tickTime ?? 200);
  const minSessionTimeout = positiveInteger('minSessionTimeout', options.minSessionTimeout ?? 2 * tickTime);
  const maxSessionTimeout = positiveInteger('maxSessionTimeout', options.maxSessionTimeout ?? 20_000);
  if (minSessionTimeout > maxSessionTimeout) {
    throw new TestingError(`minSessionTimeout ${minSessionTimeout} exceeds maxSessionTimeout ${maxSessionTimeout}`, 'INVALID_ARGUMENT');
  }
  const startTimeoutMs = positiveInteger('startTimeoutMs', options.startTimeoutMs ?? 30_000);
  const clientPort = options.clientPort === undefined ? undefined : positiveInteger('clientPort', options.clientPort);
  if (clientPort !== undefined && (servers !== 1 || clientPort > 65535)) {
    throw new TestingError(`clientPort is for a standalone server, from 1 to 65535; got ${clientPort} with ${servers} servers`, 'INVALID_ARGUMENT');
  }
  const jvmProperties = systemPropertyArgs(options.systemProperties);
  const tls = resolveTestTls(options.tls);
  return { servers, timing: { tickTime, minSessionTimeout, maxSessionTimeout }, startTimeoutMs, logger: options.logger, clientPort, signal: options.signal, jvmProperties, tls };
}

/** True when the modes show a working ensemble: one leader (or a standalone) and a majority serving. */
export function hasQuorum(modes: ReadonlyArray<ServerMode | undefined>, total: number): boolean {
  const serving = modes.filter((mode) => mode !== undefined);
  if (total === 1) return serving.length === 1;
  const leaders = serving.filter((mode) => mode === 'leader').length;
  return leaders === 1 && serving.length > total / 2 && serving.every((mode) => mode === 'leader' || mode === 'follower');
}

class Ensemble implements LocalEnsemble {
  private stopping: Promise<void> | undefined;

  constructor(
    readonly servers: readonly ServerProcess[],
    private readonly dir: BaseDir,
    private readonly logger: Logger | undefined,
    private readonly serverTls: ServerTls | undefined,
  ) {}

  get tls(): TlsOptions | undefined {
    return this.serverTls && clientTls(this.serverTls.certificates);
  }

  get certificates(): TestCertificates | undefined {
    return this.serverTls?.certificates;
  }

  get baseDir(): string {
    return this.dir.path;
  }

  get connectString(): string {
    return this.servers.map((server) => `${LOOPBACK}:${server.clientPort}`).join(',');
  }

  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  [asyncDispose](): Promise<void> {
    return this.stop();
  }

  private async stopAll(): Promise<void> {
    for (const server of this.servers) server.close();
    const results = await Promise.allSettled(this.servers.map((server) => server.stop()));
    await this.dir.remove();
    this.logger?.debug('local zookeeper: ensemble stopped', { baseDir: this.baseDir });
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
    if (failures.length > 0) throw new AggregateError(failures, 'some local ZooKeeper servers did not stop');
  }

  async leader(): Promise<LocalServer | undefined> {
    const modes = await Promise.all(this.servers.map((server) => server.mode()));
    return this.servers.find((_, i) => modes[i] === 'leader' || modes[i] === 'standalone');
  }

  /** Servers that can answer: a stopped or paused one is not expected to. */
  private async quorumState(): Promise<{ ok: boolean; summary: string }> {
    const modes = await Promise.all(this.servers.map((server) => server.mode()));
    const expected = this.servers.every((server, i) => !server.running || server.paused || modes[i] !== undefined);
    const summary = this.servers
      .map((server, i) => `${server.id}:${server.paused ? 'paused' : server.running ? (modes[i] ?? 'not serving') : 'down'}`)
      .join(' ');
    return { ok: expected && hasQuorum(modes, this.servers.length), summary };
  }

  async waitForQuorum(timeoutMs = DEFAULT_QUORUM_WAIT_MS, signal?: AbortSignal): Promise<void> {
    await this.pollQuorum(deadlineIn(timeoutMs), timeoutMs, false, signal);
  }

  /** Polls `srvr` on every server; also fails fast when a server that should be serving exits. */
  async pollQuorum(deadline: number, timeoutMs: number, failOnExit = false, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw abortedStart(signal);
      if (failOnExit) for (const server of this.servers) await server.throwIfExited();
      const state = await this.quorumState();
      if (state.ok) return;
      if (remaining(deadline) === 0) {
        throw new ServerTimeoutError(`local ZooKeeper ensemble had no quorum within ${timeoutMs} ms (${state.summary})`);
      }
      await sleep(Math.min(POLL_INTERVAL_MS, remaining(deadline)), signal);
    }
  }
}

/**
 * A fixed port must be free before the JVM starts: a server that cannot bind exits, but the
 * readiness probe would be answered by whatever already listens there.
 */
async function takenPortRefused(port: number): Promise<number> {
  if (!(await isLoopbackPortFree(port))) {
    throw new TestingError(`port ${port} is already in use (is a ZooKeeper server running there?); choose another with --port`, 'PORT_IN_USE');
  }
  return port;
}

/** Fresh ports and config files: one client port for a standalone server, client/quorum/election for each member. */
async function planMembers(baseDir: string, options: ResolvedOptions, tls: ServerTls | undefined): Promise<MemberSpec[]> {
  const perMember = options.servers === 1 ? 1 : 3;
  const ports = options.clientPort !== undefined ? [await takenPortRefused(options.clientPort)] : await freeLoopbackPorts(options.servers * perMember);
  const members = Array.from({ length: options.servers }, (_, i) =>
    memberSpec(baseDir, i + 1, ports.slice(i * perMember, (i + 1) * perMember)),
  );
  await Promise.all(members.map((member) => writeMemberFiles(member, members, options.timing, tls)));
  return members;
}

async function logTails(servers: readonly ServerProcess[]): Promise<string> {
  const tails = await Promise.all(servers.map(async (server) => `--- ${server.logFile}\n${await logTail(server.logFile, 30)}`));
  return tails.join('\n');
}

/** One attempt: launch every member and wait until all serve; on failure nothing is left running. */
async function launchEnsemble(baseDir: BaseDir, launch: LaunchSpec, options: ResolvedOptions, tls: ServerTls | undefined): Promise<Ensemble> {
  const members = await planMembers(baseDir.path, options, tls);
  const ensemble = new Ensemble(members.map((member) => new ServerProcess(member, launch)), baseDir, options.logger, tls);
  try {
    for (const server of ensemble.servers) server.launch();
    await ensemble.pollQuorum(deadlineIn(options.startTimeoutMs), options.startTimeoutMs, true, options.signal);
    return ensemble;
  } catch (error) {
    // A failed start has nothing worth a graceful shutdown; the caller removes baseDir.
    await Promise.allSettled(ensemble.servers.map((server) => server.kill()));
    if (error instanceof ServerTimeoutError) {
      throw new ServerTimeoutError(`${error.message}; last lines of the server logs:\n${await logTails(ensemble.servers)}`);
    }
    throw error;
  }
}

/**
 * Starts a local ZooKeeper (standalone or a three-member ensemble) on free loopback ports and
 * resolves once every server serves. Throws ZooKeeperNotFoundError without java or the jars,
 * ServerExitedError when a server dies while starting, and a ServerTimeoutError (with the tail of the
 * server logs) when the servers do not come up in time.
 *
 * The JVMs do not keep the Node process alive on their own (their handles are unref'd): a
 * process that ends without calling stop() SIGKILLs them and removes baseDir on its way out.
 */
export async function startZooKeeper(options: StartZooKeeperOptions = {}): Promise<LocalEnsemble> {
  const resolved = resolveOptions(options);
  if (options.signal?.aborted) throw abortedStart(options.signal);
  const runtime = findZooKeeperRuntime(process.env, undefined, { tls: resolved.tls !== undefined });
  const baseDir = await makeBaseDir(options.baseDir);
  try {
    const tls = resolved.tls && (await prepareServerTls(baseDir.path, resolved.tls, resolved.startTimeoutMs, resolved.signal));
    const clientTlsFiles = tls && clientTls(tls.certificates);
    const launch: LaunchSpec = { ...runtime, jvmArgs: [...JVM_ARGS, ...resolved.jvmProperties], startTimeoutMs: resolved.startTimeoutMs, logger: resolved.logger, clientTls: clientTlsFiles };
    try {
      return await launchEnsemble(baseDir, launch, resolved, tls);
    } catch (error) {
      // Another process may have taken a port between our probe and the JVM's bind: one retry with fresh ports.
      if (!(error instanceof ServerExitedError && error.addressInUse) || resolved.clientPort !== undefined) throw error;
      resolved.logger?.debug('local zookeeper: port taken, retrying with fresh ports', { baseDir: baseDir.path });
      return await launchEnsemble(baseDir, launch, resolved, tls);
    }
  } catch (error) {
    await baseDir.remove();
    throw error;
  }
}
