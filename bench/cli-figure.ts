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
import { runToExit } from './child-run.js';
import { WorkerProcess } from './workers.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'cli', 'main.js');
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
  let peakKiB = 0;
  // Killed as a group past CLI_MS: GNU time and the CLI under it.
  const { wallMs, stdout, stderr } = await runToExit(timed ? GNU_TIME : process.execPath, timed ? ['-v', process.execPath, ...args] : args, {
    timeoutMs: CLI_MS,
    what: 'zk-election participants',
    whileRunning: timed
      ? undefined
      : (child) => {
          const poll = setInterval(() => (peakKiB = Math.max(peakKiB, vmHwm(child.pid))), 5);
          return () => clearInterval(poll);
        },
  });
  if (timed) peakKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? Number.NaN);
  const listed = (JSON.parse(stdout) as unknown[]).length;
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
