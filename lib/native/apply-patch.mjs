#!/usr/bin/env node
// @ts-check
/**
 * zk-election's postinstall: patches the installed `zookeeper` package's native sources with
 * lib/native/*.patch and rebuilds its addon, so that `npm install` alone gives the fixed binding.
 * See lib/native/UPSTREAM.md for the bug (node-zookeeper #238, #262) and the fix.
 *
 * It finds `zookeeper` the way zk-election's own code will (Node's resolution from this file),
 * checks its version, applies each patch whose marker the source does not hold yet (strictly: every
 * hunk must match exactly once, or nothing is written), rebuilds with npm's node-gyp, and then
 * loads the built addon to check that it is the patched one. Any failure exits non-zero: an
 * install that cannot build the patched addon fails loudly instead of leaving the aborting one.
 * Run again, it does nothing when the patched addon is already built. Plain JavaScript, because
 * it runs before this package's TypeScript is compiled.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PACKAGE = 'zookeeper';
const VERSION = '7.3.0';
/**
 * Each patch, in the order they apply: the marker every file it patches holds once patched, and the
 * constant the built addon exports for it.
 */
const PATCHES = [
  { file: 'zookeeper-7.3.0-poll-own-descriptor.patch', marker: 'zk-election patch for node-zookeeper #238 and #262', property: 'ZK_ELECTION_PATCH', value: 'owned-poll-descriptor/1' },
  { file: 'zookeeper-7.3.0-latency.patch', marker: 'zk-election latency patch', property: 'ZK_ELECTION_LATENCY_PATCH', value: 'resolve-once-a-minute+close-without-waiting/1' },
  { file: 'zookeeper-7.3.0-create-acl-multi.patch', marker: 'zk-election create-acl+multi patch', property: 'ZK_ELECTION_ACL_MULTI_PATCH', value: 'create-acl+multi/1' },
];
/** The C client's sources: a change there means remaking its static library before the addon links it. */
const C_CLIENT = 'deps/zookeeper-client-c';

/** @param {string} text */
function say(text) {
  process.stderr.write(`zk-election: ${text}\n`);
}

/**
 * The hunks of a unified diff, per file (paths without the a/ b/ prefix). Text before the first
 * file header (our comment) is ignored; each hunk takes as many lines as its header counts.
 * @param {string} diff
 * @returns {Map<string, Array<{ line: number; before: string[]; after: string[] }>>}
 */
function parsePatch(diff) {
  const files = new Map();
  /** @type {Array<{ line: number; before: string[]; after: string[] }> | undefined} */
  let hunks;
  /** @type {{ line: number; before: string[]; after: string[]; oldCount: number; newCount: number } | undefined} */
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
 * @param {Array<{ line: number; before: string[]; after: string[] }>} hunks
 */
function applyHunks(source, hunks) {
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

/** The installed package's directory, as zk-election's code resolves it. */
function packageDir() {
  const require = createRequire(path.join(HERE, 'apply-patch.mjs'));
  return path.dirname(require.resolve(`${PACKAGE}/package.json`));
}

/** @param {string} dir */
function builtAddonIsPatched(dir) {
  const addon = path.join(dir, 'build', 'Release', 'zookeeper.node');
  if (!fs.existsSync(addon)) return false;
  const expected = Object.fromEntries(PATCHES.map((p) => [p.property, p.value]));
  const check = `const z = require(${JSON.stringify(addon)}).ZooKeeper; const e = ${JSON.stringify(expected)}; process.exit(Object.keys(e).every((k) => z[k] === e[k]) ? 0 : 3)`;
  try {
    execFileSync(process.execPath, ['-e', check], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** npm's own node-gyp: the one npm names to install scripts, else the copy beside this node. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((file) => file && fs.existsSync(file));
  return found ? [process.execPath, found] : ['node-gyp'];
}

/**
 * Compiles the addon with npm's node-gyp: `build` (about 3 s) where zookeeper's own install left
 * a configured build directory, `rebuild` (configure, and the C client again) otherwise.
 * @param {string} dir
 * @param {'build' | 'rebuild'} how
 */
function compile(dir, how) {
  const [command, ...args] = nodeGyp();
  say(`${how === 'build' ? 'building' : 'rebuilding'} the ${PACKAGE} addon in ${dir}`);
  execFileSync(/** @type {string} */ (command), [...args, how, '--loglevel=warn'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** @param {string} dir */
function buildPatched(dir) {
  const configured = fs.existsSync(path.join(dir, 'build', 'Makefile')) && fs.existsSync(path.join(dir, 'build', 'config.gypi'));
  if (configured) {
    try {
      compile(dir, 'build');
      if (builtAddonIsPatched(dir)) return;
    } catch {
      // A build directory left by another Node.js version, say: start afresh below.
    }
  }
  compile(dir, 'rebuild');
  if (!builtAddonIsPatched(dir)) throw new Error(`the rebuilt addon in ${dir} does not export ${PATCHES.map((p) => `${p.property} = ${p.value}`).join(', ')}`);
}

/** Remakes the C client's static library from its sources as they are now (make only recompiles what changed). */
function remakeCClient(dir) {
  const cdir = path.join(dir, C_CLIENT);
  say(`remaking the ZooKeeper C client in ${cdir}`);
  execFileSync('make', ['--no-print-directory', '--quiet'], { cwd: cdir, stdio: ['ignore', 'ignore', 'inherit'] });
  // The addon links the static library without depending on it (node-gyp's makefile lists only
  // node-zk.o), so remove the linked addon, and its hard-linked copy, to make sure it is linked again.
  for (const linked of [['Release', 'obj.target', 'zookeeper.node'], ['Release', 'zookeeper.node']]) {
    fs.rmSync(path.join(dir, 'build', ...linked), { force: true });
  }
}

function main() {
  const dir = packageDir();
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  if (version !== VERSION) throw new Error(`${PACKAGE}@${version} is installed in ${dir}; lib/native holds patches for ${VERSION} only`);
  /** @type {Map<string, string>} the sources as patched so far, by path in the package */
  const sources = new Map();
  const changed = new Set();
  for (const { file, marker } of PATCHES) {
    for (const [target, hunks] of parsePatch(fs.readFileSync(path.join(HERE, file), 'utf8'))) {
      const sourceFile = path.join(dir, target);
      const source = sources.get(target) ?? fs.readFileSync(sourceFile, 'utf8');
      if (source.includes(marker)) continue;
      if (hunks.length === 0) throw new Error(`${file} has no hunks for ${target}`);
      try {
        sources.set(target, applyHunks(source, hunks));
      } catch (error) {
        throw new Error(`${file} does not apply to ${sourceFile}: ${/** @type {Error} */ (error).message}`);
      }
      changed.add(target);
      say(`applied ${file} to ${target}`);
    }
  }
  // Written only once every hunk of every patch applied: nothing half-patched is left behind.
  for (const target of changed) fs.writeFileSync(path.join(dir, target), /** @type {string} */ (sources.get(target)));
  if (changed.size === 0 && builtAddonIsPatched(dir)) return;
  // Always, not only when this run patched a C file: an earlier run may have patched one and
  // failed before make, and the addon's check constants live in its C++ side, so they cannot tell
  // a stale static library. make recompiles only what changed.
  remakeCClient(dir);
  buildPatched(dir);
  say(`the ${PACKAGE} addon is built with ${PATCHES.map((p) => p.file).join(', ')}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    say(`could not install the patched ${PACKAGE} addon: ${/** @type {Error} */ (error).message}`);
    process.exit(1);
  }
}
