/**
 * `zk-election completion bash|zsh`: prints a shell completion script for the commands and their
 * flags. The flags are read from each command's --help text (its lines that start with a flag), so
 * the script cannot drift from what the commands document; the global options are offered before
 * the command and after it. After `run ... --` the shell's own completion takes over.
 */
import { parse } from './args.js';
import { EXIT, UsageError, type CliIo } from './io.js';

export const COMPLETION_HELP = `Usage: zk-election completion bash|zsh

Prints a completion script for zk-election's commands and flags.

  bash: add to ~/.bashrc:   eval "$(zk-election completion bash)"
        or install it:      zk-election completion bash > /etc/bash_completion.d/zk-election
  zsh:  add to ~/.zshrc, after compinit:   eval "$(zk-election completion zsh)"
        or save it as _zk-election in a directory of your $fpath

Examples:
  zk-election completion bash > ~/.local/share/bash-completion/completions/zk-election
  zk-election completion zsh > "\${fpath[1]}/_zk-election"
`;

/** What a command offers: its flags, and those that take a value. */
export interface CommandFlags {
  flags: string[];
  takesValue: string[];
}

const GLOBAL_FLAGS = ['--connect', '--auth', '--auth-file', '--timeout', '--tls-ca', '--tls-cert', '--tls-key', '--verbose', '--help'];
const GLOBAL_VALUES = ['--connect', '--auth', '--auth-file', '--timeout', '--tls-ca', '--tls-cert', '--tls-key'];
/** Values worth offering after a flag; any other flag with a value gets no suggestion. */
const CHOICES: Record<string, string[]> = { '--log-format': ['text', 'json'], '--suspended-policy': ['lease', 'strict'], '--servers': ['1', '3'] };
/** Arguments worth offering besides a command's flags. */
const ARGUMENTS: Record<string, string[]> = { completion: ['bash', 'zsh'] };

/**
 * The flags a help text documents: each line that starts with one (`  --id ID  ...`,
 * `  -v, --verbose`), and every flag of a line that lists several (`  --tls-ca FILE, --tls-cert FILE`).
 */
export function flagsOf(help: string): CommandFlags {
  const flags = new Set<string>(['--help']);
  const takesValue = new Set<string>();
  for (const line of help.split('\n')) {
    const match = /^\s+(?:-[a-zA-Z], )?(--[a-z][a-z-]*(?: [A-Z]+)?(?:, --[a-z][a-z-]*(?: [A-Z]+)?)*)/.exec(line);
    if (!match) continue;
    for (const entry of match[1]!.split(', ')) {
      const [flag, value] = entry.split(' ');
      flags.add(flag!);
      if (value) takesValue.add(flag!);
    }
  }
  // A command that connects takes every global option, documented in its help or not.
  if (flags.has('--connect')) {
    for (const flag of GLOBAL_FLAGS) flags.add(flag);
    for (const flag of GLOBAL_VALUES) takesValue.add(flag);
  }
  return { flags: [...flags].sort(), takesValue: [...takesValue].sort() };
}

export async function completionCommand(argv: string[], io: CliIo, helps: Record<string, string>): Promise<number> {
  const parsed = parse(argv, {});
  if (parsed.values.help) return void io.stdout.write(COMPLETION_HELP), EXIT.OK;
  const [shell, ...extra] = parsed.positionals;
  if ((shell !== 'bash' && shell !== 'zsh') || extra.length > 0) throw new UsageError('expects bash or zsh; usage: zk-election completion bash|zsh');
  const commands = Object.fromEntries(Object.entries(helps).map(([name, help]) => [name, flagsOf(help)]));
  io.stdout.write(shell === 'bash' ? bashScript(commands) : zshScript(commands));
  return EXIT.OK;
}

const words = (list: readonly string[]): string => list.join(' ');

/** Every flag that takes a value, of any command: after one, nothing but its choices is offered. */
function valueFlags(commands: Record<string, CommandFlags>): string[] {
  return [...new Set([...GLOBAL_VALUES, ...Object.values(commands).flatMap((c) => c.takesValue)])].sort();
}

function bashScript(commands: Record<string, CommandFlags>): string {
  const cases = Object.entries(commands)
    .map(([name, { flags }]) => `    ${name}) COMPREPLY=($(compgen -W "${words([...(ARGUMENTS[name] ?? []), ...flags])}" -- "$cur"));;`)
    .join('\n');
  const choices = Object.entries(CHOICES)
    .map(([flag, values]) => `    ${flag}) COMPREPLY=($(compgen -W "${words(values)}" -- "$cur")); return 0;;`)
    .join('\n');
  return `# zk-election completion for bash: eval "$(zk-election completion bash)"
_zk_election() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd= i
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      --) if [ "$cmd" = run ]; then declare -F _command_offset >/dev/null && _command_offset $((i + 1)); return 0; fi;;
      ${GLOBAL_VALUES.join('|')}) if [ -z "$cmd" ]; then ((i++)); [ "\${COMP_WORDS[i]}" = = ] && ((i++)); fi;;
      :|=) ((i++));; # bash splits host:port and --flag=value into words: the next one is part of the value
      -*) ;;
      *) [ -z "$cmd" ] && cmd=\${COMP_WORDS[i]};;
    esac
  done
  case $prev in
${choices}
    ${valueFlags(commands).join('|')}) return 0;;
  esac
  case $cmd in
    '') COMPREPLY=($(compgen -W "${words([...Object.keys(commands), ...GLOBAL_FLAGS, '--version'])}" -- "$cur"));;
${cases}
  esac
}
complete -o default -F _zk_election zk-election
`;
}

function zshScript(commands: Record<string, CommandFlags>): string {
  const cases = Object.entries(commands)
    .map(([name, { flags }]) => `    ${name}) compadd -- ${words([...(ARGUMENTS[name] ?? []), ...flags])};;`)
    .join('\n');
  const choices = Object.entries(CHOICES)
    .map(([flag, values]) => `    ${flag}) compadd -- ${words(values)}; return;;`)
    .join('\n');
  return `#compdef zk-election
# zk-election completion for zsh: eval "$(zk-election completion zsh)" after compinit
_zk_election() {
  local cmd= i
  for ((i = 2; i < CURRENT; i++)); do
    case \${words[i]} in
      --) if [[ $cmd == run ]]; then shift $i words; (( CURRENT -= i )); _normal; return; fi;;
      ${GLOBAL_VALUES.join('|')}) [[ -z $cmd ]] && (( i++ ));;
      -*) ;;
      *) [[ -z $cmd ]] && cmd=\${words[i]};;
    esac
  done
  case \${words[CURRENT-1]} in
${choices}
    ${valueFlags(commands).join('|')}) return;;
  esac
  case $cmd in
    '') compadd -- ${words([...Object.keys(commands), ...GLOBAL_FLAGS, '--version'])};;
${cases}
  esac
}
compdef _zk_election zk-election
`;
}
