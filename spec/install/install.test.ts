/**
 * Installing zk-election as users do (issue 22): the packed tarball into fresh projects, with npm
 * (plain, --strict-allow-scripts after allowing it, --ignore-scripts then `npm rebuild`), pnpm
 * (add, approve-builds, a reinstall from the side-effects cache, `pnpm rebuild`) and Yarn classic.
 * Each ends with a program of the project opening a session on a real server through the library,
 * which loads the native client and checks its patch markers, and with the markers read from the
 * addon in the project. Beside it, a second project with its own plain `zookeeper` package in the
 * same pnpm store: neither its files nor the store change (its binding's source stays upstream's).
 * pnpm and Yarn are installed with `npm i -g` when missing; packages come from the registry (npm's
 * from its cache when it has them).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PATCH_MARKERS } from '../../lib/zk/native-binding.js';
import { useZooKeeper } from '../support/zookeeper.js';
import { addonIn, ensureTool, markersOf, newProject, ok, openSession, packTarball, run, treeDigest } from './consumer.js';

const zk = useZooKeeper({ servers: 1 });
const SLOW = 300_000;
let work: string;
let tarball: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-install-'));
  tarball = await packTarball(work);
  await ensureTool('pnpm');
  await ensureTool('yarn');
}, SLOW);
afterAll(() => work && fs.rmSync(work, { recursive: true, force: true }));

/** The project's program opened a session, on zk-election's own build, whose markers are all lib/native's patches. */
async function expectPatchedClient(project: string): Promise<void> {
  const session = await openSession(project, zk.connectString);
  expect(session).toEqual({ root: expect.stringContaining(path.join('node_modules', 'zk-election')) as string, sessionId: expect.stringMatching(/^[0-9a-f]+$/) as string });
  expect(await markersOf(project, addonIn(project))).toEqual(PATCH_MARKERS);
}

describe('npm', () => {
  const npmInstall = (project: string, ...flags: string[]): Promise<{ code: number; output: string }> => run('npm', ['install', tarball, '--prefer-offline', ...flags], project);

  test('a plain install builds the native client; npm names zk-election among unreviewed install scripts', async () => {
    const project = newProject(work, 'npm-plain');
    const install = await npmInstall(project);
    expect(install.code).toBe(0);
    expect(install.output).toMatch(/install scripts not yet covered by allowScripts[\s\S]*zk-election@/);
    await expectPatchedClient(project);
  }, SLOW);

  test('--strict-allow-scripts refuses the install until allowScripts covers zk-election, then builds it', async () => {
    const project = newProject(work, 'npm-strict');
    const refused = await npmInstall(project, '--strict-allow-scripts');
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain('ESTRICTALLOWSCRIPTS');
    expect(fs.existsSync(path.join(project, 'node_modules', 'zk-election'))).toBe(false);
    // What `npm install-scripts approve` writes for a tarball; a registry install takes "zk-election": true.
    const manifest = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ ...manifest, allowScripts: { [`file:${tarball}`]: true } }));
    const allowed = await npmInstall(project, '--strict-allow-scripts');
    expect(allowed.code).toBe(0);
    expect(allowed.output).not.toContain('not yet covered by allowScripts');
    await expectPatchedClient(project);
  }, SLOW);

  test('--ignore-scripts: NATIVE_CLIENT naming the fix (the CLI exits 2); `npm rebuild zk-election` finishes the install', async () => {
    const project = newProject(work, 'npm-ignore-scripts');
    expect((await npmInstall(project, '--ignore-scripts')).code).toBe(0);
    const session = await openSession(project, zk.connectString);
    expect(session.code).toBe('NATIVE_CLIENT');
    expect(session.message).toMatch(/is not built .*npm rebuild zk-election.*pnpm approve-builds/);
    const cli = await run(path.join(project, 'node_modules', '.bin', 'zk-election'), ['participants', '/install-check', '--connect', zk.connectString], project);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/native client is not built.*npm rebuild zk-election.*\[NATIVE_CLIENT\]/);
    await ok('npm', ['rebuild', 'zk-election'], project);
    await expectPatchedClient(project);
  }, SLOW);
});

