/**
 * What an operator (or a preferred candidate) asks of a participant: a field added to the JSON of
 * the participant's own node, which it watches, so the request reaches it within one
 * notification. The rest of the node's data is kept as it was, so `listParticipants` still shows
 * who it is.
 *
 *   stepDown  asks the leader to end its term (stop its work, then release its node) and requeue;
 *   requeue   asks a waiting candidate to go to the back of the queue without leaving it (a new
 *             node first, then the old one deleted): the step of a handoff by which everyone but
 *             the leader and the named successor moves behind the successor, in queue order.
 *
 * Node data is written by whoever may write it: every field read here is checked for its type.
 */
import type { CandidatePayload } from './payload.js';

export type RequestKind = 'stepDown' | 'requeue';

export interface NodeRequest {
  /** ISO time of the request. */
  requestedAt: string;
  /** Who asked (free text: user@host, a tool's name). */
  by?: string | undefined;
  /** The participant a handoff hands to (informative). */
  to?: string | undefined;
}

/** Longest `by` / `to` kept in a request: free text, and node data is bounded. */
const MAX_TEXT = 256;

/** The request of `kind` carried by a node's data, if any (well-formed: a string `requestedAt`). */
export function nodeRequest(data: Buffer, kind: RequestKind): NodeRequest | undefined {
  const field = parse(data)[kind];
  if (field === null || typeof field !== 'object') return undefined;
  const { requestedAt, by, to } = field as Record<string, unknown>;
  if (typeof requestedAt !== 'string') return undefined;
  return { requestedAt, ...(typeof by === 'string' ? { by } : {}), ...(typeof to === 'string' ? { to } : {}) };
}

/** The node's data with a request added; the participant's own fields are kept. */
export function withNodeRequest(data: Buffer, kind: RequestKind, request: { by?: string | undefined; to?: string | undefined }, now = new Date()): Buffer {
  const text = (value: string | undefined): string | undefined => (value === undefined ? undefined : value.slice(0, MAX_TEXT));
  const by = text(request.by);
  const to = text(request.to);
  const added: NodeRequest = { requestedAt: now.toISOString(), ...(by === undefined ? {} : { by }), ...(to === undefined ? {} : { to }) };
  return Buffer.from(JSON.stringify({ ...parse(data), [kind]: added }), 'utf8');
}

/** The node's JSON object; {} for anything else (not ours to understand: the request alone still reaches a participant). */
function parse(data: Buffer): Partial<CandidatePayload> & Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
