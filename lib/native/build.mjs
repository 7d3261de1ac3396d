#!/usr/bin/env node
// @ts-check
/**
 * zk-election's install script: builds its native client, the `zookeeper` binding's addon with
 * lib/native's patches and the ZooKeeper C client with TLS, inside zk-election's own directory:
 *
 *   vendor/zookeeper-7.3.0  (pristine sources, checked by SHA-256)  --copy-->  native-build/
 *   lib/native/*.patch      --applied to the copy, all or nothing-->           native-build/
 *   node-gyp (lib/native/binding.gyp)  -->  native-build/build/Release/zookeeper.node
 *
 * Nothing outside native-build/ is written (never another package, never a file a package
 * manager may have hard-linked from its store), so a pnpm side-effects cache holds this build
 * with zk-election, and a project's own `zookeeper` package is left as it is. The built addon is
 * loaded in a child with every symbol resolved now (OpenSSL's come from the node binary) and its
 * patch markers checked; any failure fails the install, naming what is missing. Run again, it
 * does nothing when the addon is built from the same inputs for the same Node.js.
 * See docs/install.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyPatches, PATCHES } from './patches.mjs';
import { MANIFEST, vendoredSources } from './vendor.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const WORK = path.join(ROOT, 'native-build');
export const ADDON = path.join(WORK, 'build', 'Release', 'zookeeper.node');
const STAMP = path.join(WORK, 'stamp.json');

/** @param {string} text */
function say(text) {
  process.stderr.write(`zk-election: ${text}\n`);
}

/** What the build depends on: a different value means building again. */
function inputs() {
  const digest = crypto.createHash('sha256');
  for (const file of [...PATCHES.map((p) => p.file), 'binding.gyp', 'config.h', 'sources.json']) digest.update(fs.readFileSync(path.join(HERE, file)));
  return { node: process.version, abi: process.versions.modules, platform: `${process.platform}-${process.arch}`, inputs: digest.digest('hex') };
}

/**
 * Loads `file` in a child process with RTLD_NOW (every undefined symbol resolved at once, so a
 * missing OpenSSL function is an error here, not an abort on the first TLS connect) and checks the
 * patch markers. Returns undefined when it is the build we want, else why not.
 * @param {string} file
 */
export function checkAddon(file) {
  if (!fs.existsSync(file)) return `no ${file}`;
  const expected = Object.fromEntries(PATCHES.map((p) => [p.property, p.value]));
  const script = `const m = { exports: {} };
process.dlopen(m, ${JSON.stringify(file)}, require('node:os').constants.dlopen.RTLD_NOW);
const z = m.exports.ZooKeeper, e = ${JSON.stringify(expected)};
const wrong = Object.keys(e).filter((k) => z[k] !== e[k]);
if (wrong.length > 0) { process.stderr.write('it lacks ' + wrong.join(', ')); process.exit(3); }`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (child.status === 0) return undefined;
  const line = child.stderr.split('\n').find((l) => /lacks|Error|symbol/.test(l)) ?? child.stderr.trim();
  return line.trim() || `the check exited with ${child.status ?? child.signal}`;
}

