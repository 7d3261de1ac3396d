/**
 * Consumer projects for the install suite (install.test.ts): zk-election packed as a user gets it
 * (`npm pack` of this checkout), installed into fresh projects by npm, pnpm and Yarn classic, and
 * the checks that the patched native client is what runs there. Commands run with an environment
 * stripped of the outer npm's `npm_*` variables, so that `npm test` does not leak its own settings
 * into the installs it tests.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr, for assertions on what a tool printed wherever it printed it. */
  output: string;
}

/** The environment of every command: ours without npm's lifecycle variables. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', CI: '1', ...extra };
}

/** Runs a command to its end (killed after `timeoutMs`); never rejects on a non-zero exit. */
export function run(command: string, args: readonly string[], cwd: string, timeoutMs = 180_000, env: NodeJS.ProcessEnv = cleanEnv()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, output: `${stdout}\n${stderr}` });
    });
  });
}

/** Throws with the command's output unless it exited 0. */
export async function ok(command: string, args: readonly string[], cwd: string, timeoutMs?: number): Promise<Run> {
  const result = await run(command, args, cwd, timeoutMs);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code} in ${cwd}:\n${result.output.slice(-4000)}`);
  return result;
}

/** `tool` on PATH, installed with `npm i -g` when it is missing. */
export async function ensureTool(tool: 'pnpm' | 'yarn'): Promise<void> {
  if ((await run(tool, ['--version'], os.tmpdir(), 30_000)).code === 0) return;
  await ok('npm', ['install', '--global', tool], os.tmpdir(), 300_000);
}

/** Packs this checkout as `npm publish` would (the sources vendored first; dist/ must be built). */
export async function packTarball(into: string): Promise<string> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'bundle', 'index.js'))) throw new Error('dist/ is not built: run `npm run build` (npm test does) before the install suite');
  await ok(process.execPath, [path.join(ROOT, 'lib', 'native', 'vendor.mjs')], ROOT);
  const packed = await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', into], ROOT);
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  return path.join(into, filename);
}

/** A fresh project directory with a package.json (ES module), and what else it needs. */
export function newProject(parent: string, name: string, manifest: Record<string, unknown> = {}): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true, type: 'module', ...manifest }, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'session.mjs'), SESSION_CHECK);
  fs.writeFileSync(path.join(dir, 'markers.cjs'), MARKERS_CHECK);
  return dir;
}

/**
 * What a user's program does: open a session with the library (which loads and checks the native
 * client: a missing or unpatched one is NATIVE_CLIENT) and report where the package is.
 */
const SESSION_CHECK = `import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session } from 'zk-election';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.resolve('zk-election'))), '..', '..');
try {
  const session = await Session.connect({ connect: process.argv[2], connectTimeout: 20000 });
  console.log(JSON.stringify({ root, sessionId: session.sessionId }));
  await session.close();
} catch (error) {
  console.log(JSON.stringify({ root, code: error.code, message: error.message }));
  process.exitCode = 1;
}
`;

/** The addon's marker constants, read in a process of its own (an addon loads once per process). */
const MARKERS_CHECK = `const path = require('node:path');
const file = process.argv[2];
const m = { exports: {} };
process.dlopen(m, path.resolve(file), require('node:os').constants.dlopen.RTLD_NOW);
const z = m.exports.ZooKeeper;
console.log(JSON.stringify(Object.fromEntries(Object.keys(z).filter((k) => k.startsWith('ZK_ELECTION')).map((k) => [k, z[k]]))));
`;

export interface SessionCheck {
  root: string;
  sessionId?: string;
  code?: string;
  message?: string;
}

/** Runs session.mjs in `project` against `connect`. */
export async function openSession(project: string, connect: string): Promise<SessionCheck> {
  const result = await run(process.execPath, ['session.mjs', connect], project, 60_000);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as SessionCheck;
  } catch {
    throw new Error(`session.mjs printed no result (exit ${result.code}):\n${result.output.slice(-3000)}`);
  }
}

/** The patch markers of the addon file (an empty object for a build without them). */
export async function markersOf(project: string, addon: string): Promise<Record<string, string>> {
  return JSON.parse((await ok(process.execPath, ['markers.cjs', addon], project)).stdout) as Record<string, string>;
}

/** zk-election's built addon inside `project`'s node_modules (through pnpm's links too). */
export function addonIn(project: string): string {
  return path.join(fs.realpathSync(path.join(project, 'node_modules', 'zk-election')), 'native-build', 'build', 'Release', 'zookeeper.node');
}

/** SHA-256 over every regular file under `dir` (paths and contents): equal digests, equal trees. */
export function treeDigest(dir: string): string {
  const digest = createHash('sha256');
  const walk = (at: string): void => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) digest.update(`${path.relative(dir, full)}\0`).update(fs.readFileSync(full));
    }
  };
  walk(dir);
  return digest.digest('hex');
}
