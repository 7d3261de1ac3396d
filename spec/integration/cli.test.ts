/** The CLI as operators use it: real processes against a real server, output in both forms, exit codes. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Election, listParticipants, participantToJson, Perms } from 'zk-election';
import { CLI, runCli, type CliResult } from '../support/cli.js';
import { closedPort, ensurePath, openClient } from '../support/clients.js';
import { TimeoutError } from 'zk-election';
import { descendantsOf, isAlive, killAllTracked, spawnTracked, waitFor } from '../support/processes.js';
import { uniquePath, useZooKeeper } from '../support/zookeeper.js';

const zk = useZooKeeper({ servers: 1 });
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.allSettled(cleanup.splice(0).map((fn) => fn()));
  await killAllTracked();
});

const cli = (...args: string[]): Promise<CliResult> => runCli(args, { ...process.env, ZK_CONNECT: zk.connectString });
const cliWithEnv = (env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliResult> => runCli(args, { ...process.env, ZK_CONNECT: zk.connectString, ...env });

/** The pid of the group guard (lib/spawn-clean.ts) that `run` process `sidecar` started, if one runs. */
function guardOf(sidecar: number): number | undefined {
  return descendantsOf(sidecar).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('zk-election-guard');
    } catch {
      return false;
    }
  });
}

async function join(path: string, ids: string[], awaitLeader = true): Promise<Election[]> {
  const list: Election[] = [];
  for (const id of ids) {
    const e = new Election(path, { connect: zk.connectString, id, data: { role: 'scheduler' } });
    cleanup.push(() => e.close());
    await e.start();
    list.push(e);
  }
  if (awaitLeader) await list[0]!.waitForLeadership(AbortSignal.timeout(10_000));
  return list;
}

test('participants prints a table with the leader marked, and --json exactly the listParticipants array', async () => {
  const path = uniquePath();
  await join(path, ['alpha', 'beta', 'gamma']);
  const table = await cli('participants', path);
  expect(table.code).toBe(0);
  const rows = table.stdout.trim().split('\n');
  expect(rows[0]).toMatch(/ID\s+HOST\s+PID\s+SESSION\s+AGE\s+TOKEN/);
  expect(rows).toHaveLength(4);
  expect(rows[1]!.trim().split(/\s+/).slice(0, 2)).toEqual(['*', 'alpha']);
  expect(rows[1]).toContain(`${process.pid}`);
  expect(rows[2]!.trim().startsWith('beta')).toBe(true);
  expect(rows[3]!.trim().startsWith('gamma')).toBe(true);

  const json = await cli('participants', path, '--json');
  expect(json.code).toBe(0);
  const expected = (await listParticipants(path, { connect: zk.connectString })).map(participantToJson);
  expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(expected)));
  expect(JSON.parse(json.stdout)[0]).toMatchObject({ id: 'alpha', leader: true, data: { role: 'scheduler' } });
});

test('leader prints the id and exits 0; with no leader it exits 1', async () => {
  const path = uniquePath();
  await join(path, ['solo']);
  expect(await cli('leader', path)).toMatchObject({ code: 0, stdout: 'solo\n' });
  const none = await cli('leader', uniquePath());
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('no leader');
  expect(JSON.parse((await cli('participants', uniquePath(), '--json')).stdout)).toEqual([]);
});

test('invalid input exits 2 with one clear line, an unreachable ensemble exits 3', async () => {
  const bad = await cli('participants', 'not/absolute');
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  expect(bad.stderr).toContain('INVALID_PATH');
  expect((await cli('participants')).code).toBe(2);
  expect((await cli('participants', '/x', '--bogus')).code).toBe(2);
  expect((await cli('nonsense')).code).toBe(2);
  const port = await closedPort();
  const unreachable = await cli('participants', '/x', '--connect', `127.0.0.1:${port}`, '--timeout', '800');
  expect(unreachable.code).toBe(3);
  expect(unreachable.stderr).toContain('UNREACHABLE');
  expect(unreachable.stderr).not.toContain('    at ');
});

