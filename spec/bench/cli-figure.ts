/**
 * Figure 9: `zk-election participants <path> --json` on many candidates: wall time and peak RSS
 * of the CLI process. The candidate nodes are made on a few shared bare sessions (each library
 * candidate would first list the whole election, O(N^2) bytes for 10,000 of them); they carry the
 * library's payload and node names, so the CLI cannot tell them from real candidates.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParticipantsResult } from './protocol.js';
import { EPHEMERAL_SEQUENTIAL, RawClient } from './raw-client.js';
import { killOnExit } from '../../lib/testing/host-exit.js';
import { signalGroup, spawnClean, type SpawnCleanOptions } from '../../lib/spawn-clean.js';
import { now, within } from './timing.js';
import { WorkerProcess } from './workers.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib', 'cli', 'main.js');
const GNU_TIME = '/usr/bin/time';
const SESSIONS = 4;
const BATCH = 500;
const CLI_MS = 120_000;

export interface CliSample {
  wallMs: number;
  peakRssKiB: number;
  /** Participants the output listed. */
  listed: number;
}

export interface CliResult {
  /** 'cli' when dist/lib/cli/main.js ran; 'in-process' when only listParticipants could be measured. */
  mode: 'cli' | 'in-process';
  samples: CliSample[];
}

/** Creates `count` candidate nodes under `path` on a few bare sessions; close them to remove the nodes. */
export async function makeCandidates(connect: string, path: string, count: number): Promise<RawClient[]> {
  const clients = await Promise.all(Array.from({ length: SESSIONS }, () => RawClient.connect(connect, 20_000)));
  await clients[0]!.ensurePath(path);
  const startedAt = new Date().toISOString();
  const create = (client: RawClient, i: number): Promise<string> => {
    const payload = JSON.stringify({ id: `bench-${i}`, host: hostname(), pid: process.pid, startedAt });
    return client.create(`${path}/c_${randomBytes(16).toString('hex')}_`, payload, EPHEMERAL_SEQUENTIAL);
  };
  for (let first = 0; first < count; first += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - first) }, (_, j) => create(clients[(first + j) % SESSIONS]!, first + j));
    await Promise.all(batch);
  }
  return clients;
}

export async function participantsCli(connect: string, path: string, trials: number): Promise<CliResult> {
  const samples: CliSample[] = [];
  const mode = existsSync(CLI) ? 'cli' : 'in-process';
  for (let i = 0; i < trials; i += 1) samples.push(mode === 'cli' ? await runCli(connect, path) : await inProcess(connect, path));
  return { mode, samples };
}

/** One CLI run under GNU time (peak RSS from its report), or with /proc polling without it. */
async function runCli(connect: string, path: string): Promise<CliSample> {
  const args = [CLI, 'participants', path, '--connect', connect, '--json'];
  const timed = existsSync(GNU_TIME);
  // In a group of its own, so that a run past CLI_MS is killed whole: GNU time and the CLI under it.
  const options: SpawnCleanOptions = { stdio: ['ignore', 'pipe', 'pipe'], detached: true };
  const child = timed ? spawnClean(GNU_TIME, ['-v', process.execPath, ...args], options) : spawnClean(process.execPath, args, options);
  const forget = child.pid === undefined ? () => {} : killOnExit(child.pid);
  child.once('exit', forget);
  const start = now();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr!.on('data', (chunk: Buffer) => err.push(chunk));
  let peakKiB = 0;
  const poll = timed ? undefined : setInterval(() => (peakKiB = Math.max(peakKiB, vmHwm(child.pid))), 5);
  const code = await within(new Promise<number | null>((resolve) => child.once('close', resolve)), CLI_MS, 'zk-election participants')
    .catch((error: unknown) => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      throw error;
    })
    .finally(() => clearInterval(poll));
  const wallMs = now() - start;
  const stderr = Buffer.concat(err).toString('utf8');
  if (code !== 0) throw new Error(`zk-election participants exited with ${code}: ${stderr.slice(-500)}`);
  if (timed) peakKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? Number.NaN);
  const listed = (JSON.parse(Buffer.concat(out).toString('utf8')) as unknown[]).length;
  return { wallMs, peakRssKiB: peakKiB, listed };
}

function vmHwm(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Without the CLI: listParticipants in a fresh worker process, its own peak RSS. */
async function inProcess(connect: string, path: string): Promise<CliSample> {
  const worker = await WorkerProcess.spawn();
  try {
    const result = await worker.request<ParticipantsResult>('participants', { path, connect }, CLI_MS);
    return { wallMs: result.ms, peakRssKiB: result.peakRssKiB, listed: result.count };
  } finally {
    await worker.close();
  }
}
