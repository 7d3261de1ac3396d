/**
 * Issue 18's attacks, tried again as a user would: a real server, the built CLI, and a second
 * client with no credentials doing what the issue did. With credentials the nodes `run` creates
 * are the creator's (everyone may read); planted persistent nodes never lead; foreign data is
 * shown, not obeyed; credentials stay out of /proc and out of messages.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLeader, observeLeader, Perms } from 'zk-election';
import { CLI, runCli } from '../support/cli.js';
import { CreateMode, ensurePath, openClient } from '../support/clients.js';
import { descendantsOf, isAlive, killAllTracked, spawnTracked, waitFor, type TrackedProcess } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';
import type { ZkClient } from '../../lib/zk/native-client.js';

const zk = useZooKeeper({ servers: 1 });
const SECRET = 'hunter2-s3cret';
const AUTH = `digest:ops:${SECRET}`;
const JOB = ['sh', '-c', 'echo "JOB id=$ZK_ELECTION_ID pid=$$"; exec sleep 300'];
const MARKER = 'f'.repeat(32);

let anonymous: ZkClient;
const cleanup: Array<() => void> = [];
beforeAll(async () => {
  anonymous = await openClient(zk.connectString);
});
afterEach(async () => {
  await killAllTracked();
  for (const undo of cleanup.splice(0)) undo();
});
afterAll(() => anonymous?.close());

const cli = (env: NodeJS.ProcessEnv, ...args: string[]) => runCli(args, { ...process.env, ZK_CONNECT: zk.connectString, ...env });

function start(path: string, id: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<TrackedProcess> {
  return spawnTracked(process.execPath, [CLI, 'run', path, '--id', id, ...args, '--', ...JOB], { env: { ...process.env, ZK_CONNECT: zk.connectString, ...env } });
}

/** A `run` sidecar, once its command has started (it leads). */
async function sidecar(path: string, id: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<{ proc: TrackedProcess; job: number }> {
  const proc = await start(path, id, env, args);
  return { proc, job: await jobOf(proc, id) };
}

async function jobOf(proc: TrackedProcess, id: string): Promise<number> {
  return Number(/pid=(\d+)/.exec(await proc.waitForLine(new RegExp(`^JOB id=${id} pid=\\d+$`), 20_000))![1]);
}

async function authorised(): Promise<ZkClient> {
  const client = await openClient(zk.connectString);
  cleanup.push(() => client.close());
  await client.addAuth('digest', `ops:${SECRET}`);
  return client;
}

const code = (promise: Promise<unknown>) => promise.then(() => 'ok', (error: { code?: string }) => error.code);

describe('credentials given, no ACL: the creator may do everything, everyone else may read', () => {
  test('every node run creates, parents included, has that ACL; a client without credentials can list but not plant, delete, rewrite or re-ACL', async () => {
    const path = uniquePath();
    const { proc } = await sidecar(path, 'alpha', { ZK_AUTH: AUTH });
    const [node] = await anonymous.getChildren(path);
    const candidate = `${path}/${node!}`;
    const creatorOnly = [{ scheme: 'digest', auth: expect.stringMatching(/^ops:/) as string, perms: Perms.ALL }, { scheme: 'world', auth: 'anyone', perms: Perms.READ }];
    for (const p of [path.slice(0, path.lastIndexOf('/')), path, candidate]) expect((await anonymous.getAcl(p)).acl).toEqual(creatorOnly);
    // What the issue did without credentials, each refused now.
    expect({
      plant: await code(anonymous.create(`${path}/c_${MARKER}_`, Buffer.from('{"id":"planted"}'), CreateMode.PERSISTENT_SEQUENTIAL)),
      delete: await code(anonymous.delete(candidate)),
      rewrite: await code(anonymous.setData(candidate, Buffer.from('{"id":"spoofed"}'))),
      reAcl: await code(anonymous.setAcl(candidate, [{ scheme: 'world', auth: 'anyone', perms: Perms.ALL }])),
    }).toEqual({ plant: 'NO_AUTH', delete: 'NO_AUTH', rewrite: 'NO_AUTH', reAcl: 'NO_AUTH' });
    // Observers need no credentials: listing and reading still work.
    expect(await cli({}, 'leader', path)).toMatchObject({ code: 0, stdout: 'alpha\n' });
    expect((await cli({}, 'participants', path)).stdout).toMatch(/^\*\s+alpha\s/m);
    expect(proc.errorLines.join('\n')).not.toContain(SECRET);
  });

  test('step-down without the creator\'s credentials: NO_AUTH, exit 2 (with --force too); the leader keeps leading; with them it hands over', async () => {
    const path = uniquePath();
    const first = await sidecar(path, 'first', { ZK_AUTH: AUTH });
    await start(path, 'second', { ZK_AUTH: AUTH });
    await waitFor(async () => (await anonymous.getChildren(path)).length === 2, { timeoutMs: 15_000, message: 'second to join' });
    for (const args of [[], ['--id', 'first'], ['--id', 'first', '--force']]) {
      const denied = await cli({}, 'step-down', path, ...args, '--timeout', '5000');
      expect(denied).toMatchObject({ code: 2, stdout: '' });
      expect(denied.stderr).toMatch(/not authorised \((setData|delete) .*\[NO_AUTH\]$/m);
    }
    expect(isAlive(first.job)).toBe(true);
    expect(await cli({}, 'leader', path)).toMatchObject({ code: 0, stdout: 'first\n' });
    expect(first.proc.errorLines.join('\n')).not.toMatch(/step-down|leadership lost/);
    expect(await cli({ ZK_AUTH: AUTH }, 'step-down', path)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^first stepped down; new leader second token \d+$/m) });
  });

  test('--acl and $ZK_ACL override the default', async () => {
    const open = uniquePath();
    await sidecar(open, 'open', { ZK_AUTH: AUTH }, ['--acl', 'world:anyone:cdrwa']);
    const [node] = await anonymous.getChildren(open);
    expect((await anonymous.getAcl(`${open}/${node!}`)).acl).toEqual([{ scheme: 'world', auth: 'anyone', perms: Perms.ALL }]);
    const closed = uniquePath();
    await sidecar(closed, 'closed', { ZK_AUTH: AUTH, ZK_ACL: 'auth::cdrwa' });
    // Not even READ for others now: listing needs credentials.
    expect(await code(anonymous.getChildren(closed))).toBe('NO_AUTH');
    expect((await cli({}, 'participants', closed)).code).toBe(2);
    const owner = await authorised();
    const [own] = await owner.getChildren(closed);
    expect((await owner.getAcl(`${closed}/${own!}`)).acl).toEqual([{ scheme: 'digest', auth: expect.stringMatching(/^ops:/) as string, perms: Perms.ALL }]);
    expect(await code(anonymous.getAcl(`${closed}/${own!}`))).toBe('NO_AUTH');
  });

  test('an election path more open than what we create gets a warning naming it, and is left as it is', async () => {
    const path = uniquePath();
    await ensurePath(anonymous, path);
    const { proc } = await sidecar(path, 'warned', { ZK_AUTH: AUTH });
    const warning = proc.errorLines.find((line) => line.includes('grants everyone'));
    expect(warning).toMatch(new RegExp(`warn the election path grants everyone \\(world:anyone\\) "cdwa" beyond the ACL of the nodes this election creates; .* path=${path} id=warned$`));
    expect((await anonymous.getAcl(path)).acl).toEqual([{ scheme: 'world', auth: 'anyone', perms: Perms.ALL }]);
  });
});

