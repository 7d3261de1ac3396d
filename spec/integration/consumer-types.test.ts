/**
 * The package as a TypeScript user gets it: `npm pack`, installed into fresh projects (from the
 * local npm cache, the registry only for what the cache lacks; install scripts off: only the
 * declarations and the bundles matter here), then type-checked with the strictest settings a
 * consumer may have (`strict`, `exactOptionalPropertyTypes`, `skipLibCheck: false`) by the
 * TypeScript of our devDependencies: ESM and CommonJS projects x `moduleResolution` node16 and
 * bundler x with and without `@types/node` installed by the consumer (without it, with
 * `types: []`: only what the package brings). A CommonJS program also `require()`s the package.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const TSC = path.join(root, 'node_modules/typescript/bin/tsc');
const NPM_FLAGS = ['--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'];

/** What a user writes: the README's idioms, options straight from the environment, `await using`. */
const CONSUMER = `
import { electLeader, Election, isZkElectionError, listParticipants, Session, type ElectionOptions, type Participant } from 'zk-election';
import { MemoryZooKeeper, startZooKeeper, type StartZooKeeperOptions } from 'zk-election/testing';

const options: ElectionOptions = { connect: process.env.ZK_CONNECT, id: process.env.HOSTNAME, logger: undefined, sessionTimeout: undefined };
const kit: StartZooKeeperOptions = { servers: 1, baseDir: process.env.ZK_DIR };

export async function main(): Promise<Participant[]> {
  const leadership = await electLeader('/jobs/x', { connect: process.env.ZK_CONNECT, timeout: undefined, handleSignals: true });
  leadership.signal.addEventListener('abort', () => undefined);
  await using election = new Election('/jobs/y', options);
  await election.start();
  await using session = await Session.connect({ connect: process.env.ZK_CONNECT, connectTimeout: Number(process.env.T) || undefined });
  const memory = new MemoryZooKeeper();
  void memory.transport;
  await using ensemble = await startZooKeeper(kit);
  try {
    return await listParticipants('/jobs/x', { connect: session });
  } catch (error) {
    if (isZkElectionError(error, 'UNREACHABLE')) return [];
    throw error;
  } finally {
    void ensemble.connectString;
  }
}
`;

/** The same through `import x = require()`: what a CommonJS file compiled with `module: preserve` writes. */
const CONSUMER_REQUIRE = `
import zk = require('zk-election');
import testing = require('zk-election/testing');

export async function main(): Promise<number> {
  const options: zk.ElectionOptions = { connect: process.env.ZK_CONNECT };
  await using election = new zk.Election('/jobs/y', options);
  const kit: testing.StartZooKeeperOptions = { baseDir: process.env.ZK_DIR };
  void kit;
  return (await zk.listParticipants('/jobs/x', { connect: process.env.ZK_CONNECT })).length + (election.isLeader ? 1 : 0);
}
`;

interface Project {
  type: 'module' | 'commonjs';
  compilerOptions: Record<string, unknown>;
  source: string;
}

const PROJECTS: Record<string, Project> = {
  'ESM, node16': { type: 'module', compilerOptions: { module: 'node16', moduleResolution: 'node16' }, source: CONSUMER },
  'CJS, node16': { type: 'commonjs', compilerOptions: { module: 'node16', moduleResolution: 'node16' }, source: CONSUMER },
  'ESM, bundler': { type: 'module', compilerOptions: { module: 'esnext', moduleResolution: 'bundler' }, source: CONSUMER },
  'CJS, bundler': { type: 'commonjs', compilerOptions: { module: 'preserve', moduleResolution: 'bundler' }, source: CONSUMER_REQUIRE },
};

let work: string;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'zk-election-consumer-'));
  // The declarations and bundles as built (npm test builds first): no prepare script here.
  await exec('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: root, timeout: 60_000 });
  tarball = path.join(work, readdirSync(work).find((name) => name.endsWith('.tgz'))!);
  for (const [variant, extra] of [['with', ['@types/node@20.19.43']], ['without', []]] as const) {
    const dir = path.join(work, variant);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `consumer-${variant}`, private: true }));
    await exec('npm', ['install', ...NPM_FLAGS, tarball, ...extra], { cwd: dir, timeout: 120_000 });
  }
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.each(['with', 'without'] as const)('%s @types/node installed by the consumer', (variant) => {
  test.each(Object.keys(PROJECTS))('%s: strict, exactOptionalPropertyTypes, skipLibCheck false', async (name) => {
    const project = PROJECTS[name]!;
    const dir = path.join(work, variant, name.replace(/\W+/g, '-').toLowerCase());
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: project.type }));
    const compilerOptions = {
      ...project.compilerOptions,
      // ES2022: TypeScript lowers `await using`, which Node 20 and 22 cannot parse (docs/api.md).
      target: 'es2022',
      strict: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: false,
      noEmit: true,
      // Without: nothing global but what the package's declarations reference themselves.
      ...(variant === 'without' ? { types: [] } : {}),
    };
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['index.ts'] }, null, 2));
    writeFileSync(path.join(dir, 'index.ts'), project.source);
    const result = await exec(process.execPath, [TSC, '-p', dir], { timeout: 120_000 }).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    expect(result).toBe('');
  });
});

test('a CommonJS program require()s both entry points', async () => {
  const program = "const zk = require('zk-election'); const t = require('zk-election/testing'); console.log(typeof zk.electLeader, typeof t.startZooKeeper);";
  const { stdout } = await exec(process.execPath, ['-e', program], { cwd: path.join(work, 'without'), timeout: 30_000 });
  expect(stdout).toBe('function function\n');
});
