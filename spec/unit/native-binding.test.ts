/**
 * The native client as the install builds it, without a server: the addon carries every patch's
 * marker and the requests the patches add (create with an ACL, multi), refusing bad arguments
 * with a TypeError before anything is sent; a missing, broken or unpatched addon is a
 * NATIVE_CLIENT error naming the fix, which the CLI reports with exit code 2. On a binding
 * without lib/native's patches the first test fails (the last one shows it on the `zookeeper`
 * package's own build).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { isZkElectionError, NativeClientError } from 'zk-election';
import { exitCodeFor } from '../../lib/cli/io.js';
import { addonFile, loadAddon, PATCH_MARKERS, type NativeHandle } from '../../lib/zk/native-binding.js';

const ZINVALIDSTATE = -9;

/** A handle whose init failed (an empty connect string): no session, and the C client's log level set to silent. */
function idleHandle(): NativeHandle {
  const handle = new (loadAddon(addonFile()))() as NativeHandle;
  expect(handle.init({ connect: '', timeout: 4000, debug_level: 0 })).toMatchObject({ code: 'EINVAL' });
  return handle;
}

test('the built addon is the patched one: every marker, a_multi, and a_create with an ACL', () => {
  const Addon = loadAddon(addonFile());
  for (const [name, value] of Object.entries(PATCH_MARKERS)) expect(Addon[name]).toBe(value);
  // A handle without a session: the requests exist and refuse synchronously (no callback).
  const handle = idleHandle();
  const never = (): void => {
    throw new Error('no callback may come for a refused request');
  };
  expect(typeof handle.a_multi).toBe('function');
  expect(handle.a_multi([{ type: 'check', path: '/a', version: -1 }], never)).toBe(ZINVALIDSTATE);
  expect(handle.a_create('/a', Buffer.alloc(0), 0, [{ scheme: 'world', auth: 'anyone', perm: 1 }], never)).toBe(ZINVALIDSTATE);
});

test('bad arguments to the new requests are a TypeError, not an abort', () => {
  const handle = idleHandle();
  const cb = (): void => undefined;
  const bad: Array<() => unknown> = [
    () => handle.a_multi([], cb),
    () => handle.a_multi([{ type: 'nope', path: '/a', version: -1 } as never], cb),
    () => handle.a_multi([42 as never], cb),
    () => handle.a_multi([{ type: 'create', path: '/a', data: Buffer.alloc(0), flags: 0, acl: 'open' as never }], cb),
    () => handle.a_create('/a', Buffer.alloc(0), 0, [{ scheme: 'world' } as never], cb),
    () => handle.a_create('/a', Buffer.alloc(0), 0, {} as never, cb),
  ];
  // The addon's TypeError comes from Node's own realm, not the test's: compare by name.
  for (const call of bad) expect(call).toThrow(expect.objectContaining({ name: 'TypeError' }) as Error);
});

test('the build script checks the same markers the library does', () => {
  const script = fs.readFileSync(new URL('../../lib/native/patches.mjs', import.meta.url), 'utf8');
  const listed = Object.fromEntries([...script.matchAll(/property: '(\w+)', value: '([^']+)'/g)].map((m) => [m[1], m[2]]));
  expect(listed).toEqual(PATCH_MARKERS);
});

describe('a native client that cannot be used is NATIVE_CLIENT, exit code 2, with the fix in the message', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-native-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases: Array<[string, () => string, RegExp]> = [
    ['missing', () => path.join(dir, 'missing.node'), /is not built/],
    ['not an addon', () => (fs.writeFileSync(path.join(dir, 'broken.node'), 'not an ELF file'), path.join(dir, 'broken.node')), /does not load/],
    // The `zookeeper` package's own build (a devDependency here), as a project may have it beside zk-election.
    ['the unpatched binding', () => path.join(path.dirname(createRequire(import.meta.url).resolve('zookeeper/package.json')), 'build', 'Release', 'zookeeper.node'), /is not zk-election's patched build .*ZK_ELECTION_PATCH = undefined/],
  ];
  test.each(cases)('%s', (_name, file, why) => {
    const error = ((): unknown => {
      try {
        loadAddon(file());
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(NativeClientError);
    expect(isZkElectionError(error, 'NATIVE_CLIENT')).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(why);
    expect(message).toContain('npm rebuild zk-election');
    expect(message).toContain('pnpm approve-builds');
    expect(exitCodeFor(error)).toBe(2);
  });
});