test('reading an ACL the server refuses is an error, not a crash (the binding freed a NULL vector: SIGSEGV)', async () => {
  const path = uniquePath();
  const owner = await authorised();
  await ensurePath(owner, path.slice(0, path.lastIndexOf('/')));
  await owner.create(path, Buffer.alloc(0), CreateMode.PERSISTENT, [{ scheme: 'auth', auth: '', perms: Perms.ALL }]);
  // In a child: a regression kills that process, not the test runner.
  const script = `
    const { ZkClient } = await import(${JSON.stringify(new URL('../../dist/lib/zk/native-client.js', import.meta.url).href)});
    const { systemClock } = await import(${JSON.stringify(new URL('../../dist/lib/util/clock.js', import.meta.url).href)});
    const c = new ZkClient({ connect: ${JSON.stringify(zk.connectString)}, sessionTimeout: 4000, clock: systemClock });
    await new Promise((resolve) => c.once('connected', resolve));
    const code = (p) => c.getAcl(p).then(() => 'ok', (e) => e.code);
    console.log(JSON.stringify([await code(${JSON.stringify(`${path}-missing`)}), await code(${JSON.stringify(path)})]));
    c.close();`;
  const child = await spawnTracked(process.execPath, ['--input-type=module', '-e', script]);
  expect(await child.waitForExit(20_000)).toEqual({ code: 0, signal: null });
  expect(child.lines).toEqual(['["NO_NODE","NO_AUTH"]']);
});

