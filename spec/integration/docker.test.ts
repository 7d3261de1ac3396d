// Static checks of docker/ (no Docker engine needed) and a run of the sample job under plain node.
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { killAllTracked, spawnTracked, type TrackedProcess } from '../support/processes.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string): string => readFileSync(root + file, 'utf8');

type Dict = Record<string, unknown>;

function dict(value: unknown, what: string): Dict {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${what}: not a mapping`);
  return value as Dict;
}

function str(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new TypeError(`${what}: not a string`);
}

function words(value: unknown, what: string): string[] {
  if (typeof value === 'string') return value.trim().split(/\s+/);
  if (Array.isArray(value)) return value.map((v, i) => str(v, `${what}[${i}]`));
  throw new TypeError(`${what}: neither a string nor a list`);
}

/** A service's environment, from either compose form (mapping, or list of KEY=VALUE). */
function envOf(service: Dict, what: string): Record<string, string> {
  const env = service['environment'] ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry, i) => {
      const [key = '', ...rest] = str(entry, `${what}.environment[${i}]`).split('=');
      return [key, rest.join('=')];
    }));
  }
  return Object.fromEntries(Object.entries(dict(env, `${what}.environment`)).map(([k, v]) => [k, str(v, k)]));
}

// ---- the CLI contract --------------------------------------------------------------------------------------------
const valueFlags: Record<string, readonly string[]> = {
  run: ['--id', '--connect', '--grace', '--session-timeout', '--log-format'],
  participants: ['--connect', '--timeout'],
  leader: ['--connect'],
};
const booleanFlags: Record<string, readonly string[]> = { run: ['--once'], participants: ['--json', '--watch'], leader: [] };
const numericFlags = new Set(['--grace', '--session-timeout', '--timeout']);

interface CliCall { subcommand: string; path: string; flags: Map<string, string | true>; command: string[] }

/** Parses `zk-election` arguments, throwing on anything outside the contract. */
function parseCli(argv: readonly string[]): CliCall {
  const [subcommand = '', ...rest] = argv;
  const takesValue = valueFlags[subcommand];
  const isBoolean = booleanFlags[subcommand];
  if (!takesValue || !isBoolean) throw new Error(`unknown subcommand "${subcommand}"`);
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  let command: string[] = [];
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] ?? '';
    if (arg === '--') { command = rest.slice(i + 1); break; }
    if (!arg.startsWith('--')) { positional.push(arg); continue; }
    if (flags.has(arg)) throw new Error(`${arg} given twice`);
    if (isBoolean.includes(arg)) { flags.set(arg, true); continue; }
    if (!takesValue.includes(arg)) throw new Error(`${subcommand} has no flag ${arg}`);
    const value = rest[(i += 1)];
    if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`);
    if (numericFlags.has(arg) && !/^[1-9]\d*$/.test(value)) throw new Error(`${arg} ${value}: not a positive integer`);
    if (arg === '--log-format' && !['text', 'json'].includes(value)) throw new Error(`--log-format ${value}`);
    flags.set(arg, value);
  }
  const [path, ...extra] = positional;
  if (path === undefined || !path.startsWith('/') || extra.length > 0) {
    throw new Error(`expected one absolute <path>, got ${positional.join(' ')}`);
  }
  if ((subcommand === 'run') !== (command.length > 0)) throw new Error(`a command after -- belongs to "run", and only there`);
  return { subcommand, path, flags, command };
}

// ---- the Dockerfile ----------------------------------------------------------------------------------------------
interface Instruction { keyword: string; args: string }
interface Copy { from: string | undefined; sources: string[]; dest: string }
interface Stage {
  image: string;
  name: string | undefined;
  workdir: string;
  copies: Copy[];
  user: string | undefined;
  entrypoint: unknown;
}

function instructions(text: string): Instruction[] {
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return logical.map((line) => {
    const [keyword = '', args = ''] = line.split(/\s+(.*)/s);
    return { keyword: keyword.toUpperCase(), args: args.trim() };
  });
}

