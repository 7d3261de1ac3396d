/** Rendering participants for people: an aligned table, and one line per change when not on a tty. */
import type { Participant } from '../observe/list-participants.js';

/**
 * Characters a terminal obeys rather than shows: C0 and C1 controls (ESC starts colours, cursor
 * moves, title changes; a newline forges a row), DEL, the line and paragraph separators and the
 * bidirectional overrides that reorder what follows. Whoever can write a node chooses its data.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every character a terminal would obey written as an escape (`\x1b`, `\n`,
 * `\u202e`): for human output only; JSON output keeps the exact strings.
 */
export function escapeControl(text: string): string {
  return text.replace(UNSAFE, (char) => {
    const code = char.charCodeAt(0);
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    if (char === '\t') return '\\t';
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The id as people see it: escaped, and marked when the node's own was missing or not a string (the node's name stands in). */
export function shownId(p: Participant): string {
  const bad = p.malformed?.find((entry) => entry.startsWith('id: '));
  return bad ? `${escapeControl(p.id)} <${bad}>` : escapeControl(p.id);
}

/** A field that may be malformed: `<number>` when it was of the wrong type, `-` when absent. */
function shownField(p: Participant, field: 'host' | 'pid', value: string | undefined): string {
  const bad = p.malformed?.find((entry) => entry.startsWith(`${field}: `));
  if (bad) return `<${bad.slice(field.length + 2)}>`;
  return value === undefined ? '-' : escapeControl(value);
}

export function age(from: Date, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - from.getTime()) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(seconds / 3600);
  return hours < 48 ? `${hours}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(hours / 24)}d`;
}

export function participantsTable(participants: readonly Participant[], now = Date.now()): string {
  if (participants.length === 0) return 'no participants\n';
  const header = ['', 'ID', 'HOST', 'PID', 'SESSION', 'AGE', 'TOKEN', 'SEQ', 'PRIO'];
  const rows = participants.map((p) => [
    p.leader ? '*' : '',
    shownId(p),
    shownField(p, 'host', p.host),
    shownField(p, 'pid', p.pid === undefined ? undefined : String(p.pid)),
    // As in --json and Session.sessionId: hex, no 0x (ZooKeeper's own logs add one).
    escapeControl(p.sessionId),
    age(p.createdAt, now),
    p.token.toString(),
    String(p.sequence),
    String(p.priority),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Children with a candidate's name that no session owns, shown apart: never candidates. */
export function foreignNote(foreign: readonly string[]): string {
  if (foreign.length === 0) return '';
  return `not candidates (persistent nodes with a candidate's name, ignored): ${foreign.map(escapeControl).join(' ')}\n`;
}

/** One line per change for logs and pipes. */
export function participantsLine(participants: readonly Participant[], at: Date): string {
  const leader = participants[0];
  const ids = participants.map((p) => (p.leader ? `${shownId(p)}*` : shownId(p))).join(' ');
  const head = leader ? `leader=${shownId(leader)} token=${leader.token.toString()}` : 'leader=none';
  return `${at.toISOString()} ${head} participants=${participants.length}${ids ? ` ${ids}` : ''}\n`;
}