describe('only live candidates count', () => {
  test('a planted persistent node with a candidate name never leads: candidates behind it are elected; leader, participants and observeLeader do not name it', async () => {
    const path = uniquePath();
    await ensurePath(anonymous, path);
    const planted = await anonymous.create(`${path}/c_${MARKER}_`, Buffer.from('{"id":"planted"}'), CreateMode.PERSISTENT_SEQUENTIAL);
    const alpha = await sidecar(path, 'alpha');
    const beta = await start(path, 'beta');
    await waitFor(async () => (await anonymous.getChildren(path)).length === 3, { timeoutMs: 15_000, message: 'beta to join' });
    expect(await cli({}, 'leader', path)).toMatchObject({ code: 0, stdout: 'alpha\n' });
    const listed = await cli({}, 'participants', path);
    expect(listed.stdout).toMatch(/^\*\s+alpha\s[\s\S]*\n\s+beta\s/m);
    expect(listed.stdout).toContain(`not candidates (persistent nodes with a candidate's name, ignored): ${planted.slice(path.length + 1)}`);
    expect(JSON.parse((await cli({}, 'participants', path, '--json')).stdout).map((p: { id: string }) => p.id)).toEqual(['alpha', 'beta']);
    expect((await getLeader(path, { connect: zk.connectString }))?.id).toBe('alpha');
    const observed = await observeLeader(path, { connect: zk.connectString, signal: AbortSignal.timeout(10_000) }).next();
    expect((observed.value as { id: string }).id).toBe('alpha');
    // Seconds have passed (the reads above), so run has confirmed its term several times (every
    // T/10): the planted node below it never ended that term.
    expect(alpha.proc.lines.filter((line) => line.startsWith('JOB '))).toHaveLength(1);
    expect(alpha.proc.errorLines.join('\n')).not.toContain('leadership lost');
    // The next one behind the planted node is elected in its turn; the planted node stays where it is.
    expect((await alpha.proc.stop('SIGTERM', 15_000)).code).toBe(143);
    await jobOf(beta, 'beta');
    expect(await cli({}, 'leader', path)).toMatchObject({ code: 0, stdout: 'beta\n' });
    expect(await anonymous.exists(planted)).toBeDefined();
  }, 90_000);
});