function parseCopy(args: string, workdir: string): Copy {
  const tokens = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const from = tokens.find((t) => t.startsWith('--from='))?.slice('--from='.length);
  const paths = tokens.filter((t) => !t.startsWith('--'));
  const dest = paths.pop() ?? '';
  return { from, sources: paths, dest: posix.resolve(workdir, dest) + (dest.endsWith('/') ? '/' : '') };
}

function stages(text: string): Stage[] {
  const args = new Map<string, string>();
  const result: Stage[] = [];
  for (const { keyword, args: rest } of instructions(text)) {
    const stage = result.at(-1);
    if (keyword === 'ARG' && !stage) {
      const eq = rest.indexOf('=');
      if (eq > 0) args.set(rest.slice(0, eq), rest.slice(eq + 1));
    } else if (keyword === 'FROM') {
      const [image = '', as, name] = rest.replace(/\$\{?(\w+)\}?/g, (_, n: string) => args.get(n) ?? '').split(/\s+/);
      const stageName = as?.toUpperCase() === 'AS' ? name : undefined;
      result.push({ image, name: stageName, workdir: '/', copies: [], user: undefined, entrypoint: undefined });
    } else if (stage && keyword === 'WORKDIR') stage.workdir = posix.resolve(stage.workdir, rest);
    else if (stage && keyword === 'COPY') stage.copies.push(parseCopy(rest, stage.workdir));
    else if (stage && keyword === 'USER') stage.user = rest;
    else if (stage && keyword === 'ENTRYPOINT') stage.entrypoint = JSON.parse(rest);
  }
  return result;
}

/** Where a COPY puts `source` in the image. */
const copiedTo = (copy: Copy, source: string): string => (copy.dest.endsWith('/') ? copy.dest + posix.basename(source) : copy.dest);

// ---- fixtures ----------------------------------------------------------------------------------------------------
const compose = dict(parse(read('docker/docker-compose.yml'), { merge: true }), 'compose file');
const services = dict(compose['services'], 'services');
const serviceNames = Object.keys(services);
const service = (name: string): Dict => dict(services[name], name);
const isZooKeeper = (name: string): boolean => /^zookeeper(:|@|$)/.test(str(service(name)['image'] ?? '', `${name}.image`));
const zkNames = serviceNames.filter(isZooKeeper);
const cliNames = serviceNames.filter((name) => !isZooKeeper(name));
/** Parsed per test, so that a command line outside the contract fails the tests, not the loading of this file. */
const cliCalls = (): Array<{ name: string; call: CliCall }> =>
  cliNames.map((name) => ({ name, call: parseCli(words(service(name)['command'], `${name}.command`)) }));

const dockerfile = stages(read('docker/Dockerfile'));
const runtime = dockerfile.at(-1);
const bin = dict(JSON.parse(read('package.json')), 'package.json')['bin'];

