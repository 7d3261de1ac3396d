/** Rendering participants for people: an aligned table, and one line per change when not on a tty. */
import type { Participant } from '../observe/list-participants.js';

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
    p.id,
    p.host ?? '-',
    p.pid === undefined ? '-' : String(p.pid),
    // As in --json and Session.sessionId: hex, no 0x (ZooKeeper's own logs add one).
    p.sessionId,
    age(p.createdAt, now),
    p.token.toString(),
    String(p.sequence),
    String(p.priority),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** One line per change for logs and pipes. */
export function participantsLine(participants: readonly Participant[], at: Date): string {
  const leader = participants[0];
  const ids = participants.map((p) => (p.leader ? `${p.id}*` : p.id)).join(' ');
  const head = leader ? `leader=${leader.id} token=${leader.token.toString()}` : 'leader=none';
  return `${at.toISOString()} ${head} participants=${participants.length}${ids ? ` ${ids}` : ''}\n`;
}
