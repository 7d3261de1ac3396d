/**
 * How an operator asks a participant to step down: a field added to the JSON of its own node,
 * which the participant watches (so the request reaches it within one notification). The rest
 * of the node's data is kept as it was, so `listParticipants` still shows who it is.
 */
import type { CandidatePayload } from './payload.js';

export const STEP_DOWN_FIELD = 'stepDown';

export interface StepDownRequest {
  /** ISO time of the request. */
  requestedAt: string;
  /** Who asked (free text: user@host, a tool's name). */
  by?: string;
}

/** The request carried by a node's data, if any. */
export function stepDownRequest(data: Buffer): StepDownRequest | undefined {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as Record<string, unknown> | null;
    const request = parsed?.[STEP_DOWN_FIELD] as Record<string, unknown> | undefined;
    if (!request || typeof request !== 'object' || typeof request.requestedAt !== 'string') return undefined;
    // Typed on read: whoever wrote the request chose these fields, and `by` ends up in logs.
    return { requestedAt: request.requestedAt, ...(typeof request.by === 'string' ? { by: request.by } : {}) };
  } catch {
    return undefined;
  }
}

/** The node's data with a step-down request added; the participant's own fields are kept. */
export function withStepDownRequest(data: Buffer, by: string | undefined, now = new Date()): Buffer {
  let payload: Partial<CandidatePayload> & Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    if (parsed !== null && typeof parsed === 'object') payload = parsed as typeof payload;
  } catch {
    // Not ours to understand: the request alone still reaches a zk-election participant.
  }
  const request: StepDownRequest = { requestedAt: now.toISOString(), ...(by === undefined ? {} : { by }) };
  return Buffer.from(JSON.stringify({ ...payload, [STEP_DOWN_FIELD]: request }), 'utf8');
}