describe('docker/docker-compose.yml', () => {
  it('runs exactly three ZooKeeper servers with ids 1..3 from a pinned official image', () => {
    expect(zkNames).toHaveLength(3);
    const ids = zkNames.map((name) => envOf(service(name), name)['ZOO_MY_ID']).sort();
    expect(ids).toEqual(['1', '2', '3']);
    for (const name of zkNames) {
      expect(str(service(name)['image'], name)).toMatch(/^zookeeper:3\.(8|9)\.\d+(-[\w.-]+)?$/);
    }
  });

  it('gives every server the same ZOO_SERVERS, naming each service by its ZOO_MY_ID', () => {
    expect(zkNames).toHaveLength(3);
    for (const name of zkNames) {
      const env = envOf(service(name), name);
      const entries = (env['ZOO_SERVERS'] ?? '').trim().split(/\s+/).sort();
      const expected = zkNames.map((zk) => `server.${envOf(service(zk), zk)['ZOO_MY_ID']}=${zk}:2888:3888;2181`).sort();
      expect(entries).toEqual(expected);
    }
  });

  it('health-checks every server with a four-letter command the server allows', () => {
    expect(zkNames).toHaveLength(3);
    for (const name of zkNames) {
      const whitelist = (envOf(service(name), name)['ZOO_4LW_COMMANDS_WHITELIST'] ?? '').split(',').map((c) => c.trim());
      expect(whitelist).toEqual(expect.arrayContaining(['ruok', 'srvr', 'stat', 'cons', 'wchc']));
      const healthcheck = dict(service(name)['healthcheck'], `${name}.healthcheck`);
      expect(healthcheck['disable']).not.toBe(true);
      const test = words(healthcheck['test'], `${name}.healthcheck.test`).join(' ');
      expect(test).toContain('2181');
      const used = test.match(/\b(ruok|srvr|stat|cons|wchc|mntr|conf|envi|dump|crst|srst|dirs|wchs|wchp|isro)\b/)?.[1];
      expect(used).toBeDefined();
      expect(whitelist).toContain(used);
    }
  });

  it('starts every zk-election service from docker/Dockerfile, only once all servers are healthy', () => {
    expect(cliNames.length).toBeGreaterThanOrEqual(4);
    for (const name of cliNames) {
      const build = dict(service(name)['build'], `${name}.build`);
      const dockerfilePath = posix.join('docker', str(build['context'], 'context'), str(build['dockerfile'], 'dockerfile'));
      expect(dockerfilePath).toBe('docker/Dockerfile');
      expect(service(name)['entrypoint']).toBeUndefined();
      const dependsOn = dict(service(name)['depends_on'], `${name}.depends_on`);
      for (const zk of zkNames) expect(dict(dependsOn[zk], `${name}.depends_on.${zk}`)['condition']).toBe('service_healthy');
    }
  });

  it('uses only the CLI contract, with one election path, three candidates and one watcher', () => {
    const calls = cliCalls();
    const paths = new Set(calls.map(({ call }) => call.path));
    expect([...paths]).toEqual(['/demo/payment-scheduler']);
    const runs = calls.filter(({ call }) => call.subcommand === 'run');
    expect(runs.map(({ name }) => name).sort()).toEqual(['scheduler-1', 'scheduler-2', 'scheduler-3']);
    for (const { name, call } of runs) {
      expect(call.flags.get('--id')).toBe(name);
      expect(call.flags.get('--grace')).toBe('2000');
    }
    const watchers = calls.filter(({ call }) => call.subcommand === 'participants' && call.flags.get('--watch') === true);
    expect(watchers.map(({ name }) => name)).toEqual(['watch']);
  });

  it('connects every zk-election service to exactly the three servers on their client port', () => {
    const expected = zkNames.map((zk) => `${zk}:2181`).sort();
    expect(expected).toHaveLength(3);
    expect(cliCalls().length).toBeGreaterThanOrEqual(4);
    for (const { name, call } of cliCalls()) {
      const connect = call.flags.get('--connect') ?? envOf(service(name), name)['ZK_CONNECT'];
      expect(typeof connect).toBe('string');
      const hosts = String(connect).replace(/\/.*$/, '').split(',').sort();
      expect(hosts).toEqual(expected);
    }
  });

  it('runs a job that the Dockerfile copies into the image', () => {
    const runs = cliCalls().filter(({ call: c }) => c.subcommand === 'run');
    expect(runs).toHaveLength(3);
    for (const { call } of runs) {
      const script = call.command.find((arg) => /\.(m|c)?js$/.test(arg));
      expect(script).toBeDefined();
      const copy = runtime?.copies.find((c) => c.from === undefined && c.sources.some((s) => copiedTo(c, s) === script));
      expect(copy).toBeDefined();
    }
  });
});

