import { InvalidConnectStringError, InvalidPathError, DataTooLargeError, InvalidArgumentError } from '../../lib/errors.js';
import { validateCandidateOptions } from '../../lib/election/election-options.js';
import { MAX_PAYLOAD_BYTES, encodePayload } from '../../lib/znode/payload.js';
import { parseConnectString, validateElectionPath } from '../../lib/util/validate.js';

describe('election paths', () => {
  test.each(['/a', '/services/payments/leader', '/a-b_c.d/e'])('accepts %s', (path) => {
    expect(validateElectionPath(path)).toBe(path);
  });

  test.each([
    ['relative', 'a/b'],
    ['root', '/'],
    ['trailing slash', '/a/'],
    ['empty component', '/a//b'],
    ['dot', '/a/./b'],
    ['dot-dot', '/a/../b'],
    ['reserved', '/zookeeper/x'],
    ['NUL', '/a\u0000b'],
  ])('rejects a %s path with code INVALID_PATH', (_why, path) => {
    expect(() => validateElectionPath(path)).toThrow(InvalidPathError);
    try {
      validateElectionPath(path);
    } catch (error) {
      expect((error as InvalidPathError).code).toBe('INVALID_PATH');
    }
  });
});

describe('connection strings', () => {
  test('parses hosts, default port and chroot', () => {
    expect(parseConnectString('a:1,b,c:3/app/x')).toEqual({
      hosts: [{ host: 'a', port: 1 }, { host: 'b', port: 2181 }, { host: 'c', port: 3 }],
      chroot: '/app/x',
    });
  });

  test.each(['', 'a:99999', 'a:1,,b:2', 'a:1/x/', ':1'])('rejects %j with INVALID_CONNECT_STRING', (connect) => {
    expect(() => parseConnectString(connect)).toThrow(InvalidConnectStringError);
  });
});

describe('candidate options', () => {
  test('data over the limit is refused before anything is sent', () => {
    const big = 'x'.repeat(MAX_PAYLOAD_BYTES);
    expect(() => encodePayload('id', big)).toThrow(DataTooLargeError);
    try {
      encodePayload('id', big);
    } catch (error) {
      expect((error as DataTooLargeError).code).toBe('DATA_TOO_LARGE');
      expect((error as DataTooLargeError).limit).toBe(MAX_PAYLOAD_BYTES);
    }
  });

  test('data must be JSON-serialisable', () => {
    expect(() => encodePayload('id', { n: 1n })).toThrow(InvalidArgumentError);
  });

  test('the payload carries id, host, pid, start time and data', () => {
    const payload = JSON.parse(encodePayload('me', { shard: 3 }).toString('utf8')) as Record<string, unknown>;
    expect(payload).toMatchObject({ id: 'me', pid: process.pid, data: { shard: 3 } });
    expect(typeof payload.host).toBe('string');
    expect(Number.isNaN(Date.parse(String(payload.startedAt)))).toBe(false);
  });

  test('bad options are typed errors with exact messages', () => {
    expect(() => validateCandidateOptions('/a', { sessionTimeout: -5 })).toThrow('Expected `sessionTimeout` to be a positive integer, got `-5` (number)');
    expect(() => validateCandidateOptions('/a', { id: '' })).toThrow(InvalidArgumentError);
    expect(() => validateCandidateOptions('/a', { suspendedPolicy: 'maybe' as never })).toThrow("Expected `suspendedPolicy` to be 'lease' or 'strict'");
    expect(() => validateCandidateOptions('nope', {})).toThrow(InvalidPathError);
  });
});
