/**
 * A command for `zk-election run` that reports facts about overlap, for the tests and the bench.
 *
 * Each copy runs as a shell and one child (a process group of two). At its start it looks up the
 * previous copy's two processes, recorded in a state file shared by every copy of the test, and
 * prints `JOB OVERLAP` if either still runs: the exact moment that matters (a successor starting
 * while its predecessor lives) checked by the successor itself, not by a sampler that could miss
 * it. Processes are named by pid and start time, so a reused pid is not mistaken for a live copy;
 * a zombie counts as stopped (a frozen `run` cannot reap its killed command).
 *
 * Modes: `ignore`: the group ignores SIGTERM (the shell says `JOB term` when it gets one), only
 * SIGKILL stops it; `slow`: the shell takes 2 s to stop after SIGTERM; `quick`: exits on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import type { TrackedProcess } from './processes.js';

export type JobMode = 'ignore' | 'slow' | 'quick';

const SCRIPT = `
state=$1 mode=$2
# alive PID START: that very process runs and is not a zombie
alive() {
  local stat f
  read -r stat 2>/dev/null < "/proc/$1/stat" || return 1
  f=(\${stat##*) })
  [ "\${f[19]}" = "$2" ] && [ "\${f[0]}" != Z ] && [ "\${f[0]}" != X ]
}
started() { local stat f; read -r stat < "/proc/$1/stat"; f=(\${stat##*) }); echo "\${f[19]}"; }
if [ -r "$state" ]; then
  while read -r pid start; do alive "$pid" "$start" && echo "JOB OVERLAP pid=$pid"; done < "$state"
fi
(trap '' TERM; exec sleep 1000000) & child=$!
printf '%s %s\\n%s %s\\n' "$$" "$(started $$)" "$child" "$(started $child)" > "$state.$$"
mv -f "$state.$$" "$state"
case $mode in
  ignore) trap 'echo "JOB term pid=$$"' TERM;;
  slow) trap 'echo "JOB term pid=$$"; sleep 2; kill -KILL $child; exit 0' TERM;;
  *) trap 'kill -KILL $child; exit 0' TERM;;
esac
echo "JOB start id=$ZK_ELECTION_ID token=$ZK_ELECTION_TOKEN pid=$$:$(started $$) child=$child:$(started $child) timeout=$ZK_ELECTION_SESSION_TIMEOUT margin=$ZK_ELECTION_LEASE_MARGIN auth=\${ZK_AUTH-none}"
while kill -0 $child 2>/dev/null; do wait $child; done
`;

/** The words after `--` of `zk-election run`: the job, sharing `stateFile` with every other copy. */
export function leaseJob(stateFile: string, mode: JobMode): string[] {
  return ['bash', '-c', SCRIPT, 'lease-job', stateFile, mode];
}

export interface JobStart {
  id: string;
  token: bigint;
  /** The shell's and the child's pid and start time. */
  processes: Array<{ pid: number; start: string }>;
  env: { timeout: string; margin: string; auth: string };
  line: string;
}

const START = /^JOB start id=(\S+) token=(\d+) pid=(\d+):(\d+) child=(\d+):(\d+) timeout=(\S*) margin=(\S*) auth=(\S*)$/;

export const JOB_START = /^JOB start /;

export function parseJobStart(line: string): JobStart {
  const m = START.exec(line);
  if (!m) throw new Error(`not a job start line: ${line}`);
  return {
    id: m[1]!,
    token: BigInt(m[2]!),
    processes: [
      { pid: Number(m[3]), start: m[4]! },
      { pid: Number(m[5]), start: m[6]! },
    ],
    env: { timeout: m[7]!, margin: m[8]!, auth: m[9]! },
    line,
  };
}

/** Whether the process `pid` that started at `start` (clock ticks since boot) runs and is not a zombie. */
export function processRuns(pid: number, start: string): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] === start && fields[0] !== 'Z' && fields[0] !== 'X';
}

export function jobRuns(job: JobStart): boolean {
  return job.processes.some((p) => processRuns(p.pid, p.start));
}

/** Every job start line that `runs` printed so far. */
export function jobStarts(runs: readonly TrackedProcess[]): JobStart[] {
  return runs.flatMap((run) => run.lines.filter((line) => JOB_START.test(line)).map(parseJobStart));
}

/** Every `JOB OVERLAP` line that `runs` printed so far. */
export function overlaps(runs: readonly TrackedProcess[]): string[] {
  return runs.flatMap((run) => run.lines.filter((line) => line.startsWith('JOB OVERLAP')));
}

/**
 * Samples the process table every `everyMs` for the jobs `runs` have started: the most copies seen
 * alive at once. A sampler can miss a short overlap; the jobs' own check (`overlaps`) cannot.
 */
export class JobSampler {
  maxAlive = 0;
  samples = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(runs: () => readonly TrackedProcess[], everyMs = 25) {
    this.#timer = setInterval(() => {
      const alive = jobStarts(runs()).filter(jobRuns).length;
      this.maxAlive = Math.max(this.maxAlive, alive);
      this.samples += 1;
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
