#!/usr/bin/env node
/** The `zk-election` command: a thin main(argv, io) -> exit code, one file per command. */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { completionCommand, COMPLETION_HELP } from './completion-command.js';
import { demoCommand, DEMO_HELP } from './demo-command.js';
import { exitCodeFor, reportError, EXIT, UsageError, type CliIo } from './io.js';
import { leaderCommand, participantsCommand, LEADER_HELP, PARTICIPANTS_HELP } from './participants-command.js';
import { runCommand, RUN_HELP } from './run-command.js';
import { serverCommand, SERVER_HELP } from './server-command.js';
import { stepDownCommand, STEP_DOWN_HELP } from './step-down-command.js';
import { SECRET_ENV } from './credentials.js';
import { hideArguments, scrubEnvironment } from '../process/scrub-env.js';

const HELP = `Usage: zk-election <command> [options]

Leader election on Apache ZooKeeper, for operators.

Commands:
  participants <path>         show the candidates and the current leader (--json, --watch)
  leader <path>               print the current leader's id (exit 1 when there is none; --watch)
  run <path> -- <command>     run a command only while leader
  step-down <path>            ask the leader to step down cleanly (--force: delete its node)
  demo                        start a local 3-node ensemble and a few participants, and narrate a failover
  server                      run a throwaway local ZooKeeper on 127.0.0.1:2181 until Ctrl-C
  completion bash|zsh         print a shell completion script

Global options (before or after the command):
  --connect S     ZooKeeper connection string host:port[,host:port...][/chroot]
                  (default: $ZK_CONNECT, then 127.0.0.1:2181)
  --auth SCHEME:CREDENTIALS
                  credentials for ACL-protected elections, e.g. digest:user:password
                  (default: $ZK_AUTH, which other users cannot see in ps; never echoed)
  --auth-file PATH
                  read SCHEME:CREDENTIALS from a file readable by its owner only
                  (default: $ZK_AUTH_FILE); both variables are wiped from our environment
  --timeout MS    how long to try to reach ZooKeeper (default 10000)
  --tls-ca FILE   connect over TLS, trusting the CA certificate(s) in this PEM file
                  (default: $ZK_TLS_CA); --tls-cert FILE and --tls-key FILE (default:
                  $ZK_TLS_CERT, $ZK_TLS_KEY; passphrase: $ZK_TLS_PASSPHRASE) for client certificates
  -v, --verbose   stack traces on errors
  -h, --help      help for a command: zk-election <command> --help
  --version       print the version

Exit codes: 0 ok, 1 no leader (or failure), 2 bad usage, invalid input or missing permission
(NO_AUTH), 3 ZooKeeper unreachable, 4 step-down: the participant did not step down in time.
A command ended by Ctrl-C or SIGTERM cleans up, then exits 128 + the signal: 130 or 143.

Examples:
  zk-election demo
  zk-election participants /services/payments/leader --connect 127.0.0.1:2181
  zk-election run /services/payments/leader --id sched-1 -- node scheduler.js
`;

const COMMANDS: Record<string, { run: (argv: string[], io: CliIo) => Promise<number>; help: string }> = {
  participants: { run: participantsCommand, help: PARTICIPANTS_HELP },
  leader: { run: leaderCommand, help: LEADER_HELP },
  run: { run: runCommand, help: RUN_HELP },
  'step-down': { run: stepDownCommand, help: STEP_DOWN_HELP },
  demo: { run: demoCommand, help: DEMO_HELP },
  server: { run: serverCommand, help: SERVER_HELP },
  completion: {
    run: (argv, io) => completionCommand(argv, io, Object.fromEntries(Object.entries(COMMANDS).map(([name, command]) => [name, command.help]))),
    help: COMPLETION_HELP,
  },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  let split: { name: string | undefined; rest: string[] };
  try {
    split = splitGlobalOptions(argv);
  } catch (error) {
    reportError(io, error, false);
    return exitCodeFor(error);
  }
  const { name, rest } = split;
  if (name === '--version' || name === '-V') return void io.stdout.write(`${version()}\n`), EXIT.OK;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    io.stdout.write(topic?.help ?? HELP);
    return EXIT.OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`zk-election: unknown command "${name}"; see zk-election --help\n`);
    return EXIT.USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    // Only our own flags: after `--` come the wrapped command's (`run ... -- grep -v x`).
    const own = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
    reportError(io, withHelpHint(error, name), own.includes('--verbose') || own.includes('-v'));
    return exitCodeFor(error);
  }
}

/** The global options that take a value; `-v`/`--verbose` is the one that does not. */
const GLOBAL_VALUES = new Set(['--connect', '--auth', '--auth-file', '--timeout', '--tls-ca', '--tls-cert', '--tls-key']);

/**
 * Global options may come before the command (`zk-election --connect X participants /p`): they
 * are moved behind it, where every command parses them (before any `--` of `run`).
 */
function splitGlobalOptions(argv: string[]): { name: string | undefined; rest: string[] } {
  const globals: string[] = [];
  let i = 0;
  for (; i < argv.length; i += 1) {
    const arg = argv[i]!;
    const flag = arg.split('=')[0]!;
    if (['--help', '-h', '--version', '-V'].includes(arg) || !arg.startsWith('-')) break;
    if (flag === '--verbose' || flag === '-v') {
      globals.push(arg);
    } else if (GLOBAL_VALUES.has(flag)) {
      globals.push(arg);
      if (arg === flag) {
        if (argv[i + 1] === undefined) throw new UsageError(`${flag} needs a value; see zk-election --help`);
        globals.push(argv[(i += 1)]!);
      }
    } else {
      throw new UsageError(`unknown option ${flag} before the command (global options: --connect, --auth, --auth-file, --timeout, --tls-ca, --tls-cert, --tls-key, --verbose); see zk-election --help`);
    }
  }
  const name = argv[i];
  return { name, rest: [...globals, ...argv.slice(i + 1)] };
}

/** A usage error without its own pointer to help gets one, to the command's help. */
function withHelpHint(error: unknown, name: string): unknown {
  if (!(error instanceof UsageError) || /usage:|--help/.test(error.message)) return error;
  return new UsageError(`${error.message}; see zk-election ${name} --help`);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // Before anything else: the credentials leave our environment (so no child inherits them, the
  // guard and `run`'s command included) and what other processes can read of this one
  // (/proc/PID/environ, and --auth's value in ps). Commands read them from the copy.
  const env = { ...process.env };
  const { removed, scrubbed } = scrubEnvironment(SECRET_ENV);
  hideArguments(process.argv, ['--auth']);
  if (!scrubbed && process.argv[2] === 'run') {
    process.stderr.write(`zk-election: warning: $${removed.join(', $')} could not be wiped from /proc/${process.pid}/environ here; other processes of this user can read it: prefer --auth-file\n`);
  }
  const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env });
  process.exitCode = code;
}
