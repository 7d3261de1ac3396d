/**
 * The documentation is for users, so what it shows must be true. It is README.md (the door),
 * CONTRIBUTING.md and every page under docs/. Across all of them:
 * - every example is a file under spec/examples (compiled by the build, so it type-checks against
 *   the real API; the Prometheus YAML is checked against a live /metrics by
 *   spec/integration/metrics.test.ts), shown verbatim, and every example file is shown somewhere;
 *   a ts or yaml fence is always such an example, never a snippet that can rot;
 * - every `npm run` script and every `zk-election` command named exists (so in prose, write "the
 *   library", not "zk-election <verb>");
 * - every relative link resolves to a file, and every #anchor to a heading of its page;
 * - every repository path named in a code span exists;
 * - every page under docs/ is linked from README.md or docs/README.md;
 * - no placeholder is left; README.md stays short (at most 12 KB).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };

function markdownUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return markdownUnder(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** Every page checked here, by path from the repository root. */
const pages = ['README.md', 'CONTRIBUTING.md', ...markdownUnder('docs').sort()];
const text = new Map(pages.map((page) => [page, readFileSync(join(root, page), 'utf8')]));
const all = [...text.values()].join('\n');

/** A page without its fenced code blocks (their `#` lines are not headings, their brackets not links). */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, '');
}

/** The anchors GitHub gives a page's headings: lowercase, punctuation but `-` dropped, spaces to `-`, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const slug = heading!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

test('the pages are README.md, CONTRIBUTING.md and docs/, with an index', () => {
  expect(pages).toEqual(expect.arrayContaining(['README.md', 'CONTRIBUTING.md', 'docs/README.md']));
  expect(pages.length).toBeGreaterThanOrEqual(8);
});

test('README.md is the door, not the house: at most 12 KB', () => {
  expect(Buffer.byteLength(text.get('README.md')!)).toBeLessThanOrEqual(12 * 1024);
});

test('every example is the example file it names, verbatim, and every example file is shown', () => {
  const shown: string[] = [];
  for (const [page, markdown] of text) {
    const markers = [...markdown.matchAll(/^<!-- example: (\S+) -->/gm)].length;
    const examples = [...markdown.matchAll(/^<!-- example: (\S+) -->\n```(?:ts|yaml)\n([\s\S]*?)^```$/gm)];
    // A marker not followed at once by its fence would be skipped silently: not allowed.
    expect({ page, markers }).toEqual({ page, markers: examples.length });
    // Code in a language the build compiles or a test parses is always an example file, never a snippet that can rot.
    const fences = [...markdown.matchAll(/^```(?:ts|typescript|js|javascript|yaml|yml)$/gm)].length;
    expect({ page, fences }).toEqual({ page, fences: examples.length });
    for (const [, file, body] of examples) {
      expect({ page, file, body }).toEqual({ page, file, body: readFileSync(join(root, file!), 'utf8') });
      shown.push(file!);
    }
  }
  const files = readdirSync(`${root}spec/examples`).filter((name) => /\.(ts|yml)$/.test(name)).map((name) => `spec/examples/${name}`);
  expect(files.length).toBeGreaterThanOrEqual(8);
  expect([...new Set(shown)].sort()).toEqual(files.sort());
});

test('every npm script and CLI command the pages name exists', async () => {
  const scripts = [...all.matchAll(/npm run ([a-z][a-z:-]*[a-z])/g)].map((m) => m[1]!);
  expect(scripts).toEqual(expect.arrayContaining(['demo', 'bench', 'chaos', 'docs', 'stress-native']));
  for (const script of new Set(scripts)) expect({ script, exists: script in pkg.scripts }).toEqual({ script, exists: true });
  const { main } = await import('../../lib/cli/main.js');
  const commands = new Set([...all.matchAll(/zk-election ([a-z][a-z-]*[a-z])\b/g)].map((m) => m[1]!));
  expect([...commands]).toEqual(expect.arrayContaining(['participants', 'leader', 'run', 'step-down', 'demo', 'server']));
  for (const command of commands) {
    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, env: {} } as never;
    expect({ command, code: await main([command, '--help'], io) }).toEqual({ command, code: 0 });
  }
});

test('every relative link resolves to a file, and every #anchor to a heading of its page', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const [page, markdown] of text) {
    for (const [, target] of prose(markdown).matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target!)) continue; // https:, mailto:
      checked += 1;
      const [file, anchor] = target!.split('#', 2) as [string, string | undefined];
      const resolved = file === '' ? page : normalize(join(dirname(page), decodeURIComponent(file)));
      if (resolved.startsWith('..') || !existsSync(join(root, resolved))) {
        broken.push(`${page}: ${target} (no file ${resolved})`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!resolved.endsWith('.md') || statSync(join(root, resolved)).isDirectory()) {
        broken.push(`${page}: ${target} (an anchor into a file that is not a page)`);
        continue;
      }
      const linked = text.get(resolved) ?? readFileSync(join(root, resolved), 'utf8');
      if (!anchors(linked).has(anchor)) broken.push(`${page}: ${target} (no heading #${anchor} in ${resolved})`);
    }
  }
  expect(broken).toEqual([]);
  expect(checked).toBeGreaterThan(50);
});

test('the anchors are GitHub\'s', () => {
  expect([...anchors('# zk-election\n## `zk-election run`: the command never outlives its lease\n## FAQ\n## FAQ\n```sh\n# not a heading\n```\n### Errors: `isZkElectionError`, codes\n')]).toEqual([
    'zk-election',
    'zk-election-run-the-command-never-outlives-its-lease',
    'faq',
    'faq-1',
    'errors-iszkelectionerror-codes',
  ]);
});

test('every repository path named in a code span exists', () => {
  const missing: string[] = [];
  for (const [page, markdown] of text) {
    for (const [, path] of markdown.matchAll(/`((?:lib|spec|bench|stress|docker|docs)\/[^`\s*<>]*)`/g)) {
      if (!existsSync(join(root, path!))) missing.push(`${page}: ${path}`);
    }
  }
  expect(missing).toEqual([]);
});

test('every page under docs/ is linked from README.md or docs/README.md', () => {
  const linked = new Set<string>();
  for (const index of ['README.md', 'docs/README.md']) {
    for (const [, target] of prose(text.get(index)!).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      linked.add(relative(root, join(root, dirname(index), target!)));
    }
  }
  const unlinked = pages.filter((page) => page.startsWith('docs/') && page !== 'docs/README.md' && !linked.has(page));
  expect(unlinked).toEqual([]);
  expect(linked).toContain('docs/README.md');
  expect(linked).toContain('CONTRIBUTING.md');
});

test('no placeholder is left', () => {
  for (const [page, markdown] of text) {
    expect({ page, placeholder: markdown.match(/DEMO_OUTPUT|FAILURE_TABLE|BENCH_TABLE|TODO|TBD|FIXME|XXX/)?.[0] }).toEqual({ page, placeholder: undefined });
  }
});
