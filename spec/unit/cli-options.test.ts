/** The lease arithmetic of `run` and the parsing of --auth, --tls-* and --metrics: no server. */
import { authOption, listenOption, parse, sessionOptions, tlsOption } from '../../lib/cli/args.js';
import { UsageError, type CliIo } from '../../lib/cli/io.js';
import { main } from '../../lib/cli/main.js';
import { maxGrace, planLease } from '../../lib/cli/run/lease-plan.js';
import { PassThrough } from 'node:stream';
import { makeCertificateSet, type CertificateSet } from '../support/certificates.js';

describe("run's lease plan", () => {
  test('defaults at T = 10 s: margin 1 s, confirmations every 1 s, SIGKILL 100 ms before the deadline, grace 3 s of the 6.9 s that fit', () => {
    expect(planLease(10_000, 1000, undefined)).toEqual({ sessionTimeout: 10_000, leaseMargin: 1000, confirmEvery: 1000, killLead: 100, grace: 3000 });
    expect(maxGrace(10_000, 1000)).toBe(6900);
  });

  test('the defaults scale with T, and a disconnection of up to about half of T leaves the command alone', () => {
    for (const T of [2000, 4000, 10_000, 30_000]) {
      const plan = planLease(T, Math.round(T / 10), undefined);
      expect(plan.shortenedFrom).toBeUndefined();
      // Time from the last confirmation a disconnection can follow, to SIGTERM.
      const untouched = T - plan.leaseMargin - plan.killLead - plan.grace - plan.confirmEvery;
      expect(untouched).toBeGreaterThanOrEqual(T * 0.45);
    }
  });

  test('a grace that does not fit is shortened to what does, and says from what', () => {
    expect(planLease(3000, 300, 60_000)).toMatchObject({ grace: 2000, shortenedFrom: 60_000 });
    expect(planLease(3000, 300, 2000)).not.toHaveProperty('shortenedFrom');
    // T - M - kill lead - 2 confirmation intervals: 1000 - 499 - 100 - 2 x 100.
    expect(planLease(1000, 499, 500)).toMatchObject({ grace: 201, killLead: 100, shortenedFrom: 500 });
    // A margin that leaves no room (the CLI refuses one of T/2 or more): SIGTERM and SIGKILL together.
    expect(planLease(1000, 900, undefined).grace).toBe(0);
  });

  test('the kill lead is at most half the margin', () => {
    expect(planLease(2000, 60, undefined).killLead).toBe(30);
  });
});

describe('--auth and $ZK_AUTH', () => {
  const parsed = (...argv: string[]) => parse(argv, {});

  test('SCHEME:CREDENTIALS splits at the first colon; the flag wins over the environment', () => {
    expect(authOption(parsed('--auth', 'digest:ops:pa:ss'), {})).toEqual({ scheme: 'digest', credentials: 'ops:pa:ss' });
    expect(authOption(parsed(), { ZK_AUTH: 'digest:env:x' })).toEqual({ scheme: 'digest', credentials: 'env:x' });
    expect(authOption(parsed('--auth', 'ip:127.0.0.1'), { ZK_AUTH: 'digest:env:x' })).toEqual({ scheme: 'ip', credentials: '127.0.0.1' });
    expect(authOption(parsed(), {})).toBeUndefined();
    expect(authOption(parsed(), { ZK_AUTH: '' })).toBeUndefined();
    expect(sessionOptions(parsed('--auth', 'digest:a:b', '--connect', 'h:1'), {})).toEqual({ connect: 'h:1', connectTimeout: 10_000, auth: { scheme: 'digest', credentials: 'a:b' } });
    expect(sessionOptions(parsed(), {})).not.toHaveProperty('auth');
  });

  test.each([['no colon', 'digestsecret'], ['no scheme', ':secret'], ['no credentials', 'sch:'], ['empty', '']])('%s is bad usage, and the value is not in the message', (_why, value) => {
    for (const [argv, env] of [[['--auth', value], {}], [[], { ZK_AUTH: value || 'x' }]] as const) {
      let error: unknown;
      try {
        authOption(parsed(...argv), env);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(UsageError);
      const message = (error as Error).message;
      expect(message).toMatch(/(--auth|\$ZK_AUTH) expects SCHEME:CREDENTIALS/);
      if (value.length > 1) expect(message).not.toContain(value);
    }
  });
});

describe("run's options are checked before anything connects", () => {
  async function run(...argv: string[]): Promise<{ code: number; stderr: string }> {
    const err: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (s: string) => err.push(s) }, env: {} } as unknown as CliIo;
    const code = await main(['run', '/x', '--connect', '127.0.0.1:1', ...argv, '--', 'true'], io);
    return { code, stderr: err.join('') };
  }

  test.each([
    [['--lease-margin', '5000'], '--lease-margin must be less than half of the session timeout (10000 ms)'],
    [['--session-timeout', '2000', '--lease-margin', '1000'], 'less than half of the session timeout (2000 ms)'],
    [['--suspended-policy', 'lax'], '--suspended-policy expects lease or strict'],
    [['--grace', '0'], '--grace expects a positive whole number'],
    [['--lease-margin', '1.5'], '--lease-margin expects a positive whole number'],
    [['--metrics', '9464'], '--metrics expects HOST:PORT'],
    [['--metrics', '127.0.0.1:65536'], '--metrics expects HOST:PORT'],
  ])('%j is bad usage (exit 2)', async (argv, message) => {
    const { code, stderr } = await run(...argv);
    expect({ code, stderr }).toEqual({ code: 2, stderr: expect.stringContaining(message) });
  });
});

