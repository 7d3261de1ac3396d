/**
 * The election recipe's pure parts: candidate node names, sequence parsing, ordering and the
 * predecessor rule. No I/O here, so every rule is unit-tested without a server.
 *
 * A candidate node is named `c_<marker>_<sequence>`: ZooKeeper appends the 10-digit sequence to
 * the `c_<marker>_` prefix we send. The marker (32 hex digits, new for every create attempt) lets a
 * candidate find its own node again after a connection loss hid the create's reply (Curator's
 * "protected" create); without it that node would be a ghost holding its place forever.
 */

export const CANDIDATE_PREFIX = 'c_';
const CANDIDATE_NAME = /^c_([0-9a-f]{32})_(-?\d{10,})$/;

export interface CandidateName {
  /** The node name (last path component). */
  name: string;
  marker: string;
  sequence: number;
}

/**
 * 32 random hex digits. The global Web Crypto's randomUUID draws from a cached pool (cheaper than a
 * randomBytes call per join), and is loaded at the first join, not at `import 'zk-election'`.
 */
export function newMarker(): string {
  return globalThis.crypto.randomUUID().replace(/-/g, '');
}

/** The name prefix for a create attempt; the server appends the sequence. */
export function candidatePrefix(marker: string): string {
  return `${CANDIDATE_PREFIX}${marker}_`;
}

/** Parses a child name; anything that is not a candidate node (foreign children) gives undefined. */
export function parseCandidateName(name: string): CandidateName | undefined {
  const match = CANDIDATE_NAME.exec(name);
  if (!match) return undefined;
  return { name, marker: match[1]!, sequence: Number(match[2]) };
}

/**
 * Candidates in election order, lowest sequence first. Foreign children are left out, never fatal;
 * they are returned separately so the caller can log them.
 */
export function sortCandidates(children: readonly string[]): { candidates: CandidateName[]; foreign: string[] } {
  const candidates: CandidateName[] = [];
  const foreign: string[] = [];
  for (const child of children) {
    const parsed = parseCandidateName(child);
    if (parsed) candidates.push(parsed);
    else foreign.push(child);
  }
  candidates.sort(compareCandidates);
  return { candidates, foreign };
}

function compareCandidates(a: CandidateName, b: CandidateName): number {
  return a.sequence - b.sequence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export type Standing =
  | { kind: 'leader' }
  | { kind: 'waiting'; predecessor: CandidateName; position: number; leader: CandidateName }
  | { kind: 'absent' };

/**
 * Where `ownName` stands among `children`: the leader, waiting behind exactly one predecessor
 * (the only node it may watch), or absent (its node is gone). Recomputed from a fresh listing
 * after every wake-up: a deleted predecessor never by itself means leadership.
 *
 * One pass, no sort: this runs on every wake-up of every candidate, and with N candidates a sort
 * would cost O(N log N) and a second array each time. Foreign children go to `onForeign`.
 */
export function standingOf(children: readonly string[], ownName: string, onForeign?: (child: string) => void): Standing {
  const own = parseCandidateName(ownName);
  let present = false;
  let leader: CandidateName | undefined;
  let predecessor: CandidateName | undefined;
  let position = 0;
  for (const child of children) {
    const parsed = parseCandidateName(child);
    if (!parsed) {
      onForeign?.(child);
      continue;
    }
    if (child === ownName) {
      present = true;
      continue;
    }
    if (leader === undefined || compareCandidates(parsed, leader) < 0) leader = parsed;
    if (own && compareCandidates(parsed, own) < 0) {
      position += 1;
      if (predecessor === undefined || compareCandidates(parsed, predecessor) > 0) predecessor = parsed;
    }
  }
  if (!present || !own) return { kind: 'absent' };
  if (predecessor === undefined) return { kind: 'leader' };
  return { kind: 'waiting', predecessor, position, leader: leader! };
}

/** Finds the node a create attempt made, by its marker, after the reply was lost. */
export function findByMarker(children: readonly string[], marker: string): string | undefined {
  return children.find((child) => parseCandidateName(child)?.marker === marker);
}

/**
 * Whether a node's `ephemeralOwner` (hex, as the stat shows it) names a session: only an ephemeral
 * node, which dies with its session, can be a candidate. 0 is a persistent node; ZooKeeper marks
 * a container node with 0x8000000000000000 and a TTL node with 0xff in the top byte, neither a
 * session. A planted node with a candidate's name would otherwise lead, or block, for ever.
 */
export function isLiveOwner(ephemeralOwner: string): boolean {
  const owner = ephemeralOwner.toLowerCase();
  return owner !== '0' && owner !== '8000000000000000' && !(owner.length === 16 && owner.startsWith('ff'));
}
