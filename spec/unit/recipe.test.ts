import { candidatePrefix, findByMarker, newMarker, parseCandidateName, sortCandidates, standingOf } from '../../lib/znode/recipe.js';
import { childPath } from '../../lib/zk/paths.js';

const name = (marker: string, seq: number): string => `${candidatePrefix(marker)}${String(seq).padStart(10, '0')}`;
const m = (c: string): string => c.repeat(32);

describe('recipe: candidate names', () => {
  test('a created name parses back to its marker and sequence', () => {
    const marker = newMarker();
    expect(marker).toMatch(/^[0-9a-f]{32}$/);
    expect(parseCandidateName(name(marker, 42))).toEqual({ name: name(marker, 42), marker, sequence: 42 });
  });

  test('foreign children are not candidates', () => {
    for (const foreign of ['lock-0000000001', 'c_short_0000000001', `c_${m('a')}_12`, 'config', `x${name(m('a'), 1)}`]) {
      expect(parseCandidateName(foreign)).toBeUndefined();
    }
  });

  test('sorting is by sequence, not by name, and separates foreign children', () => {
    const children = [name(m('f'), 3), 'junk', name(m('0'), 10), name(m('a'), 1)];
    const { candidates, foreign } = sortCandidates(children);
    expect(candidates.map((c) => c.sequence)).toEqual([1, 3, 10]);
    expect(foreign).toEqual(['junk']);
  });
});

describe('recipe: standing and predecessor', () => {
  const a = name(m('a'), 1);
  const b = name(m('b'), 2);
  const c = name(m('c'), 5);

  test('the lowest candidate leads', () => {
    expect(standingOf([c, a, b], a)).toEqual({ kind: 'leader' });
  });

  test('each other candidate waits on exactly its immediate predecessor', () => {
    const standing = standingOf([c, a, b, 'foreign'], c);
    expect(standing.kind).toBe('waiting');
    if (standing.kind !== 'waiting') return;
    expect(standing.predecessor.name).toBe(b);
    expect(standing.leader.name).toBe(a);
    expect(standing.position).toBe(2);
  });

  test('a deleted predecessor is not leadership while a lower candidate lives (etcd3 1.1.2)', () => {
    // A leads, B died, C recomputes from a fresh listing: it must wait on A, not lead.
    const standing = standingOf([a, c], c);
    expect(standing).toMatchObject({ kind: 'waiting', predecessor: { name: a } });
  });

  test('a node missing from the listing is absent', () => {
    expect(standingOf([a, b], c)).toEqual({ kind: 'absent' });
  });

  test('the one-pass standing agrees with a full sort on random listings, and reports foreign children', () => {
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 200; round += 1) {
      const count = 1 + random(30);
      const children = Array.from({ length: count }, (_, i) => name(newMarker(), i * 3 + random(3)));
      const shuffled = [...children].sort(() => random(3) - 1);
      shuffled.splice(random(shuffled.length + 1), 0, 'lock-foreign');
      const own = children[random(count)]!;
      const sorted = sortCandidates(shuffled).candidates;
      const index = sorted.findIndex((c) => c.name === own);
      const foreign: string[] = [];
      const standing = standingOf(shuffled, own, (child) => foreign.push(child));
      expect(foreign).toEqual(['lock-foreign']);
      if (index === 0) expect(standing).toEqual({ kind: 'leader' });
      else expect(standing).toEqual({ kind: 'waiting', predecessor: sorted[index - 1], position: index, leader: sorted[0] });
    }
  });

  test('findByMarker finds the node a lost create made', () => {
    const marker = m('d');
    expect(findByMarker([a, name(marker, 7), b], marker)).toBe(name(marker, 7));
    expect(findByMarker([a, b], marker)).toBeUndefined();
  });

  test('childPath joins at the root and below', () => {
    expect(childPath('/', 'x')).toBe('/x');
    expect(childPath('/a/b', 'x')).toBe('/a/b/x');
  });
});