describe('--metrics HOST:PORT', () => {
  const listen = (value: string) => listenOption(parse(['--metrics', value], { metrics: { type: 'string' } }), 'metrics');

  test('a name or an IPv4 address, or an IPv6 address in brackets; port 0 lets the system choose', () => {
    expect(listen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(listen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(listen('metrics.local:65535')).toEqual({ host: 'metrics.local', port: 65_535 });
    expect(listen('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(listen('[::]:9464')).toEqual({ host: '::', port: 9464 });
    expect(listenOption(parse([], { metrics: { type: 'string' } }), 'metrics')).toBeUndefined();
  });

  test.each(['9464', ':9464', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:94a4', '::1:9464', '[::1]', 'host:9464/metrics', 'http://h:9464', ' h:1', ''])('%j is bad usage', (value) => {
    expect(() => listen(value)).toThrow(UsageError);
    expect(() => listen(value)).toThrow(`--metrics expects HOST:PORT (for example 127.0.0.1:9464, a pod IP such as 10.1.2.3:9464, or [::1]:9464; port 0: any free port), got "${value}"`);
  });
});

describe('step-down against an ensemble that does not answer', () => {
  test('--timeout runs out while connecting: exit 3 (unreachable), not 4 (did not step down)', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused over and over.
    const err: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (s: string) => err.push(s) }, env: {} } as unknown as CliIo;
    const code = await main(['step-down', '/x', '--connect', '127.0.0.1:1', '--timeout', '1500'], io);
    expect({ code, stderr: err.join('') }).toEqual({ code: 3, stderr: expect.stringMatching(/cannot reach ZooKeeper at 127\.0\.0\.1:1 within 1500 ms.*\[UNREACHABLE\]/) });
  });
});

describe('--tls-ca, --tls-cert, --tls-key and $ZK_TLS_*', () => {
  let certs: CertificateSet;
  beforeAll(async () => {
    certs = await makeCertificateSet();
  }, 60_000);
  afterAll(() => certs?.remove());
  const parsed = (...argv: string[]) => parse(argv, {});

  test('each flag wins over its variable; the passphrase comes from $ZK_TLS_PASSPHRASE alone; none of them: plaintext', () => {
    expect(tlsOption(parsed(), {})).toBeUndefined();
    expect(tlsOption(parsed(), { ZK_TLS_CA: '' })).toBeUndefined();
    expect(tlsOption(parsed('--tls-ca', certs.ca), {})).toEqual({ ca: certs.ca });
    expect(tlsOption(parsed('--tls-ca', certs.ca), { ZK_TLS_CA: certs.otherCa, ZK_TLS_CERT: certs.cert, ZK_TLS_KEY: certs.key })).toEqual({ ca: certs.ca, cert: certs.cert, key: certs.key });
    expect(tlsOption(parsed('--tls-cert', certs.cert, '--tls-key', certs.encryptedKey), { ZK_TLS_CA: certs.ca, ZK_TLS_PASSPHRASE: certs.passphrase })).toEqual({
      ca: certs.ca,
      cert: certs.cert,
      key: certs.encryptedKey,
      passphrase: certs.passphrase,
    });
    expect(sessionOptions(parsed('--connect', 'h:1', '--tls-ca', certs.ca), {})).toEqual({ connect: 'h:1', connectTimeout: 10_000, tls: { ca: certs.ca } });
  });

  async function cli(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
    const err: string[] = [];
    // A real stream: `run` logs through winston.
    const stderr = new PassThrough().on('data', (chunk: Buffer) => err.push(chunk.toString()));
    const io = { stdout: { write: () => true }, stderr, env } as unknown as CliIo;
    // Port 1: were anything to connect, it would be refused (exit 3), not a usage error.
    const code = await main(argv, io);
    return { code, stderr: err.join('') };
  }

  test.each([
    ['a missing CA', ['--tls-ca', '/nonexistent/ca.pem'], {}, '--tls-ca (/nonexistent/ca.pem): no such file [TLS_CONFIG]'],
    ['a key as the CA', ['--tls-ca', 'KEY'], {}, 'holds no PEM certificate'],
    ['a key without a certificate', ['--tls-ca', 'CA', '--tls-key', 'KEY'], {}, 'is given without --tls-cert'],
    ['a certificate without a key (from the environment)', [], { ZK_TLS_CA: 'CA', ZK_TLS_CERT: 'CERT' }, 'is given without --tls-key'],
    ['an encrypted key without $ZK_TLS_PASSPHRASE', ['--tls-ca', 'CA', '--tls-cert', 'CERT', '--tls-key', 'ENCRYPTED'], {}, 'encrypted: give $ZK_TLS_PASSPHRASE'],
  ])('%s: exit 2 for every command, before connecting', async (_what, argv, env, message) => {
    const files: Record<string, string> = { CA: certs.ca, CERT: certs.cert, KEY: certs.key, ENCRYPTED: certs.encryptedKey };
    const real = (value: string): string => files[value] ?? value;
    const realEnv = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, real(value)]));
    for (const command of [['participants', '/x'], ['leader', '/x'], ['step-down', '/x'], ['run', '/x', '--once']]) {
      const tail = command[0] === 'run' ? ['--', 'true'] : [];
      const result = await cli([...command, ...argv.map(real), '--connect', '127.0.0.1:1', '--timeout', '1000', ...tail], realEnv);
      expect({ command: command[0], ...result }).toEqual({ command: command[0], code: 2, stderr: expect.stringContaining(message) });
    }
  });
});
