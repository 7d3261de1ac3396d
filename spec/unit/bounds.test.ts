/**
 * Bounds with clear errors (issue 18, item 7): every public entry point refuses bad input before
 * anything is sent, with a stable code and a message that names the culprit (never a credential).
 * One table, one row per case, each with its exact code and the words its message must contain.
 */
import { electLeader, Election, getLeader, listParticipants, observeLeader, requestStepDown, runAsLeader, Session } from 'zk-election';
import { MemoryZooKeeper } from 'zk-election/testing';
import { validateElectionPath } from '../../lib/util/validate.js';

/** What each row runs: synchronous throws and rejections are caught alike. */
type Attempt = () => unknown;

const memory = new MemoryZooKeeper();
const CONNECT = '127.0.0.1:1';
const task = async () => 'done';

/** [case, attempt, code, words the message contains] */
const CASES: Array<[string, Attempt, string, string]> = [
  // Paths: length, surrogates, control characters, before anything is created.
  ['a 2-million-character path', () => validateElectionPath(`/${'a'.repeat(2_000_000)}`), 'INVALID_PATH', 'is 2000001 bytes long in UTF-8; at most 256'],
  ['a path of 257 bytes', () => validateElectionPath(`/${'é'.repeat(128)}`), 'INVALID_PATH', 'is 257 bytes long'],
  ['an emoji in the path', () => validateElectionPath('/jobs/\u{1F600}'), 'INVALID_PATH', 'U+D83D (half of a character beyond the BMP'],
  ['a lone surrogate in the path', () => validateElectionPath('/jobs/\ud800x'), 'INVALID_PATH', 'U+D800'],
  ['a private-use character in the path', () => validateElectionPath('/jobs/\ue000'), 'INVALID_PATH', 'U+E000'],
  ['an escape character in the path', () => validateElectionPath('/jobs/\u001b[31m'), 'INVALID_PATH', 'U+001B'],
  ['electLeader with an emoji path', () => electLeader('/p/\u{1F680}', { connect: CONNECT }), 'INVALID_PATH', 'U+D83D'],
  ['a chroot with an emoji', () => new Session({ connect: '127.0.0.1:2181/\u{1F600}' }), 'INVALID_CONNECT_STRING', 'bad chroot'],
  // Options that are not objects.
  ["electLeader('/p', 'x')", () => electLeader('/p', 'x' as never), 'INVALID_ARGUMENT', 'Expected `options` to be an object, got "x"'],
  ['new Election with a number', () => new Election('/p', 5 as never), 'INVALID_ARGUMENT', 'Expected `options` to be an object, got 5 (number)'],
  ['runAsLeader with null', () => runAsLeader('/p', null as never, task), 'INVALID_ARGUMENT', 'got null'],
  ['listParticipants with an array', () => listParticipants('/p', [] as never), 'INVALID_ARGUMENT', 'got an array'],
  ['new Session with a string', () => new Session('127.0.0.1:2181' as never), 'INVALID_ARGUMENT', 'Expected `options` to be an object'],
  ['runAsLeader without a task', () => runAsLeader('/p', { connect: CONNECT }, 'x' as never), 'INVALID_ARGUMENT', 'Expected `task` to be a function'],
  // Unknown keys, named (a typo must not leave a setting at its default).
  ['electLeader: sessionTimout', () => electLeader('/p', { sessionTimout: 4000 } as never), 'INVALID_ARGUMENT', 'Unknown option `sessionTimout` in `options` (did you mean `sessionTimeout`?)'],
  ['new Election: acls', () => new Election('/p', { acls: [] } as never), 'INVALID_ARGUMENT', 'Unknown option `acls` in `options` (did you mean `acl`?)'],
  ['runAsLeader: timeout (electLeader only)', () => runAsLeader('/p', { timeout: 5 } as never, task), 'INVALID_ARGUMENT', 'Unknown option `timeout`'],
  ['listParticipants: conect', () => listParticipants('/p', { conect: CONNECT } as never), 'INVALID_ARGUMENT', 'Unknown option `conect` in `options` (did you mean `connect`?)'],
  ['getLeader: id', () => getLeader('/p', { id: 'x' } as never), 'INVALID_ARGUMENT', 'Unknown option `id`'],
  ['observeLeader: signall', () => observeLeader('/p', { signall: AbortSignal.abort() } as never), 'INVALID_ARGUMENT', 'Unknown option `signall`'],
  ['requestStepDown: force', () => requestStepDown('/p', { force: true } as never), 'INVALID_ARGUMENT', 'Unknown option `force`'],
  ['new Session: sessionTimeOut', () => new Session({ sessionTimeOut: 1 } as never), 'INVALID_ARGUMENT', 'Unknown option `sessionTimeOut`'],
  ['retry: maxDelay', () => new Election('/p', { retry: { maxDelay: 5 } } as never), 'INVALID_ARGUMENT', 'Unknown option `maxDelay` in `retry`'],
  ['rejoin: retries -1', () => new Election('/p', { rejoin: { retries: -1 } }), 'INVALID_ARGUMENT', 'Expected `rejoin.retries` to be a non-negative integer or Infinity'],
  ['auth: password', () => new Election('/p', { auth: { scheme: 'digest', password: 'x' } } as never), 'INVALID_ARGUMENT', 'Unknown option `password` in `auth`'],
  ['acl: permissions', () => new Election('/p', { acl: [{ permissions: 31, scheme: 'world', auth: 'anyone' }] } as never), 'INVALID_ARGUMENT', 'Unknown option `permissions` in `acl[0]`'],
  // Timers: above 2^31-1 ms a Node timer fires after 1 ms.
  ['connectTimeout 1e12', () => new Session({ connectTimeout: 1e12 }), 'INVALID_ARGUMENT', 'Expected `connectTimeout` to be at most 2147483647 ms'],
  ['sessionTimeout 2^31', () => new Election('/p', { sessionTimeout: 2 ** 31 }), 'INVALID_ARGUMENT', 'Expected `sessionTimeout` to be at most 2147483647 ms'],
  ['electLeader timeout 2^31', () => electLeader('/p', { timeout: 2 ** 31 }), 'INVALID_ARGUMENT', 'Expected `timeout` to be at most 2147483647 ms'],
  ['requestStepDown timeout 1e12', () => requestStepDown('/p', { timeout: 1e12 }), 'INVALID_ARGUMENT', 'Expected `timeout` to be at most 2147483647 ms'],
  ['retry maxTimeout 2^32', () => new Session({ retry: { maxTimeout: 2 ** 32 } }), 'INVALID_ARGUMENT', 'Expected `retry.maxTimeout` to be a number of ms from 0 to 2147483647'],
  // The lease is T - M.
  ['leaseMargin = sessionTimeout', () => new Election('/p', { sessionTimeout: 4000, leaseMargin: 4000 }), 'INVALID_ARGUMENT', 'Expected `leaseMargin` to be less than the session timeout (4000 ms)'],
  ['leaseMargin > the default T', () => new Election('/p', { leaseMargin: 20_000 }), 'INVALID_ARGUMENT', 'less than the session timeout (10000 ms)'],
  ['leaseMargin >= a shared session\'s T', () => new Election('/p', { connect: memory.session({ sessionTimeout: 3000 }), leaseMargin: 3000 }), 'INVALID_ARGUMENT', '(3000 ms)'],
  // Credentials and ACLs.
  ['auth without credentials', () => new Election('/p', { auth: { scheme: 'digest' } as never }), 'INVALID_ARGUMENT', 'Expected `auth.credentials` to be a non-empty string (the value is not shown)'],
  ['auth with an empty scheme', () => new Session({ auth: { scheme: '', credentials: 'u:p' } }), 'INVALID_ARGUMENT', 'Expected `auth.scheme` to be a scheme name'],
  ['digest credentials without user:', () => new Session({ auth: { scheme: 'digest', credentials: 'hunter2' } }), 'INVALID_ARGUMENT', 'to be user:password (the value is not shown)'],
  ['auth as an empty array', () => new Session({ auth: [] }), 'INVALID_ARGUMENT', 'at least one'],
  ['auth[1] not an object', () => new Session({ auth: [{ scheme: 'digest', credentials: 'u:p' }, 'x' as never] }), 'INVALID_ARGUMENT', 'Expected `auth[1]` to be an object'],
  ['acl empty', () => new Election('/p', { acl: [] }), 'INVALID_ARGUMENT', 'Expected `acl` to be a non-empty array'],
  ['acl perms 0', () => new Election('/p', { acl: [{ perms: 0, scheme: 'world', auth: 'anyone' }] }), 'INVALID_ARGUMENT', 'Expected `acl[0].perms` to be a combination of Perms (1 to 31), got 0 (number)'],
  ['acl perms 32', () => new Election('/p', { acl: [{ perms: 32, scheme: 'world', auth: 'anyone' }] }), 'INVALID_ARGUMENT', 'got 32 (number)'],
  ['acl without a scheme', () => new Election('/p', { acl: [{ perms: 1, scheme: '', auth: 'anyone' }] }), 'INVALID_ARGUMENT', 'Expected `acl[0].scheme`'],
  ['acl id with a newline', () => new Election('/p', { acl: [{ perms: 1, scheme: 'ip', auth: '10.0.0.1\n' }] }), 'INVALID_ARGUMENT', 'Expected `acl[0].auth`'],
  ['acl too large for a request', () => new Election('/p', { acl: Array.from({ length: 20 }, (_, i) => ({ perms: 1, scheme: 'ip', auth: `10.0.0.${i}/32` })) }), 'INVALID_ARGUMENT', 'at most 384 bytes'],
  // Credentials in a connection string: refused, and never echoed.
  ['user:password@ in connect', () => new Session({ connect: 'ops:hunter2@127.0.0.1:2181' }), 'INVALID_CONNECT_STRING', 'invalid connection string "***@127.0.0.1:2181": credentials do not belong in a connection string'],
  ['a password with a comma', () => listParticipants('/p', { connect: 'ops:hun,ter2@127.0.0.1:2181' }), 'INVALID_CONNECT_STRING', '"***@127.0.0.1:2181"'],
  // Other values of the right name but the wrong type.
  ['handleSignals "yes"', () => new Election('/p', { handleSignals: 'yes' as never }), 'INVALID_ARGUMENT', 'Expected `handleSignals` to be a boolean'],
  ['requeue 1', () => new Election('/p', { requeue: 1 as never }), 'INVALID_ARGUMENT', 'Expected `requeue` to be a boolean'],
  ['strictSessionTimeout "no"', () => new Session({ strictSessionTimeout: 'no' as never }), 'INVALID_ARGUMENT', 'Expected `strictSessionTimeout` to be a boolean'],
  ['requestStepDown id 5', () => requestStepDown('/p', { id: 5 as never }), 'INVALID_ARGUMENT', 'Expected `id` to be a string'],
];

async function outcome(attempt: Attempt): Promise<{ code: string; message: string } | 'no error'> {
  try {
    const value = attempt();
    // An async iterator validates on the call; a promise rejects.
    if (value instanceof Promise) await value;
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  return 'no error';
}

test.each(CASES)('%s: %s', async (_case, attempt, code, words) => {
  const result = await outcome(attempt);
  expect(result).toEqual({ code, message: expect.stringContaining(words) });
  // No message repeats a credential of the table.
  expect(JSON.stringify(result)).not.toMatch(/hunter2|hun,ter2/);
  // No message carries a 2 MB path: it is cut.
  expect(JSON.stringify(result).length).toBeLessThan(2000);
});

test('a valid call still passes every check: the in-memory ZooKeeper elects it', async () => {
  const session = memory.session({ sessionTimeout: 4000 });
  try {
    const leadership = await electLeader('/bounds/ok', { connect: session, leaseMargin: 3999, timeout: 2 ** 31 - 1, retry: { maxRetryTime: Infinity } });
    expect(leadership.isLeader).toBe(true);
    await leadership.resign();
  } finally {
    await session.close();
  }
});
