#!/usr/bin/env node
// @ts-check
/**
 * The sources zk-election builds its native client from: the files of the `zookeeper` package
 * (node-zookeeper 7.3.0, MIT) and of the ZooKeeper C client it ships as a tarball (Apache-2.0)
 * that lib/native/sources.json lists, each checked against its SHA-256.
 *
 * A published zk-election carries them in vendor/zookeeper-7.3.0 (this script, as `prepack`,
 * copies them there), so installing it needs no `zookeeper` package and touches none. In a
 * checkout they are copied from the `zookeeper` devDependency on the first build.
 *
 *   node lib/native/vendor.mjs     (re)writes vendor/zookeeper-7.3.0 from node_modules/zookeeper
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** @type {{ package: string; version: string; cClient: { archive: string; member: string; into: string }; files: Record<string, string> }} */
export const MANIFEST = JSON.parse(fs.readFileSync(path.join(HERE, 'sources.json'), 'utf8'));
/** Where the sources live in zk-election's package, relative to its root. */
export const VENDOR_DIR = `vendor/${MANIFEST.package}-${MANIFEST.version}`;

/**
 * The directory holding the pristine sources, checked file by file. Copies them from the
 * `zookeeper` package first when `root` has none (a checkout); a published package has them.
 * @param {string} root zk-election's directory
 */
export function vendoredSources(root) {
  const dir = path.join(root, VENDOR_DIR);
  if (!fs.existsSync(dir)) vendorFromPackage(root);
  const wrong = Object.entries(MANIFEST.files).filter(([file, sha256]) => !fs.existsSync(path.join(dir, file)) || hash(fs.readFileSync(path.join(dir, file))) !== sha256);
  if (wrong.length > 0) {
    throw new Error(`${dir} does not hold the sources of ${MANIFEST.package}@${MANIFEST.version} (missing or changed: ${wrong.map(([file]) => file).join(', ')}); reinstall zk-election`);
  }
  return dir;
}

/**
 * Writes VENDOR_DIR from the installed `zookeeper` package (a devDependency of zk-election),
 * whose C client comes from its own tarball (never from a build directory it may have changed).
 * @param {string} root
 */
export function vendorFromPackage(root) {
  const require = createRequire(path.join(root, 'package.json'));
  let from;
  try {
    from = path.dirname(require.resolve(`${MANIFEST.package}/package.json`));
  } catch {
    throw new Error(`no ${VENDOR_DIR} and no ${MANIFEST.package} package to copy it from (a zk-election checkout needs \`npm install\`)`);
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8'));
  if (version !== MANIFEST.version) throw new Error(`${MANIFEST.package}@${version} is installed in ${from}; lib/native is for ${MANIFEST.version}`);
  const archive = readTarGz(path.join(from, MANIFEST.cClient.archive));
  const staging = path.join(root, `${VENDOR_DIR}.tmp-${process.pid}`);
  fs.rmSync(staging, { recursive: true, force: true });
  try {
    for (const [file, sha256] of Object.entries(MANIFEST.files)) {
      const inArchive = file.startsWith(`${MANIFEST.cClient.into}/`) ? `${MANIFEST.cClient.member}/${file.slice(MANIFEST.cClient.into.length + 1)}` : undefined;
      const content = inArchive ? archive.get(inArchive) : fs.readFileSync(path.join(from, file));
      if (!content) throw new Error(`${inArchive} is not in ${MANIFEST.cClient.archive}`);
      if (hash(content) !== sha256) throw new Error(`${file} of ${from} is not the ${MANIFEST.package}@${MANIFEST.version} source (SHA-256 differs)`);
      fs.mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
      fs.writeFileSync(path.join(staging, file), content);
    }
    // All or nothing: a half-copied directory is never left under the name the build reads.
    fs.rmSync(path.join(root, VENDOR_DIR), { recursive: true, force: true });
    fs.renameSync(staging, path.join(root, VENDOR_DIR));
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** @param {Buffer} content */
function hash(content) {
  return crypto.createHash('sha256').update(content).digest('hex');
}

/**
 * The regular files of a .tar.gz, by name (ustar and pax; pax headers themselves are skipped).
 * @param {string} file
 * @returns {Map<string, Buffer>}
 */
function readTarGz(file) {
  const tar = zlib.gunzipSync(fs.readFileSync(file));
  const files = new Map();
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start, length) => header.toString('latin1', start, start + length).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    if (type === '0' || type === '') files.set(name.replace(/^\.\//, ''), Buffer.from(tar.subarray(at + 512, at + 512 + size)));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(HERE, '..', '..');
  try {
    vendorFromPackage(root);
    vendoredSources(root);
    process.stderr.write(`zk-election: ${VENDOR_DIR} holds ${Object.keys(MANIFEST.files).length} files of ${MANIFEST.package}@${MANIFEST.version}\n`);
  } catch (error) {
    process.stderr.write(`zk-election: ${/** @type {Error} */ (error).message}\n`);
    process.exit(1);
  }
}
