/**
 * The public surface is a promise: what the package's entry points export, at runtime and in
 * their declarations, and what the members of its main classes are, is written out here, so that
 * nothing becomes API by accident (a helper exported with `export *`, an internal member whose
 * `@internal` tag is not stripped, a password on a getter) and nothing leaves it unnoticed.
 *
 * It reads what a user installs: the bundles (dist/bundle) and the declarations (dist/lib), which
 * `npm test` builds before jest runs; after a change, `npm run build` before running this alone.
 * The declarations are also compiled as a consumer would: strict, without skipLibCheck.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Entry {
  bundle: string;
  declarations: string;
  /** Names with a runtime value (classes, functions, constants). */
  values: string[];
  /** Names that exist only as types. */
  types: string[];
}

const ENTRIES: Record<'zk-election' | 'zk-election/testing', Entry> = {
  'zk-election': {
    bundle: 'dist/bundle/index.js',
    declarations: 'dist/lib/index.d.ts',
    values: [
      'electLeader', 'Election', 'Leadership', 'runAsLeader',
      'getLeader', 'listParticipants', 'participantToJson', 'observeLeader', 'requestStepDown',
      'Session', 'MAX_PAYLOAD_BYTES', 'Perms',
      'ZkElectionError', 'isZkElectionError',
      'ZooKeeperError', 'NoNodeError', 'NodeExistsError', 'NoAuthError', 'ConnectionLossError', 'OperationTimeoutError', 'SessionExpiredError',
      'InvalidPathError', 'InvalidArgumentError', 'InvalidConnectStringError', 'NativeClientError', 'DataTooLargeError', 'SessionTimeoutError', 'UnreachableError',
      'AbortedError', 'TimeoutError', 'ClosedError', 'LeadershipLostError', 'CandidateGoneError',
      'NoLeaderError', 'NoParticipantError', 'NotLeaderError', 'ElectionStateError', 'DrainFailedError',
    ],
    types: [
      'ElectLeaderOptions', 'ElectionOptions', 'ElectionEvents', 'ElectionState', 'WaitingInfo', 'SuspendedPolicy', 'RunAsLeaderOptions', 'CandidateOptions',
      'Participant', 'ObserveLeaderOptions', 'StepDownOptions', 'StepDownResult',
      'SessionOptions', 'SessionState', 'SessionEvents', 'AuthInfo', 'RetryPolicy',
      'CandidatePayload', 'Acl', 'Stat', 'Transport', 'ZkHandle', 'HandleOptions', 'HandleEvents', 'Watcher', 'WatchEvent', 'MultiOp', 'MultiResult', 'Logger', 'Clock',
      'ErrorCode', 'ZooKeeperErrorCode', 'LibraryErrorCode', 'LostReason',
    ],
  },
  'zk-election/testing': {
    bundle: 'dist/bundle/testing/index.js',
    declarations: 'dist/lib/testing/index.d.ts',
    values: [
      'DEFAULT_SEARCH_DIRS', 'findJava', 'findZooKeeperClasspath', 'findZooKeeperRuntime',
      'startZooKeeper', 'fourLetter', 'parseMode', 'logTail', 'expireSession',
      'TestingError', 'ZooKeeperNotFoundError', 'ServerTimeoutError', 'ServerExitedError',
      'MemoryZooKeeper', 'ManualClock',
    ],
    types: [
      'ZooKeeperRuntime', 'LocalEnsemble', 'StartZooKeeperOptions', 'TestingErrorCode', 'ServerMode', 'LocalServer',
      'ExpireSessionOptions', 'MemoryZooKeeperOptions', 'SessionTarget',
    ],
  },
};

/**
 * The declared members of exported classes (statics prefixed `static `). What the library itself
 * calls is tagged `@internal` and stripped from the declarations; the session password is no
 * member at all. Inherited members (EventEmitter's) are not listed.
 */
