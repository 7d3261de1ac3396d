import { errorForReturnCode, isRetryable, NoAuthError, NoNodeError, SessionExpiredError, ZkElectionError, ZooKeeperError } from '../../lib/errors.js';

describe('return code table', () => {
  test.each([
    [-101, 'NO_NODE', NoNodeError],
    [-102, 'NO_AUTH', NoAuthError],
    [-112, 'SESSION_EXPIRED', SessionExpiredError],
  ] as const)('rc %i maps to %s', (rc, code, ErrorClass) => {
    const error = errorForReturnCode(rc, { operation: 'create', path: '/x' });
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toBeInstanceOf(ZkElectionError);
    expect(error.code).toBe(code);
    expect(error.rc).toBe(rc);
    expect(error.message).toContain('create /x');
  });

  test('an unknown rc is still a typed ZooKeeperError', () => {
    const error = errorForReturnCode(-999);
    expect(error).toBeInstanceOf(ZooKeeperError);
    expect(error.code).toBe('ZOOKEEPER_ERROR');
  });

  test('only connection loss and operation timeout are retryable', () => {
    expect(isRetryable(errorForReturnCode(-4))).toBe(true);
    expect(isRetryable(errorForReturnCode(-7))).toBe(true);
    expect(isRetryable(errorForReturnCode(-101))).toBe(false);
    expect(isRetryable(errorForReturnCode(-112))).toBe(false);
    expect(isRetryable(new Error('plain'))).toBe(false);
  });
});
