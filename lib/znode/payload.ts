/**
 * What a candidate node holds: a small JSON object naming the participant, written by the
 * candidate at create time and read by observers and operators. Pure: no I/O.
 */
import { DataTooLargeError, InvalidArgumentError } from '../errors.js';

/**
 * ZooKeeper refuses requests larger than jute.maxbuffer (1 MiB - 1 byte by default). We keep 1 KiB
 * of that for the request's own framing (path, ACL, header) and check before sending.
 */
export const MAX_PAYLOAD_BYTES = 1024 * 1024 - 1024;

/**
 * Read once, at the first candidacy: os.hostname() is a system call, and loading node:os at
 * `import 'zk-election'` would cost every importer (getBuiltinModule loads it on demand).
 */
let host: string | undefined;
export function hostName(): string {
  host ??= process.getBuiltinModule('node:os').hostname();
  return host;
}

/** What a candidate node holds, as JSON. */
export interface CandidatePayload {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  /** Higher is preferred as leader; 0 (the default) never takes leadership over anybody. */
  priority: number;
  data?: unknown;
}

export function encodePayload(id: string, data: unknown, priority = 0): Buffer {
  const payload: CandidatePayload = { id, host: hostName(), pid: process.pid, startedAt: new Date().toISOString(), priority };
  if (data !== undefined) payload.data = data;
  let json: string;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    throw new InvalidArgumentError(`Expected \`data\` to be JSON-serialisable: ${(error as Error).message}`);
  }
  const bytes = Buffer.from(json, 'utf8');
  if (bytes.length > MAX_PAYLOAD_BYTES) throw new DataTooLargeError(bytes.length, MAX_PAYLOAD_BYTES);
  return bytes;
}

/** A node's priority as its data says: anything but a non-negative safe integer reads as 0. */
export function priorityOf(payload: Partial<Record<keyof CandidatePayload, unknown>> | undefined): number {
  const priority = payload?.priority;
  return typeof priority === 'number' && Number.isSafeInteger(priority) && priority >= 0 ? priority : 0;
}

/**
 * A candidate node's data, typed on read: whoever could write the node wrote it, so every field is
 * checked. A field of the wrong type is left out and named in `malformed` (`'id: number'`), so
 * that it is shown as such rather than trusted (a number where a string belongs once crashed the
 * table). `data` is the participant's own and stays as it was.
 */
export interface ReadPayload {
  id: string | undefined;
  host: string | undefined;
  pid: number | undefined;
  startedAt: string | undefined;
  /** 0 unless the data names a valid one (a wrong one is named in `malformed`). */
  priority: number;
  data: unknown;
  /** `field: what it was` for each field present with the wrong type; `id: missing` without an id. */
  malformed: string[];
}

export function readPayload(bytes: Buffer): ReadPayload {
  const raw = parsePayload(bytes) as Record<string, unknown> | undefined;
  const malformed: string[] = [];
  const string = (field: string): string | undefined => {
    const value = raw?.[field];
    if (value === undefined || (typeof value === 'string' && value !== '')) return value;
    malformed.push(`${field}: ${kindOf(value)}`);
    return undefined;
  };
  const id = string('id');
  if (raw?.id === undefined) malformed.push('id: missing');
  const host = string('host');
  const pidValue = raw?.pid;
  const pid = typeof pidValue === 'number' && Number.isSafeInteger(pidValue) && pidValue > 0 ? pidValue : undefined;
  if (pidValue !== undefined && pid === undefined) malformed.push(`pid: ${typeof pidValue === 'number' ? 'not a positive whole number' : kindOf(pidValue)}`);
  const priority = priorityOf(raw);
  if (raw?.priority !== undefined && raw.priority !== priority) malformed.push(`priority: ${typeof raw.priority === 'number' ? 'not a whole number from 0' : kindOf(raw.priority)}`);
  return { id, host, pid, startedAt: string('startedAt'), priority, data: raw?.data, malformed };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value === '') return 'empty string';
  return typeof value === 'number' && !Number.isSafeInteger(value) ? 'not a whole number' : typeof value;
}

/** The JSON object a candidate node holds, as far as it is an object; undefined for anything else. */
export function parsePayload(data: Buffer): Partial<CandidatePayload> | undefined {
  try {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as Partial<CandidatePayload>) : undefined;
  } catch {
    return undefined;
  }
}