describe('pnpm, one store for a project with zk-election and one with its own zookeeper package', () => {
  let store: string;
  let project: string;
  let other: string;
  let otherZookeeper: string;
  let otherBefore: string;
  const pnpm = (cwd: string, ...args: string[]): ReturnType<typeof run> => run('pnpm', [...args, '--store-dir', store], cwd);

  beforeAll(async () => {
    store = path.join(work, 'pnpm-store');
    other = newProject(work, 'pnpm-own-zookeeper');
    // Its build is left unapproved (pnpm's default; building it takes minutes): what matters is
    // that its files, hard links into the same store, are never written.
    const added = await pnpm(other, 'add', 'zookeeper@7.3.0');
    if (!fs.existsSync(path.join(other, 'node_modules', 'zookeeper', 'package.json'))) throw new Error(`pnpm add zookeeper failed:\n${added.output.slice(-3000)}`);
    otherZookeeper = fs.realpathSync(path.join(other, 'node_modules', 'zookeeper'));
    otherBefore = treeDigest(otherZookeeper);
    project = newProject(work, 'pnpm-zk-election');
  }, SLOW);

  test('pnpm add stops with ERR_PNPM_IGNORED_BUILDS; approving zk-election builds it', async () => {
    const added = await pnpm(project, 'add', tarball);
    expect(added.code).not.toBe(0);
    expect(added.output).toContain('ERR_PNPM_IGNORED_BUILDS');
    // pnpm names the selector it wants for this dependency (a file: spec for a tarball).
    const selector = /Ignored build scripts: (zk-election@\S+)/.exec(added.output)?.[1];
    expect(selector).toMatch(/^zk-election@/);
    const approved = await pnpm(project, 'approve-builds', selector!);
    expect(approved.output).toContain('built the native client');
    expect(approved.code).toBe(0);
    await expectPatchedClient(project);
  }, SLOW);

  test('rm -rf node_modules && pnpm install: the built client comes back from the side-effects cache', async () => {
    fs.rmSync(path.join(project, 'node_modules'), { recursive: true, force: true });
    const installed = await pnpm(project, 'install');
    expect(installed.code).toBe(0);
    expect(installed.output).toMatch(/came from the side-effects cache: zk-election@/);
    expect(installed.output).not.toContain('building the native client');
    await expectPatchedClient(project);
  }, SLOW);

  test('pnpm rebuild zk-election: the same patched client, nothing rebuilt or rewritten', async () => {
    const addon = addonIn(project);
    const inode = fs.statSync(addon).ino;
    const rebuilt = await pnpm(project, 'rebuild', 'zk-election');
    expect(rebuilt.code).toBe(0);
    expect(fs.statSync(addon).ino).toBe(inode);
    await expectPatchedClient(project);
  }, SLOW);

  test("the store and the other project's zookeeper are untouched: its binding's source is still upstream's", async () => {
    for (const dir of [project, other]) expect((await pnpm(dir, 'store', 'status')).code).toBe(0);
    expect(treeDigest(otherZookeeper)).toBe(otherBefore);
    const source = createHash('sha256').update(fs.readFileSync(path.join(otherZookeeper, 'src', 'node-zk.cpp'))).digest('hex');
    const upstream = JSON.parse(fs.readFileSync(new URL('../../lib/native/sources.json', import.meta.url), 'utf8')) as { files: Record<string, string> };
    expect(source).toBe(upstream.files['src/node-zk.cpp']);
  }, SLOW);
});

test('Yarn classic: yarn add builds the native client', async () => {
  const project = newProject(work, 'yarn-classic');
  await ok('yarn', ['add', `file:${tarball}`, '--cache-folder', path.join(work, 'yarn-cache'), '--non-interactive'], project, SLOW);
  await expectPatchedClient(project);
}, SLOW);
