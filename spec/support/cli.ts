/** The built CLI as tests run it: one path, one way to run a command to completion. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** dist/lib/cli/main.js: `npm test` builds before jest runs. */
export const CLI = fileURLToPath(new URL('../../dist/lib/cli/main.js', import.meta.url));

const execFileAsync = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `zk-election ...args` to its exit (killed after 30 s) and returns its exit code and output. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { timeout: 30_000, env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
