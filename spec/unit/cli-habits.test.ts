/**
 * The CLI's habits, without a server: every parse failure is our own one line and exit 2; global
 * options go before or after the command; the completion scripts offer the commands and flags the
 * --help texts document (run in bash, and in zsh where it is installed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Writable } from 'node:stream';
import { runCli } from '../support/cli.js';
import { flagsOf } from '../../lib/cli/completion-command.js';
import { exitForSignal, type CliIo } from '../../lib/cli/io.js';
import { main } from '../../lib/cli/main.js';

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  // Streams, not plain objects: `run` logs through winston, which writes to a stream.
  const sink = (into: string[]): Writable => new Writable({ write: (chunk: Buffer, _encoding, done) => (into.push(chunk.toString()), done()) });
  const io: CliIo = { stdout: sink(out), stderr: sink(err), env: {} };
  const code = await main(argv, io);
  // winston writes on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('every parse failure is one line of ours, exit 2', () => {
  test.each([
    [['participants', '/p', '--bogus'], 'zk-election: unknown option --bogus; see zk-election participants --help\n'],
    [['participants', '/p', '--timeout', '-5'], 'zk-election: --timeout expects a positive whole number of milliseconds, got "-5"; see zk-election participants --help\n'],
    [['participants', '/p', '--timeout=abc'], 'zk-election: --timeout expects a positive whole number of milliseconds, got "abc"; see zk-election participants --help\n'],
    [['participants', '/p', '--connect'], 'zk-election: --connect needs a value; see zk-election participants --help\n'],
    [['participants', '/p', '--connect', '--json'], 'zk-election: --connect needs a value; see zk-election participants --help\n'],
    [['leader', '/p', '--json=yes'], 'zk-election: --json takes no value; see zk-election leader --help\n'],
    [['leader', '/p', '-x'], 'zk-election: unknown option -x; see zk-election leader --help\n'],
    [['step-down', '/p', '--force=1'], 'zk-election: --force takes no value; see zk-election step-down --help\n'],
    [['run', '/p', '--once', '--bogus', '--', 'true'], 'zk-election: unknown option --bogus; see zk-election run --help\n'],
    [['server', '--port'], 'zk-election: --port needs a value; see zk-election server --help\n'],
    [['--bogus', 'participants', '/p'], 'zk-election: unknown option --bogus before the command (global options: --connect, --auth, --auth-file, --timeout, --tls-ca, --tls-cert, --tls-key, --verbose); see zk-election --help\n'],
    [['--connect'], 'zk-election: --connect needs a value; see zk-election --help\n'],
    [['completion', 'fish'], 'zk-election: expects bash or zsh; usage: zk-election completion bash|zsh\n'],
  ])('%j', async (argv, stderr) => {
    expect(await cli(...argv)).toEqual({ code: 2, stdout: '', stderr });
  });

  test("after run's `--` every argument is the command's, flags included", async () => {
    // Parsed as ours, `--bogus` would be bad usage (2); as the command's, `run` goes on to connect: 3.
    const result = await cli('run', '/p', '--connect', '127.0.0.1:1', '--timeout', '300', '--', 'grep', '--bogus', '-v', 'x');
    expect(result.code).toBe(3);
  });
});

describe('global options before or after the command', () => {
  test.each([
    [['--connect', '127.0.0.1:1', '--timeout', '300', 'participants', '/p']],
    [['--connect=127.0.0.1:1', 'participants', '/p', '--timeout=300']],
    [['-v', '--timeout', '300', 'leader', '/p', '--connect', '127.0.0.1:1']],
    [['participants', '/p', '--connect', '127.0.0.1:1', '--timeout', '300']],
    [['--timeout', '300', '--connect', '127.0.0.1:1', 'run', '/p', '--', 'true']],
  ])('%j', async (argv) => {
    const { code, stderr } = await cli(...argv);
    expect(code).toBe(3);
    const lines = stderr.trim().split('\n');
    // The probe of the servers says why: nothing listens on port 1.
    expect(lines.find((line) => line.startsWith('zk-election:'))).toBe('zk-election: cannot reach ZooKeeper at 127.0.0.1:1 within 300 ms: 127.0.0.1:1: connection refused (nothing listens there) [ECONNREFUSED] [UNREACHABLE]');
    // -v before the command is honoured too: the stack follows the line.
    if (argv.includes('-v')) expect(stderr).toContain('UnreachableError: cannot reach ZooKeeper');
  });

  test('--help and --version still work after global options', async () => {
    expect((await cli('--connect', 'x:1', '--help')).stdout).toContain('Global options (before or after the command)');
    expect((await cli('--connect', 'x:1', 'leader', '--help')).stdout).toContain('Usage: zk-election leader');
    // The version is read from package.json beside dist/: the built CLI.
    expect((await runCli(['-v', '--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

test('a command ended by a signal exits 128 + its number', () => {
  expect([exitForSignal('SIGINT'), exitForSignal('SIGTERM')]).toEqual([130, 143]);
});

describe('completion', () => {
  test('flags are read from a help text; a command that connects gets every global option', () => {
    expect(flagsOf('Options:\n  --id ID    x\n  --once     y\n  -v, --verbose  z\n  --connect S  w\n')).toEqual({
      flags: ['--auth', '--auth-file', '--connect', '--help', '--id', '--once', '--timeout', '--tls-ca', '--tls-cert', '--tls-key', '--verbose'],
      takesValue: ['--auth', '--auth-file', '--connect', '--id', '--timeout', '--tls-ca', '--tls-cert', '--tls-key'],
    });
    // A line that lists several flags gives each of them.
    expect(flagsOf('Options:\n  --a-b FILE, --c-d FILE   x\n').flags).toEqual(['--a-b', '--c-d', '--help']);
  });

  /** What bash's completion offers for the words typed so far (the last one is being typed). */
  function bashOffers(script: string, ...typed: string[]): string[] {
    const words = ['zk-election', ...typed].map((w) => `'${w}'`).join(' ');
    const program = `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${typed.length}; _zk_election; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
  }

  test('bash: commands, their flags, global options before the command, choices of a flag', async () => {
    const { code, stdout: script } = await cli('completion', 'bash');
    expect(code).toBe(0);
    expect(bashOffers(script, '')).toEqual(expect.arrayContaining(['participants', 'leader', 'run', 'step-down', 'demo', 'server', 'completion', '--connect']));
    expect(bashOffers(script, 'pa')).toEqual(['participants']);
    expect(bashOffers(script, 'participants', '/p', '--')).toEqual(['--auth', '--auth-file', '--connect', '--help', '--json', '--timeout', '--tls-ca', '--tls-cert', '--tls-key', '--verbose', '--watch']);
    expect(bashOffers(script, '--connect', 'zk1:2181', 'run', '/p', '--s')).toEqual(['--session-timeout', '--suspended-policy']);
    // As bash splits them at COMP_WORDBREAKS: host:port and --flag=value are several words.
    expect(bashOffers(script, '--connect', 'zk1', ':', '2181', 'leader', '--w')).toEqual(['--watch']);
    expect(bashOffers(script, '--connect', '=', 'zk1', ':', '2181', '--auth', 'digest', ':', 'u', ':', 'p', 'leader', '--w')).toEqual(['--watch']);
    expect(bashOffers(script, 'run', '/p', '--suspended-policy', '')).toEqual(['lease', 'strict']);
    expect(bashOffers(script, 'run', '/p', '--log-format', 'j')).toEqual(['json']);
    expect(bashOffers(script, 'step-down', '/p', '--id', '')).toEqual([]);
    expect(bashOffers(script, 'completion', '')).toEqual(['bash', 'zsh', '--help']);
    // After run's `--`: the wrapped command's words, not ours.
    expect(bashOffers(script, 'run', '/p', '--', '--')).not.toContain('--once');
  });

  test('zsh: the same offers through compadd (in zsh when installed; the script always names every command and flag)', async () => {
    const { code, stdout: script } = await cli('completion', 'zsh');
    expect(code).toBe(0);
    expect(script.startsWith('#compdef zk-election\n')).toBe(true);
    for (const word of ['participants', 'leader', 'run', 'step-down', 'demo', 'server', 'completion', '--watch', '--suspended-policy', '--metrics', '--force']) {
      expect(script).toContain(word);
    }
    if (!existsSync('/usr/bin/zsh') && !existsSync('/bin/zsh')) return;
    const offers = (...typed: string[]): string[] => {
      const words = ['zk-election', ...typed].map((w) => `'${w}'`).join(' ');
      // compadd and compdef stand in for the completion system: they print what would be offered.
      const program = `compdef() { :; }; compadd() { [[ $1 == -- ]] && shift; printf '%s\\n' "$@"; }\n${script}\nwords=(${words}); CURRENT=${typed.length + 1}; _zk_election`;
      return execFileSync('zsh', ['-f', '-c', program], { encoding: 'utf8' }).split('\n').filter(Boolean);
    };
    expect(offers('')).toEqual(expect.arrayContaining(['participants', 'run', '--connect', '--version']));
    expect(offers('--connect', 'zk1:2181', 'leader', '/p', '')).toEqual(['--auth', '--auth-file', '--connect', '--help', '--json', '--timeout', '--tls-ca', '--tls-cert', '--tls-key', '--verbose', '--watch']);
    expect(offers('run', '/p', '--suspended-policy', '')).toEqual(['lease', 'strict']);
  });
});