/** node-gyp: the one the package manager names, else npm's own beside this node, else on PATH. */
function nodeGyp() {
  const bin = path.dirname(process.execPath);
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(bin, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(bin, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((file) => file && fs.existsSync(file));
  return found ? [process.execPath, found] : ['node-gyp'];
}

/**
 * Node.js's headers for addons: the package manager's `nodedir`, else the ones installed beside
 * this node when they are its version (no download, so an offline install works), else none
 * (node-gyp then downloads them).
 */
function nodeDir() {
  const configured = process.env.npm_config_nodedir;
  if (configured && fs.existsSync(path.join(configured, 'include', 'node', 'node_version.h'))) return configured;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const versionFile = path.join(prefix, 'include', 'node', 'node_version.h');
  if (!fs.existsSync(versionFile)) return undefined;
  const text = fs.readFileSync(versionFile, 'utf8');
  const part = (name) => /** @type {RegExpExecArray | null} */ (new RegExp(`#define ${name} (\\d+)`).exec(text))?.[1];
  return `v${part('NODE_MAJOR_VERSION')}.${part('NODE_MINOR_VERSION')}.${part('NODE_PATCH_VERSION')}` === process.version ? prefix : undefined;
}

/** @param {string[]} args */
function gyp(args) {
  const [command, ...rest] = nodeGyp();
  try {
    execFileSync(/** @type {string} */ (command), [...rest, ...args, '--loglevel=warn'], { cwd: WORK, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (error) {
    const why = /** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT' ? 'node-gyp was not found (it comes with npm; or `npm install -g node-gyp`)' : `node-gyp ${args[0]} failed (its output is above; it needs python3, make and a C++ compiler)`;
    throw new Error(why);
  }
}

/**
 * The C client includes <openssl/ssl.h>: from Node's headers (include/node/openssl), which match
 * the OpenSSL inside the node binary. A Node.js linked with a shared OpenSSL ships none: the
 * system's development headers for that OpenSSL are used then.
 */
function checkOpenSslHeaders() {
  const config = fs.readFileSync(path.join(WORK, 'build', 'config.gypi'), 'utf8');
  const dir = /"nodedir": "([^"]+)"/.exec(config)?.[1];
  const header = dir ? path.join(dir, 'include', 'node', 'openssl', 'ssl.h') : undefined;
  if (header && fs.existsSync(header)) return;
  const shared = /** @type {{ variables?: { node_shared_openssl?: unknown } }} */ (process.config).variables?.node_shared_openssl;
  if (shared === true || shared === 'true') return say(`Node.js uses a shared OpenSSL: building against the system's OpenSSL headers`);
  throw new Error(`Node.js's headers for addons lack OpenSSL's (${header ?? 'no nodedir in config.gypi'}), which the C client's TLS needs`);
}

function build() {
  if (process.platform === 'win32') throw new Error('the native client builds on Linux and macOS only');
  const sources = vendoredSources(ROOT);
  // A fresh directory each time: files are created, never rewritten in place.
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.cpSync(sources, WORK, { recursive: true });
  fs.copyFileSync(path.join(HERE, 'binding.gyp'), path.join(WORK, 'binding.gyp'));
  fs.mkdirSync(path.join(WORK, 'config'));
  fs.copyFileSync(path.join(HERE, 'config.h'), path.join(WORK, 'config', 'config.h'));
  applyPatches(WORK, HERE);
  say(`building the native client (${MANIFEST.package}@${MANIFEST.version} with ${PATCHES.length} patches, TLS) in ${WORK}`);
  const dir = nodeDir();
  gyp(['configure', ...(dir ? [`--nodedir=${dir}`] : [])]);
  checkOpenSslHeaders();
  gyp(['build', '--jobs=max']);
  const wrong = checkAddon(ADDON);
  if (wrong) throw new Error(`the built ${ADDON} does not load as it must: ${wrong}`);
  // Only the addon is needed from here on; the objects would only fill package-manager caches.
  for (const leftover of ['obj.target', '.deps']) fs.rmSync(path.join(WORK, 'build', 'Release', leftover), { recursive: true, force: true });
  fs.writeFileSync(STAMP, `${JSON.stringify(inputs())}\n`);
}

function isCurrent() {
  try {
    return JSON.stringify(JSON.parse(fs.readFileSync(STAMP, 'utf8'))) === JSON.stringify(inputs()) && checkAddon(ADDON) === undefined;
  } catch {
    return false;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (isCurrent()) {
      say(`the native client in ${WORK} is built for ${process.version}`);
    } else {
      const started = Date.now();
      build();
      say(`built the native client in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  } catch (error) {
    say(`could not build the native client: ${/** @type {Error} */ (error).message}`);
    say('see docs/install.md in the zk-election package');
    process.exit(1);
  }
}
