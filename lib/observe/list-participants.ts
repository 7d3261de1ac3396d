/** listParticipants(): who is in an election, in order; shared by the library and the CLI. */
import { isZkElectionError } from '../errors.js';
import { readPayload } from '../znode/payload.js';
import { isLiveOwner, sortCandidates } from '../znode/recipe.js';
import { childPath } from '../zk/paths.js';
import type { Session, SessionOptions } from '../session/session.js';
import { resolveSession } from '../session/resolve-session.js';
import { optionsObject, validateElectionPath } from '../util/validate.js';
import { SESSION_KEYS } from '../session/session-validate.js';
import type { Watcher, ZkHandle } from '../zk/handle.js';

export interface Participant {
  id: string;
  /** Full path of the candidate node. */
  node: string;
  sequence: number;
  /** True for the first (lowest) candidate. */
  leader: boolean;
  /** The metadata the participant joined with (undefined if none). */
  data: unknown;
  /** Owning session id (hex). */
  sessionId: string;
  /** When the candidate node was created (server time). */
  createdAt: Date;
  /** The fencing token this participant holds or would hold as leader (the node's czxid). */
  token: bigint;
  /** How much it is preferred as leader (its `priority` option; 0 when its data names none). */
  priority: number;
  host: string | undefined;
  pid: number | undefined;
  startedAt: string | undefined;
  /**
   * Fields of the node's data that were missing or of the wrong type, as `field: what it was`
   * (`'id: number'`): such a field is not trusted (`id` falls back to the node's name, the others
   * are undefined) and the CLI marks it. Absent when every field is as a participant writes it.
   */
  malformed?: string[] | undefined;
}

/** A child with a candidate's name but no owning session (a persistent node): never a candidate. */
export const FOREIGN = Symbol('foreign');

/** Reads are pipelined in batches of this size: enough to fill the pipe, bounded in memory. */
const READ_BATCH = 1000;

type ReadOptions = Omit<SessionOptions, 'connect'> & { connect?: string | Session | undefined };

/** Participants sorted by sequence; the first is the leader. An absent path gives []. */
export function listParticipants(path: string, options: ReadOptions = {}): Promise<Participant[]> {
  return withClient(path, options, (client) => readParticipants(client, path));
}

/** listParticipants, and apart the foreign nodes (see readElection): what `zk-election participants` shows. @internal */
export function listElection(path: string, options: ReadOptions = {}): Promise<{ participants: Participant[]; foreign: string[] }> {
  return withClient(path, options, (client) => readElection(client, path));
}

/**
 * The current leader alone, or undefined when nobody leads: one children read and one data read
 * (two if the lowest candidate left in between), however many candidates wait.
 */
export function getLeader(path: string, options: ReadOptions = {}): Promise<Participant | undefined> {
  return withClient(path, options, (client) => readLeader(client, path));
}

async function withClient<T>(path: string, options: ReadOptions, read: (client: ZkHandle) => Promise<T>): Promise<T> {
  optionsObject('options', options, SESSION_KEYS);
  validateElectionPath(path);
  const { session, owned } = await resolveSession(options.connect, options);
  try {
    return await session.retrying('read election', read, options.signal ? { signal: options.signal } : {});
  } finally {
    if (owned) await session.close();
  }
}

async function listCandidates(client: ZkHandle, path: string): Promise<Array<{ name: string; sequence: number }>> {
  try {
    return sortCandidates(await client.getChildren(path)).candidates;
  } catch (error) {
    if (isZkElectionError(error, 'NO_NODE')) return [];
    throw error;
  }
}

export async function readParticipants(client: ZkHandle, path: string, listed?: string[]): Promise<Participant[]> {
  return (await readElection(client, path, listed)).participants;
}

/**
 * The live candidates, in order, and apart from them the foreign nodes: children with a
 * candidate's name that no session owns (persistent nodes someone planted), which are never
 * candidates, leaders or predecessors. Their stat comes with the data read we do anyway.
 */
export async function readElection(client: ZkHandle, path: string, listed?: string[]): Promise<{ participants: Participant[]; foreign: string[] }> {
  const candidates = listed ? sortCandidates(listed).candidates : await listCandidates(client, path);
  const participants: Participant[] = [];
  const foreign: string[] = [];
  for (let i = 0; i < candidates.length; i += READ_BATCH) {
    const batch = candidates.slice(i, i + READ_BATCH);
    const read = await Promise.all(batch.map((c) => readOne(client, childPath(path, c.name), c.sequence)));
    read.forEach((participant, j) => {
      if (participant === FOREIGN) foreign.push(batch[j]!.name);
      else if (participant) participants.push(participant);
    });
  }
  if (participants[0]) participants[0].leader = true;
  return { participants, foreign };
}

/** The first live candidate still present, from one listing; the leader as of that listing. */
export async function readLeader(client: ZkHandle, path: string): Promise<Participant | undefined> {
  for (const candidate of await listCandidates(client, path)) {
    const participant = await readOne(client, childPath(path, candidate.name), candidate.sequence);
    if (participant && participant !== FOREIGN) return { ...participant, leader: true };
  }
  return undefined;
}

/**
 * One candidate node as a Participant; undefined when it is gone, FOREIGN when no session owns it
 * (a persistent node: not a candidate). With `watcher`, a data watch is left on it.
 */
export async function readOne(client: ZkHandle, node: string, sequence: number, watcher?: Watcher): Promise<Participant | typeof FOREIGN | undefined> {
  let result;
  try {
    result = await client.get(node, watcher);
  } catch (error) {
    // Left between the listing and the read: not a participant any more.
    if (isZkElectionError(error, 'NO_NODE')) return undefined;
    throw error;
  }
  // Only an ephemeral node, which dies with its session, can be a candidate.
  if (!isLiveOwner(result.stat.ephemeralOwner)) return FOREIGN;
  const payload = readPayload(result.data);
  return {
    id: payload.id ?? node.slice(node.lastIndexOf('/') + 1),
    node,
    sequence,
    leader: false,
    data: payload.data,
    sessionId: result.stat.ephemeralOwner,
    createdAt: result.stat.ctime,
    token: BigInt(result.stat.czxid),
    priority: payload.priority,
    host: payload.host,
    pid: payload.pid,
    startedAt: payload.startedAt,
    ...(payload.malformed.length > 0 ? { malformed: payload.malformed } : {}),
  };
}

/** JSON form for the CLI and for logs: bigints as strings, dates as ISO strings. */
export function participantToJson(p: Participant): Record<string, unknown> {
  return { ...p, token: p.token.toString(), createdAt: p.createdAt.toISOString() };
}
