/**
 * What other clients wrote is shown, not obeyed (issue 18, items 6 and 8): node data typed on
 * read, control characters escaped in every human rendering (JSON keeps the exact strings), and
 * the CLI's credentials and ACL syntax: files only their owner can read, secrets never echoed.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { participantToJson, type Participant } from 'zk-election';
import { aclOption, resolveAuth } from '../../lib/cli/credentials.js';
import { escapeControl, participantsLine, participantsTable, shownId } from '../../lib/cli/format.js';
import { cliLogger, reportError, UsageError, type CliIo } from '../../lib/cli/io.js';
import { readPayload } from '../../lib/znode/payload.js';
import { isLiveOwner } from '../../lib/znode/recipe.js';

const FORGED = '\u001b[31mevil\u001b[0m\n*  admin  vm  1  0x1  1s  1  0';

function participant(over: Partial<Participant>): Participant {
  return { id: 'alice', node: '/e/c_x_0000000001', sequence: 1, leader: false, data: undefined, sessionId: '1000a', createdAt: new Date(0), token: 5n, priority: 0, host: 'vm', pid: 7, startedAt: undefined, ...over };
}

describe('node data typed on read', () => {
  const read = (value: unknown) => readPayload(Buffer.from(JSON.stringify(value)));

  test.each([
    ['a good payload', { id: 'a', host: 'h', pid: 3, startedAt: 't', priority: 2, data: { x: 1 } }, { id: 'a', host: 'h', pid: 3, startedAt: 't', priority: 2, data: { x: 1 }, malformed: [] }],
    ['an id that is a number', { id: 42, host: 'h' }, { id: undefined, host: 'h', pid: undefined, startedAt: undefined, priority: 0, data: undefined, malformed: ['id: number'] }],
    ['an empty id, host an object, pid a string', { id: '', host: { a: 1 }, pid: '12' }, { id: undefined, host: undefined, pid: undefined, startedAt: undefined, priority: 0, data: undefined, malformed: ['id: empty string', 'host: object', 'pid: string'] }],
    ['no id, a negative pid, startedAt null', { pid: -1, startedAt: null }, { id: undefined, host: undefined, pid: undefined, startedAt: undefined, priority: 0, data: undefined, malformed: ['id: missing', 'pid: not a positive whole number', 'startedAt: null'] }],
    ['a priority that is not a whole number from 0', { id: 'a', priority: -3 }, { id: 'a', host: undefined, pid: undefined, startedAt: undefined, priority: 0, data: undefined, malformed: ['priority: not a whole number from 0'] }],
    ['an array', [1, 2], { id: undefined, host: undefined, pid: undefined, startedAt: undefined, priority: 0, data: undefined, malformed: ['id: missing'] }],
  ])('%s', (_why, value, expected) => {
    expect(read(value)).toEqual(expected);
  });

  test('data that is not JSON at all has no fields, and says the id is missing', () => {
    expect(readPayload(Buffer.from([0xff, 0x00, 0x1b]))).toMatchObject({ id: undefined, malformed: ['id: missing'] });
  });

  test('only an owner that is a session makes a candidate: not 0, a container or a TTL node', () => {
    expect([isLiveOwner('1000a2b3c0000'), isLiveOwner('0'), isLiveOwner('8000000000000000'), isLiveOwner('ff00000000000064')]).toEqual([true, false, false, false]);
  });
});

describe('control characters are escaped in human output, kept in JSON', () => {
  test('escapeControl writes C0, DEL, C1, separators and bidi overrides as escapes', () => {
    expect(escapeControl('a\u001b[2Jb\nc\rd\te\u007ff\u009bg\u2028h\u202ei')).toBe('a\\x1b[2Jb\\nc\\rd\\te\\x7ff\\x9bg\\u2028h\\u202ei');
    expect(escapeControl('plain: émoji \u{1F600} ok')).toBe('plain: émoji \u{1F600} ok');
  });

  test('a forged id prints no escape code and no forged row in the table, the line and the leader', () => {
    const forged = participant({ id: FORGED, leader: false, sequence: 1 });
    const leader = participant({ id: 'bob', leader: true, sequence: 0 });
    const table = participantsTable([leader, forged]);
    const line = participantsLine([leader, forged], new Date(0));
    for (const text of [table, line, shownId(forged)]) {
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(text.split('\n').filter((l) => l.startsWith('*'))).toEqual(text === table ? [expect.stringMatching(/^\*\s+bob\s/)] : []);
    }
    expect(table.trimEnd().split('\n')).toHaveLength(3);
    expect(shownId(forged)).toBe('\\x1b[31mevil\\x1b[0m\\n*  admin  vm  1  0x1  1s  1  0');
    // JSON keeps the exact string.
    expect(JSON.parse(JSON.stringify(participantToJson(forged))).id).toBe(FORGED);
  });

  test('malformed fields are marked, not trusted: an id that was a number shows the node name and a marker', () => {
    const bad = participant({ id: 'c_x_0000000001', host: undefined, pid: undefined, malformed: ['id: number', 'host: object', 'pid: string'] });
    const row = participantsTable([bad]).split('\n')[1]!;
    expect(row).toMatch(/^\s+c_x_0000000001 <id: number>\s+<object>\s+<string>\s+1000a\s/);
  });

  test('text logs escape messages and fields; a reported error escapes its message', () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const io = { stdout: stream, stderr: stream, env: {} } as unknown as CliIo;
    cliLogger(io, 'text').warn(`left ${FORGED}`, { by: FORGED });
    reportError(io, new UsageError(`bad ${FORGED}`), false);
    return new Promise<void>((resolve) => setImmediate(() => {
      expect(lines).toHaveLength(2);
      for (const line of lines) {
        expect(line.endsWith('\n')).toBe(true);
        expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      }
      resolve();
    }));
  });
});

describe('--auth-file, $ZK_AUTH_FILE and --acl', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'zk-auth-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = (content: string, mode: number): string => {
    const path = join(dir, `auth-${mode.toString(8)}`);
    writeFileSync(path, content);
    chmodSync(path, mode);
    return path;
  };
  const failure = (attempt: () => unknown): string => {
    try {
      attempt();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    }
    return 'no error';
  };

  test('a file only its owner can read gives its one line; a trailing newline is fine', () => {
    const path = file('digest:ops:hunter2\n', 0o600);
    expect(resolveAuth({ 'auth-file': path }, {})).toEqual({ scheme: 'digest', credentials: 'ops:hunter2' });
    expect(resolveAuth({}, { ZK_AUTH_FILE: path })).toEqual({ scheme: 'digest', credentials: 'ops:hunter2' });
    // The flag wins over the variables.
    expect(resolveAuth({ auth: 'digest:a:b' }, { ZK_AUTH_FILE: path })).toEqual({ scheme: 'digest', credentials: 'a:b' });
  });

  test.each([
    ['group-readable', 'digest:ops:hunter2\n', 0o640, 'group or others may access it (mode 640); it holds a secret: chmod 600'],
    ['world-readable', 'digest:ops:hunter2\n', 0o644, '(mode 644)'],
    ['two lines', 'digest:ops:hunter2\ndigest:x:y\n', 0o600, 'expected one line of SCHEME:CREDENTIALS, found 2 (the contents are not shown)'],
    ['no scheme', 'hunter2\n', 0o600, 'expects SCHEME:CREDENTIALS'],
  ])('a %s file is refused, and nothing of it is shown', (_why, content, mode, words) => {
    const path = file(content, mode);
    for (const attempt of [() => resolveAuth({ 'auth-file': path }, {}), () => resolveAuth({}, { ZK_AUTH_FILE: path })]) {
      const message = failure(attempt);
      expect(message).toContain(words);
      expect(message).not.toContain('hunter2');
    }
  });

  test('a missing file, a directory, and two sources at once are refused', () => {
    expect(failure(() => resolveAuth({ 'auth-file': join(dir, 'none') }, {}))).toContain('cannot open it (ENOENT)');
    chmodSync(dir, 0o700);
    expect(failure(() => resolveAuth({ 'auth-file': dir }, {}))).toContain('not a regular file');
    expect(failure(() => resolveAuth({ auth: 'digest:a:b', 'auth-file': '/x' }, {}))).toBe('--auth and --auth-file: give one of them');
    expect(failure(() => resolveAuth({}, { ZK_AUTH: 'digest:a:hunter2', ZK_AUTH_FILE: '/x' }))).toBe('$ZK_AUTH and $ZK_AUTH_FILE are both set: set one of them');
  });

  test('--acl SCHEME:ID:PERMS[,...]: the id keeps its colons; $ZK_ACL when the flag is absent', () => {
    expect(aclOption({ acl: 'auth::cdrwa,world:anyone:r' }, {})).toEqual([{ scheme: 'auth', auth: '', perms: 31 }, { scheme: 'world', auth: 'anyone', perms: 1 }]);
    expect(aclOption({ acl: 'digest:ops:Zm9vYmFy:rw' }, {})).toEqual([{ scheme: 'digest', auth: 'ops:Zm9vYmFy', perms: 3 }]);
    expect(aclOption({}, { ZK_ACL: 'ip:10.0.0.0/8:r' })).toEqual([{ scheme: 'ip', auth: '10.0.0.0/8', perms: 1 }]);
    expect(aclOption({}, {})).toBeUndefined();
  });

  test.each(['world:anyone', 'world:anyone:x', 'world:anyone:rr', ':anyone:r', 'world:anyone:', ''])('--acl %j is bad usage', (value) => {
    expect(failure(() => aclOption({ acl: value }, {}))).toContain('--acl expects SCHEME:ID:PERMS[,...] with PERMS letters of cdrwa');
  });
});
