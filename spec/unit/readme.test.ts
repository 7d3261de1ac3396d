/**
 * README is for users, so what it shows must be true: every example in it is a file under
 * spec/examples (compiled by the build, so it type-checks against the real API; the Prometheus
 * YAML is checked against a live /metrics by spec/integration/metrics.test.ts), shown verbatim;
 * every `npm run` script and every CLI command it names exists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };

test('every README example is the example file it names, verbatim, and every example file is shown', () => {
  const shown = [...readme.matchAll(/<!-- example: (\S+) -->\n```(?:ts|yaml)\n([\s\S]*?)```/g)];
  expect(shown.length).toBeGreaterThanOrEqual(4);
  for (const [, file, body] of shown) {
    expect({ file, body }).toEqual({ file, body: readFileSync(`${root}${file!}`, 'utf8') });
  }
  const files = readdirSync(`${root}spec/examples`).filter((name) => /\.(ts|yml)$/.test(name)).map((name) => `spec/examples/${name}`);
  expect(shown.map(([, file]) => file).sort()).toEqual(files.sort());
});

test('every npm script and CLI command README names exists', async () => {
  const scripts = [...readme.matchAll(/npm run ([a-z-]+)/g)].map((m) => m[1]!);
  expect(scripts).toEqual(expect.arrayContaining(['demo', 'bench', 'chaos', 'docs']));
  for (const script of scripts) expect(Object.keys(pkg.scripts)).toContain(script);
  const { main } = await import('../../lib/cli/main.js');
  const commands = new Set([...readme.matchAll(/zk-election ([a-z][a-z-]*[a-z])\b/g)].map((m) => m[1]!));
  commands.delete('bench');
  expect([...commands]).toEqual(expect.arrayContaining(['participants', 'leader', 'run', 'step-down', 'demo', 'server']));
  for (const command of commands) {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {} } as never;
    expect({ command, code: await main([command, '--help'], io) }).toEqual({ command, code: 0 });
  }
});

test('no placeholder is left in README', () => {
  expect(readme).not.toMatch(/DEMO_OUTPUT|FAILURE_TABLE|BENCH_TABLE|TODO/);
});