test('--help on every command and --version', async () => {
  for (const command of ['participants', 'leader', 'run', 'demo', 'server']) {
    const help = await cli(command, '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(`zk-election ${command}`);
    expect(help.stdout).toContain('Example');
  }
  expect((await cli('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
});

test('run keeps exactly one copy of the command alive across a leader kill, with the token in its env', async () => {
  const path = uniquePath();
  const job = ['--', process.execPath, '-e', "console.log('JOB token=' + process.env.ZK_ELECTION_TOKEN + ' id=' + process.env.ZK_ELECTION_ID + ' pid=' + process.pid); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)"];
  const field = (line: string, name: string): string => new RegExp(`${name}=(\\S+)`).exec(line)![1]!;
  const first = await spawnTracked(process.execPath, [CLI, 'run', path, '--id', 'one', '--connect', zk.connectString, '--session-timeout', '1000', ...job]);
  const started = await first.waitForLine(/^JOB token=\d+ id=one pid=\d+$/, 15_000);
  const firstJob = Number(field(started, 'pid'));
  const second = await spawnTracked(process.execPath, [CLI, 'run', path, '--id', 'two', '--connect', zk.connectString, '--session-timeout', '1000', ...job]);
  // Once `two` has joined, it must not start its copy while `one` leads.
  await waitFor(async () => (await listParticipants(path, { connect: zk.connectString })).some((p) => p.id === 'two'), { timeoutMs: 15_000, message: 'two to join' });
  await expect(second.waitForLine(/^JOB/, 1500)).rejects.toBeInstanceOf(TimeoutError);
  await first.kill9();
  // The sidecar died without a word; its command must die with it, not run on beside the next one.
  await waitFor(() => !isAlive(firstJob), { timeoutMs: 5000, message: `the command (pid ${firstJob}) of the killed sidecar to exit` });
  const takeover = await second.waitForLine(/^JOB token=\d+ id=two pid=\d+$/, 20_000);
  expect(BigInt(field(takeover, 'token'))).toBeGreaterThan(BigInt(field(started, 'token')));
  const secondJob = Number(field(takeover, 'pid'));
  const stopped = await second.stop('SIGTERM', 10_000);
  // Ended by SIGTERM after its clean-up: 128 + 15, as every command that runs until interrupted.
  expect(stopped.code).toBe(143);
  expect(isAlive(secondJob)).toBe(false);
  expect(await listParticipants(path, { connect: zk.connectString })).toEqual([]);
});

test('run stops the whole process group of its command, not just the command', async () => {
  const path = uniquePath();
  // A shell that starts a child of its own and waits: the shell exits on SIGTERM, its child would not.
  const job = ['--', 'sh', '-c', 'sleep 300 & echo "GRANDCHILD pid=$! shell=$$"; wait'];
  const sidecar = await spawnTracked(process.execPath, [CLI, 'run', path, '--id', 'group', '--connect', zk.connectString, '--grace', '2000', ...job]);
  const line = await sidecar.waitForLine(/^GRANDCHILD pid=\d+ shell=\d+$/, 15_000);
  const [grandchild, shell] = [...line.matchAll(/=(\d+)/g)].map((m) => Number(m[1]));
  expect([isAlive(grandchild!), isAlive(shell!)]).toEqual([true, true]);
  const guard = guardOf(sidecar.pid);
  if (guard === undefined) throw new Error('run started no group guard');
  expect((await sidecar.stop('SIGTERM', 10_000)).code).toBe(143);
  expect(isAlive(grandchild!)).toBe(false);
  // The guard was dismissed once the group was gone, not left waiting for a reused group id.
  await waitFor(() => !isAlive(guard), { timeoutMs: 5000, message: 'the group guard to exit' });
});

test('kill -9 of run takes the command\'s whole process group with it, grandchildren included', async () => {
  const path = uniquePath();
  const job = ['--', 'sh', '-c', 'sleep 300 & echo "GRANDCHILD pid=$! shell=$$"; wait'];
  const sidecar = await spawnTracked(process.execPath, [CLI, 'run', path, '--id', 'killed', '--connect', zk.connectString, ...job]);
  const line = await sidecar.waitForLine(/^GRANDCHILD pid=\d+ shell=\d+$/, 15_000);
  const [grandchild, shell] = [...line.matchAll(/=(\d+)/g)].map((m) => Number(m[1]));
  expect([isAlive(grandchild!), isAlive(shell!)]).toEqual([true, true]);
  // The command can print before `run` has named its group to the guard (a pipe write right after
  // the spawn; a busy machine can preempt `run` between the two). Kill once `run` logged the start,
  // which comes after that write: the guarantee is for a command `run` has finished starting.
  await waitFor(() => sidecar.errorLines.some((l) => l.includes('elected; command started')), { timeoutMs: 15_000, message: 'run to log the command start' });
  await sidecar.kill9();
  await waitFor(() => !isAlive(shell!) && !isAlive(grandchild!), { timeoutMs: 10_000, message: 'the command and its child to die with run' });
});

test('participants --watch prints one line per change when stdout is not a tty', async () => {
  const path = uniquePath();
  const watcher = await spawnTracked(process.execPath, [CLI, 'participants', path, '--watch', '--connect', zk.connectString]);
  await watcher.waitForLine(/leader=none participants=0/, 15_000);
  const [a] = await join(path, ['first']);
  await watcher.waitForLine(/leader=first token=\d+ participants=1 first\*/, 15_000);
  await join(path, ['second'], false);
  await watcher.waitForLine(/participants=2 first\* second$/, 15_000);
  await a!.close();
  await watcher.waitForLine(/leader=second token=\d+ participants=1 second\*/, 15_000);
  expect((await watcher.stop('SIGINT', 10_000)).code).toBe(130);
});

test('server runs a local ZooKeeper on the given port until SIGINT, then removes everything; a taken port is exit 2', async () => {
  const port = await closedPort();
  const server = await spawnTracked(process.execPath, [CLI, 'server', '--port', String(port)]);
  await server.waitForLine(new RegExp(`serving at 127\\.0\\.0\\.1:${port}$`), 60_000);
  const dataLine = await server.waitForLine(/data in /, 5000);
  const dataDir = /data in (\S+);/.exec(dataLine)![1]!;
  expect(existsSync(dataDir)).toBe(true);

  const listed = await cli('participants', '/nobody/here', '--connect', `127.0.0.1:${port}`);
  expect(listed).toMatchObject({ code: 0, stdout: 'no participants\n' });
  const taken = await cli('server', '--port', String(port));
  expect(taken.code).toBe(2);
  expect(taken.stderr).toMatch(/port \d+ is already in use/);

  server.child.kill('SIGINT');
  expect(await server.waitForExit(30_000)).toEqual({ code: 130, signal: null });
  expect(server.lines.at(-1)).toBe('stopped; nothing left behind');
  expect(existsSync(dataDir)).toBe(false);
}, 90_000);

describe('--auth SCHEME:CREDENTIALS and $ZK_AUTH against a digest-protected election', () => {
  const SECRET = 's3cr3t-pa55';
  const AUTH = `digest:ops:${SECRET}`;
  /** The election parent: all permissions for ops, none for anyone else. */
  async function protectedElection(): Promise<string> {
    const path = uniquePath();
    const operator = await openClient(zk.connectString);
    cleanup.push(async () => operator.close());
    await operator.addAuth('digest', `ops:${SECRET}`);
    const id = `ops:${createHash('sha1').update(`ops:${SECRET}`).digest('base64')}`;
    await ensurePath(operator, path);
    await operator.setAcl(path, [{ perms: Perms.ALL, scheme: 'digest', auth: id }]);
    return path;
  }
  const neverShowsSecret = (...results: Array<{ stdout: string; stderr: string } | TrackedOutput>): void => {
    for (const r of results) expect(`${'stdout' in r ? r.stdout : r.lines.join('\n')}\n${'stderr' in r ? r.stderr : r.errorLines.join('\n')}`).not.toContain(SECRET);
  };
  type TrackedOutput = { lines: readonly string[]; errorLines: readonly string[] };

  test('participants and leader: NO_AUTH (exit 2) without credentials, everyone listed with --auth or $ZK_AUTH; run joins with them', async () => {
    const path = await protectedElection();
    const library = new Election(path, { connect: zk.connectString, id: 'library', auth: { scheme: 'digest', credentials: `ops:${SECRET}` } });
    cleanup.push(() => library.close());
    await library.start();
    await library.waitForLeadership(AbortSignal.timeout(10_000));
    // run takes its credentials from $ZK_AUTH, and does not hand them on to its command.
    const sidecar = await spawnTracked(process.execPath, [CLI, 'run', path, '--id', 'sidecar', '-v', '--', 'sh', '-c', 'echo "JOB auth=${ZK_AUTH-none}"; sleep 300'], {
      env: { ...process.env, ZK_CONNECT: zk.connectString, ZK_AUTH: AUTH },
    });
    await waitFor(async () => (await cliWithEnv({ ZK_AUTH: AUTH }, 'participants', path, '--json')).stdout.includes('sidecar'), { timeoutMs: 15_000, message: 'run to join with $ZK_AUTH' });

    const denied = await cli('participants', path);
    expect(denied.code).toBe(2);
    expect(denied.stderr.trim().split('\n')).toHaveLength(1);
    expect(denied.stderr).toMatch(/not authorised.*--auth SCHEME:CREDENTIALS or \$ZK_AUTH \[NO_AUTH\]/);
    expect((await cli('leader', path)).code).toBe(2);

    const listed = await cli('participants', path, '--auth', AUTH, '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((p) => p.id)).toEqual(['library', 'sidecar']);
    const fromEnv = await cliWithEnv({ ZK_AUTH: AUTH }, 'participants', path);
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toMatch(/\*\s+library[\s\S]*sidecar/);
    expect(await cli('leader', path, '--auth', AUTH)).toMatchObject({ code: 0, stdout: 'library\n' });

    const wrong = await cli('participants', path, '--auth', 'digest:ops:not-the-password', '--verbose');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('NO_AUTH');
    expect(wrong.stderr).not.toContain('not-the-password');

    await library.close();
    await sidecar.waitForLine(/^JOB auth=none$/, 15_000);
    expect((await sidecar.stop('SIGTERM', 10_000)).code).toBe(143);
    neverShowsSecret(denied, listed, fromEnv, wrong, sidecar);
  });

  test('step-down without credentials is denied (NO_AUTH, exit 2) and changes nothing; with $ZK_AUTH the leader steps down', async () => {
    const path = await protectedElection();
    const auth = { scheme: 'digest', credentials: `ops:${SECRET}` };
    const [first, second] = ['first', 'second'].map((id) => new Election(path, { connect: zk.connectString, id, auth }));
    cleanup.push(() => first!.close(), () => second!.close());
    await first!.start();
    const term = await first!.waitForLeadership(AbortSignal.timeout(10_000));
    await second!.start();
    const operator = await openClient(zk.connectString);
    cleanup.push(async () => operator.close());
    await operator.addAuth('digest', `ops:${SECRET}`);
    const before = { children: await operator.getChildren(path), node: await operator.get(term.node) };

    const denied = [await cli('step-down', path), await cli('step-down', path, '--id', 'first', '--timeout', '5000'), await cli('step-down', path, '--id', 'first', '--force')];
    for (const result of denied) {
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/--auth SCHEME:CREDENTIALS or \$ZK_AUTH \[NO_AUTH\]/);
    }
    // Nothing changed: the same term leads, no request was written into its node, no node went.
    expect(term.isValid()).toBe(true);
    expect(first!.leadership).toBe(term);
    expect({ children: await operator.getChildren(path), node: await operator.get(term.node) }).toEqual(before);

    // The refusal was the missing credentials': with them the same command hands over.
    const done = await cliWithEnv({ ZK_AUTH: AUTH }, 'step-down', path, '--id', 'first');
    expect(done).toMatchObject({ code: 0, stdout: expect.stringMatching(/^first stepped down; new leader second token \d+$/m) });
    expect(term.isLeader).toBe(false);
    neverShowsSecret(...denied, done);
  });

  test('run without credentials cannot join (NO_AUTH, exit 2); a malformed --auth or $ZK_AUTH is bad usage and never echoed', async () => {
    const path = await protectedElection();
    const denied = await cli('run', path, '--once', '--', 'sh', '-c', 'echo JOB started');
    expect(denied.code).toBe(2);
    expect(denied.stderr).toContain('NO_AUTH');
    expect(denied.stdout).not.toContain('JOB started');
    const operator = await openClient(zk.connectString);
    cleanup.push(async () => operator.close());
    await operator.addAuth('digest', `ops:${SECRET}`);
    expect(await operator.getChildren(path)).toEqual([]);

    const flag = await cli('participants', path, '--auth', `digest${SECRET}`);
    expect(flag).toMatchObject({ code: 2, stdout: '' });
    expect(flag.stderr).toContain('--auth expects SCHEME:CREDENTIALS');
    const env = await cliWithEnv({ ZK_AUTH: `${SECRET}:` }, 'leader', path);
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('$ZK_AUTH expects SCHEME:CREDENTIALS');
    neverShowsSecret(denied, flag, env);
  });
});