describe('the contract checker used above', () => {
  it('accepts the contract and rejects what lies outside it', () => {
    expect(parseCli(['leader', '/a']).path).toBe('/a');
    expect(parseCli(['run', '/a', '--once', '--log-format', 'json', '--', 'true']).command).toEqual(['true']);
    expect(() => parseCli(['elect', '/a'])).toThrow('unknown subcommand');
    expect(() => parseCli(['run', '/a', '--ttl', '5', '--', 'true'])).toThrow('no flag --ttl');
    expect(() => parseCli(['run', '/a', '--grace', '2s', '--', 'true'])).toThrow('not a positive integer');
    expect(() => parseCli(['run', '/a'])).toThrow('belongs to "run"');
    expect(() => parseCli(['participants', '/a', '--', 'x'])).toThrow('belongs to "run"');
    expect(() => parseCli(['participants', 'a'])).toThrow('absolute <path>');
  });
});

describe('docker/Dockerfile', () => {
  it('builds from pinned base images, the same one for every stage that is not a stage', () => {
    const stageNames = new Set(dockerfile.map((s) => s.name));
    const bases = dockerfile.map((s) => s.image).filter((image) => !stageNames.has(image));
    expect(dockerfile.length).toBeGreaterThanOrEqual(2);
    expect(new Set(bases).size).toBe(1);
    for (const image of bases) {
      const tag = /@sha256:[0-9a-f]{64}$/.test(image) ? 'digest' : image.split('/').at(-1)?.split(':')[1];
      expect(tag).toBeDefined();
      expect(tag).not.toBe('latest');
      expect(image).toMatch(/^node:20[.-]/);
    }
  });

  it('enters at the CLI of package.json "bin", copied into the image', () => {
    expect(runtime?.entrypoint).toEqual(['node', '/app/dist/lib/cli/main.js']);
    const script = (runtime?.entrypoint as string[])[1] ?? '';
    expect(Object.values(dict(bin, 'bin')).map((b) => posix.join(runtime?.workdir ?? '/', str(b, 'bin')))).toContain(script);
    expect(runtime?.copies.some((c) => c.from !== undefined && script.startsWith(`${c.dest.replace(/\/$/, '')}/`))).toBe(true);
  });

  it('runs as a user other than root', () => {
    expect(runtime?.user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(runtime?.user);
  });

  it('copies only files that exist and that Dockerfile.dockerignore lets through', () => {
    const ignored = read('docker/Dockerfile.dockerignore').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['dist', '.git']));
    expect(ignored.some((p) => p === 'node_modules' || p === '**/node_modules')).toBe(true);
    const sources = dockerfile.flatMap((s) => s.copies.filter((c) => c.from === undefined).flatMap((c) => c.sources));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      const relative = posix.normalize(source).replace(/^\.\/|\/$/g, '');
      expect(existsSync(root + relative) ? relative : `missing: ${relative}`).toBe(relative);
      const blocked = ignored
        .map((p) => p.replace(/^\*\*\/|^\//, ''))
        .find((p) => relative === p || relative.startsWith(`${p}/`) || relative.split('/').includes(p));
      expect(blocked).toBeUndefined();
    }
  });
});

describe('docker/sample/payment-scheduler.mjs', () => {
  const script = root + 'docker/sample/payment-scheduler.mjs';
  // Only what the image gives it: PATH and the variables `zk-election run` sets.
  const start = (env: Record<string, string>): Promise<TrackedProcess> =>
    spawnTracked(process.execPath, [script], { env: { PATH: process.env['PATH'] ?? '', ...env } });

  afterEach(killAllTracked);

  it('charges with the fencing token and exits 0 on SIGTERM after its goodbye line', async () => {
    const job = await start({ ZK_ELECTION_TOKEN: '42', ZK_ELECTION_ID: 'test' });
    await job.waitForLine(/^charged contract C-\d{4} amount=\d+\.\d\d token=42 by=test$/, 20_000);
    job.child.kill('SIGTERM');
    expect(await job.waitForExit(20_000)).toEqual({ code: 0, signal: null });
    expect(job.lines.at(-1)).toMatch(/stopping on SIGTERM.*token=42 by=test/);
  });

  it('refuses to run without a fencing token', async () => {
    const job = await start({});
    expect(await job.waitForExit(20_000)).toMatchObject({ code: 2 });
    expect([...job.lines, ...job.errorLines].join('\n')).toContain('ZK_ELECTION_TOKEN');
  });
});
