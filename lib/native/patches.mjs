// @ts-check
/**
 * lib/native's patches to the `zookeeper` binding's sources, and the strict applier build.mjs uses:
 * every hunk must match exactly once, or nothing is written. Plain JavaScript: it runs at install,
 * before (and without) this package's TypeScript.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * Each patch, in the order they apply: a string every file it patches holds once patched, and the
 * constant the built addon exports for it (lib/zk/native-binding.ts checks the same list at run
 * time; a unit test holds the two equal).
 */
export const PATCHES = [
  { file: 'zookeeper-7.3.0-poll-own-descriptor.patch', marker: 'zk-election patch for node-zookeeper #238 and #262', property: 'ZK_ELECTION_PATCH', value: 'owned-poll-descriptor/1' },
  { file: 'zookeeper-7.3.0-latency.patch', marker: 'zk-election latency patch', property: 'ZK_ELECTION_LATENCY_PATCH', value: 'resolve-once-a-minute+close-without-waiting/1' },
  { file: 'zookeeper-7.3.0-create-acl-multi.patch', marker: 'zk-election create-acl+multi patch', property: 'ZK_ELECTION_ACL_MULTI_PATCH', value: 'create-acl+multi/1' },
  { file: 'zookeeper-7.3.0-tls.patch', marker: 'zk-election TLS patch', property: 'ZK_ELECTION_TLS_PATCH', value: 'init-ssl+ca-only+nonblocking-handshake/1' },
  { file: 'zookeeper-7.3.0-acl-completion.patch', marker: 'zk-election acl-completion patch', property: 'ZK_ELECTION_ACL_COMPLETION_PATCH', value: 'acl-completion-null/1' },
];

/**
 * @typedef {{ line: number; before: string[]; after: string[] }} Hunk
 */

/**
 * The hunks of a unified diff, per file (paths without the a/ b/ prefix). Text before the first
 * file header (our comment) is ignored; each hunk takes as many lines as its header counts.
 * @param {string} diff
 * @returns {Map<string, Hunk[]>}
 */
export function parsePatch(diff) {
  const files = new Map();
  /** @type {Hunk[] | undefined} */
  let hunks;
  /** @type {(Hunk & { oldCount: number; newCount: number }) | undefined} */
  let hunk;
  for (const raw of diff.split('\n')) {
    if (hunk && (hunk.before.length < hunk.oldCount || hunk.after.length < hunk.newCount)) {
      // An empty line is an empty context line whose leading space an editor trimmed.
      const kind = raw === '' ? ' ' : raw[0];
      const body = raw.slice(1);
      if (kind === ' ' || kind === '-') hunk.before.push(body);
      if (kind === ' ' || kind === '+') hunk.after.push(body);
      if (kind !== ' ' && kind !== '-' && kind !== '+') throw new Error(`malformed hunk line: ${raw}`);
      continue;
    }
    const header = /^\+\+\+ b\/(\S+)/.exec(raw);
    if (header) {
      hunks = [];
      files.set(header[1], hunks);
      continue;
    }
    const start = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(raw);
    if (start && hunks) {
      hunk = { line: Number(start[1]), before: [], after: [], oldCount: Number(start[2] ?? 1), newCount: Number(start[3] ?? 1) };
      hunks.push(hunk);
    }
  }
  return files;
}

/**
 * Applies hunks to `source`: each hunk's old lines must occur exactly once (searched from where
 * the previous hunk ended). Throws naming the first hunk that does not.
 * @param {string} source
 * @param {Hunk[]} hunks
 */
export function applyHunks(source, hunks) {
  const lines = source.split('\n');
  let from = 0;
  for (const [index, hunk] of hunks.entries()) {
    const at = findBlock(lines, hunk.before, from);
    if (at === -1 || findBlock(lines, hunk.before, at + 1) !== -1) {
      throw new Error(`hunk ${index + 1} (@@ -${hunk.line}) ${at === -1 ? 'does not match' : 'matches more than once'}`);
    }
    lines.splice(at, hunk.before.length, ...hunk.after);
    from = at + hunk.after.length;
  }
  return lines.join('\n');
}

/** @param {string[]} lines @param {string[]} block @param {number} from */
function findBlock(lines, block, from) {
  for (let i = from; i + block.length <= lines.length; i += 1) {
    if (block.every((line, k) => lines[i + k] === line)) return i;
  }
  return -1;
}

/**
 * Applies every patch in `patchDir` to the sources under `dir`, in order, in memory first: the
 * files are written only once every hunk of every patch applied. The sources must be pristine
 * (a marker already present is an error: build.mjs patches a fresh copy).
 * @param {string} dir
 * @param {string} patchDir
 * @returns {string[]} the files written, relative to `dir`
 */
export function applyPatches(dir, patchDir) {
  /** @type {Map<string, string>} */
  const sources = new Map();
  for (const { file, marker } of PATCHES) {
    for (const [target, hunks] of parsePatch(fs.readFileSync(path.join(patchDir, file), 'utf8'))) {
      const source = sources.get(target) ?? fs.readFileSync(path.join(dir, target), 'utf8');
      if (source.includes(marker)) throw new Error(`${target} already holds ${file}: not a pristine copy`);
      if (hunks.length === 0) throw new Error(`${file} has no hunks for ${target}`);
      try {
        sources.set(target, applyHunks(source, hunks));
      } catch (error) {
        throw new Error(`${file} does not apply to ${target}: ${/** @type {Error} */ (error).message}`);
      }
    }
  }
  for (const [target, text] of sources) {
    // A new file, never a write through an existing one: it may be a hard link into a package store.
    fs.rmSync(path.join(dir, target), { force: true });
    fs.writeFileSync(path.join(dir, target), text);
  }
  return [...sources.keys()];
}