describe('untrusted data is shown, not obeyed', () => {
  const FORGED = '\u001b[31mpwned\u001b[0m\n*  admin  evil  1  0x1  1s  1  0';
  const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

  test('a candidate whose id forges a row, and one whose id and host are numbers: no escape code, no forged row, no crash; JSON keeps the exact string', async () => {
    const path = uniquePath();
    await ensurePath(anonymous, path);
    // Ephemeral and candidate-shaped: live candidates as far as the recipe can tell, with hostile data.
    await anonymous.create(`${path}/c_${MARKER}_`, Buffer.from(JSON.stringify({ id: FORGED, host: 'vm', pid: 1 })), CreateMode.EPHEMERAL_SEQUENTIAL);
    await anonymous.create(`${path}/c_${'e'.repeat(32)}_`, Buffer.from(JSON.stringify({ id: 7, host: 42, pid: 'x' })), CreateMode.EPHEMERAL_SEQUENTIAL);
    const table = await cli({}, 'participants', path);
    expect(table.code).toBe(0);
    expect(table.stdout).not.toMatch(CONTROL);
    expect(table.stdout.split('\n').filter((line) => line.startsWith('*'))).toEqual([expect.stringContaining('\\x1b[31mpwned\\x1b[0m\\n*  admin')]);
    expect(table.stdout).toMatch(/c_e{32}_\d{10} <id: number>\s+<number>\s+<string>/);
    const leader = await cli({}, 'leader', path);
    expect(leader).toMatchObject({ code: 0, stdout: '\\x1b[31mpwned\\x1b[0m\\n*  admin  evil  1  0x1  1s  1  0\n' });
    const json = JSON.parse((await cli({}, 'participants', path, '--json')).stdout) as Array<{ id: string; malformed?: string[] }>;
    expect(json.map((p) => [p.id, p.malformed])).toEqual([[FORGED, undefined], [expect.stringMatching(/^c_e{32}_\d{10}$/), ['id: number', 'host: number', 'pid: string']]]);
    // --watch, line by line (not a tty), and leader --watch: the same.
    for (const args of [['participants', path, '--watch'], ['leader', path, '--watch']]) {
      const watch = await spawnTracked(process.execPath, [CLI, ...args], { env: { ...process.env, ZK_CONNECT: zk.connectString } });
      const line = await watch.waitForLine(/./, 15_000);
      expect(line).not.toMatch(CONTROL);
      expect(line).toContain('\\x1b[31mpwned');
      await watch.stop('SIGINT', 10_000);
      expect(watch.lines.every((l) => !CONTROL.test(l) && !l.startsWith('*'))).toBe(true);
    }
  });
});

describe('secrets', () => {
  const environ = (pid: number): string => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1') + readFileSync(`/proc/${pid}/cmdline`, 'latin1');
    } catch {
      return '';
    }
  };

  test('$ZK_AUTH, $ZK_AUTH_FILE and --auth are readable neither in /proc of run, of its guard nor of its command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zk-secret-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'auth');
    writeFileSync(file, `${AUTH}\n`);
    chmodSync(file, 0o600);
    const runs = [
      await sidecar(uniquePath(), 'env', { ZK_AUTH: AUTH }),
      await sidecar(uniquePath(), 'flag', {}, ['--auth', AUTH]),
      await sidecar(uniquePath(), 'file', { ZK_AUTH_FILE: file }),
    ];
    for (const { proc, job } of runs) {
      const family = [proc.pid, ...descendantsOf(proc.pid)];
      // run, the guard (bash) and the command at least.
      expect(family.length).toBeGreaterThanOrEqual(3);
      expect(family).toContain(job);
      for (const pid of family) {
        const seen = environ(pid);
        expect({ pid, secret: seen.includes(SECRET), file: seen.includes('ZK_AUTH') }).toEqual({ pid, secret: false, file: false });
      }
    }
  });

  test('a credentials file others can read is refused; credentials in a connection string are refused and never echoed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zk-secret-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'auth');
    writeFileSync(file, `${AUTH}\n`);
    chmodSync(file, 0o644);
    const refused = await cli({}, 'participants', '/x', '--auth-file', file);
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining(`chmod 600 ${file}`) });
    const inConnect = await cli({}, 'participants', '/x', '--connect', `ops:${SECRET}@127.0.0.1:2181`);
    expect(inConnect).toMatchObject({ code: 2, stderr: expect.stringContaining('credentials do not belong in a connection string') });
    const verbose = await cli({}, 'leader', '/x', '--connect', `ops:${SECRET}@127.0.0.1:2181`, '--verbose');
    for (const result of [refused, inConnect, verbose]) expect(result.stdout + result.stderr).not.toContain(SECRET);
  });
});