const MEMBERS: Record<string, { entry: keyof typeof ENTRIES; members: string[] }> = {
  Session: {
    entry: 'zk-election',
    members: [
      'static connect', 'constructor', 'connectString', 'requestedTimeout', 'connectTimeout',
      'state', 'isConnected', 'sessionId', 'negotiatedTimeout', 'close', '[Symbol.asyncDispose]',
    ],
  },
  Leadership: {
    entry: 'zk-election',
    members: [
      'id', 'node', 'sequence', 'token', 'term', 'ended', 'signal', 'isLeader', 'isSuspended', 'expiresAt',
      'isValid', 'verify', 'resign', '[Symbol.asyncDispose]',
    ],
  },
  Election: {
    entry: 'zk-election',
    members: [
      'path', 'id', 'constructor', 'state', 'isLeader', 'leadership', 'session', 'node',
      'start', 'waitForLeadership', 'leader', 'participants', 'close', '[Symbol.asyncDispose]',
    ],
  },
  MemoryZooKeeper: {
    entry: 'zk-election/testing',
    members: [
      'static CONNECT', 'transport', 'constructor', 'session', 'connect',
      'step', 'pending', 'pendingLabels', 'delivered', 'settle',
      'disconnect', 'reconnect', 'expire', 'loseNextReply', 'deleteNode',
      'children', 'exists', 'acl', 'owner', 'paths', 'watchCount',
    ],
  },
  ManualClock: {
    entry: 'zk-election/testing',
    members: ['constructor', 'now', 'setTimeout', 'clearTimeout', 'pendingTimers', 'jump', 'advance'],
  },
};

const sorted = (names: Iterable<string>): string[] => [...names].sort();

beforeAll(() => {
  for (const entry of Object.values(ENTRIES)) {
    for (const file of [entry.bundle, entry.declarations]) {
      if (!existsSync(`${root}${file}`)) throw new Error(`${file} is missing: run npm run build first`);
    }
  }
});

describe('runtime exports', () => {
  test.each(Object.keys(ENTRIES) as Array<keyof typeof ENTRIES>)('%s exports exactly its values', async (name) => {
    const entry = ENTRIES[name];
    // A process of its own: the bundle as a user's `import` loads it, outside jest's module registry.
    const script = `const m = await import(${JSON.stringify(`${root}${entry.bundle}`)}); process.stdout.write(JSON.stringify(Object.keys(m)));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    expect(sorted(JSON.parse(stdout) as string[])).toEqual(sorted(entry.values));
  });
});

describe('declarations', () => {
  let program: ts.Program;
  let checker: ts.TypeChecker;

  beforeAll(() => {
    program = ts.createProgram(
      Object.values(ENTRIES).map((entry) => `${root}${entry.declarations}`),
      {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        lib: ['lib.es2023.d.ts', 'lib.esnext.disposable.d.ts'],
        types: ['node'],
      },
    );
    checker = program.getTypeChecker();
  });

  /** The entry's exports, each resolved through its re-exports to what it names. */
  function exportsOf(name: keyof typeof ENTRIES): Map<string, ts.Symbol> {
    const file = program.getSourceFile(`${root}${ENTRIES[name].declarations}`)!;
    const module = checker.getSymbolAtLocation(file)!;
    return new Map(
      checker.getExportsOfModule(module).map((symbol) => [symbol.name, symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol]),
    );
  }

  test('compile for a consumer: strict, without skipLibCheck', () => {
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${ts.flattenDiagnosticMessageText(d.messageText, '\n')}${d.file ? ` (${d.file.fileName.slice(root.length)})` : ''}`);
    expect(diagnostics).toEqual([]);
  });

  test.each(Object.keys(ENTRIES) as Array<keyof typeof ENTRIES>)('%s declares exactly its values and types', (name) => {
    const entry = ENTRIES[name];
    const exported = exportsOf(name);
    expect(sorted(exported.keys())).toEqual(sorted([...entry.values, ...entry.types]));
    const values = [...exported].filter(([, symbol]) => symbol.flags & ts.SymbolFlags.Value).map(([key]) => key);
    expect(sorted(values)).toEqual(sorted(entry.values));
  });

  test.each(Object.keys(MEMBERS))('%s declares exactly its public members', (className) => {
    const { entry, members } = MEMBERS[className]!;
    const declaration = exportsOf(entry).get(className)?.valueDeclaration;
    if (!declaration || !ts.isClassDeclaration(declaration)) throw new Error(`${className} is not a class exported by ${entry}`);
    expect(sorted(new Set(declaration.members.flatMap((member) => publicName(member))))).toEqual(sorted(members));
  });
});

/** A class member as the allowlists write it; none for `#private` and TypeScript-private members. */
function publicName(member: ts.ClassElement): string[] {
  if (ts.isConstructorDeclaration(member)) return ['constructor'];
  if (!member.name || ts.isPrivateIdentifier(member.name)) return [];
  const modifiers = ts.canHaveModifiers(member) ? (ts.getModifiers(member) ?? []) : [];
  if (modifiers.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return [];
  const isStatic = modifiers.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
  return [`${isStatic ? 'static ' : ''}${member.name.getText()}`];
}
