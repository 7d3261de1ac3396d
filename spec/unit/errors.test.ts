import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { errorForReturnCode, isRetryable, isZkElectionError, NoAuthError, NoNodeError, SessionExpiredError, ZkElectionError, ZooKeeperError } from '../../lib/errors.js';

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

/** The string members of a union type alias declared in lib/errors.ts, read from the source. */
function unionMembers(name: string): string[] {
  const file = fileURLToPath(new URL('../../lib/errors.ts', import.meta.url));
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const alias = source.statements.find((s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === name);
  if (!alias || !ts.isUnionTypeNode(alias.type)) throw new Error(`no union type ${name} in lib/errors.ts`);
  return alias.type.types.map((member) => {
    if (!ts.isLiteralTypeNode(member) || !ts.isStringLiteral(member.literal)) throw new Error(`${name} has a member that is not a string`);
    return member.literal.text;
  });
}

/**
 * ZooKeeper's own names for its return codes: the C client's (`ZNONODE = -101` in the zookeeper.h
 * of the binding we build) and the Java client's (KeeperException.Code) that C lacks.
 */
function zooKeeperNames(): Set<string> {
  const header = readFileSync(fileURLToPath(new URL('../../node_modules/zookeeper/deps/zookeeper-client-c/include/zookeeper.h', import.meta.url)), 'utf8');
  const names = [...header.matchAll(/^\s*Z([A-Z]+) = -?\d+/gm)].map((m) => m[1]!);
  expect(names).toEqual(expect.arrayContaining(['NONODE', 'SESSIONEXPIRED', 'INVALIDSTATE', 'CLOSING', 'THROTTLEDOP']));
  return new Set([...names, 'OK', 'UNKNOWNSESSION', 'REQUESTTIMEOUT', 'QUOTAEXCEEDED']);
}

/** 'NO_NODE' -> 'NONODE': how ZooKeeper spells it. */
const spelledAsZooKeeper = (code: string): string => code.replaceAll('_', '');

describe('error codes', () => {
  const zooKeeperCodes = unionMembers('ZooKeeperErrorCode');
  const libraryCodes = unionMembers('LibraryErrorCode');

  test('no code of our own is one of ZooKeeper\'s names', () => {
    const names = zooKeeperNames();
    expect(libraryCodes.filter((code) => names.has(spelledAsZooKeeper(code)))).toEqual([]);
  });

  test('every ZooKeeper code is ZooKeeper\'s name, but for the catch-all ZOOKEEPER_ERROR', () => {
    const names = zooKeeperNames();
    expect(zooKeeperCodes.filter((code) => code !== 'ZOOKEEPER_ERROR' && !names.has(spelledAsZooKeeper(code)))).toEqual([]);
  });

  test('the return-code table produces every ZooKeeper code, and only those', () => {
    const produced = new Set<string>();
    for (let rc = -130; rc < 0; rc += 1) produced.add(errorForReturnCode(rc).code);
    expect([...produced].sort()).toEqual([...zooKeeperCodes].sort());
  });

  test('isZkElectionError narrows by code, and only for our errors', () => {
    const error: unknown = errorForReturnCode(-101);
    expect(isZkElectionError(error)).toBe(true);
    expect(isZkElectionError(error, 'NO_NODE')).toBe(true);
    expect(isZkElectionError(error, 'NODE_EXISTS', 'NO_NODE')).toBe(true);
    expect(isZkElectionError(error, 'NODE_EXISTS')).toBe(false);
    expect(isZkElectionError(Object.assign(new Error('look-alike'), { code: 'NO_NODE' }), 'NO_NODE')).toBe(false);
  });
});
