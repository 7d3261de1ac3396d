/**
 * What keeps objects alive, read from V8 heap snapshots (node's v8.writeHeapSnapshot, as
 * bench/leak-table.ts --snapshots DIR writes them): the instances of each class in a snapshot taken
 * before a churn and one taken after, and for instances that should be dead, the chain of retainers
 * from a GC root (the shortest, as DevTools shows it): which listener, map, closure, native
 * handle or timer holds what.
 *
 *   node dist/bench/heap-retainers.js BEFORE.heapsnapshot AFTER.heapsnapshot [--classes A,B] [--chains N]
 *
 * Default classes: Election, Leadership, Session, Candidacy, LeaderObserver, ZkClient. Then the kinds
 * of node that grew most (--top N), with the retainers of the newest of the first three.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** A parsed snapshot with retainers and distances from the root. */
class Heap {
  readonly count: number;
  readonly #raw: RawSnapshot;
  readonly #nf: number;
  readonly #ef: number;
  readonly #firstEdge: Uint32Array;
  /** Retaining edges per node: [from node, edge index] pairs, in CSR form. */
  readonly #retainerStart: Uint32Array;
  readonly #retainers: Uint32Array;
  readonly distance: Int32Array;

  constructor(file: string) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as RawSnapshot;
    this.#raw = raw;
    this.#nf = raw.snapshot.meta.node_fields.length;
    this.#ef = raw.snapshot.meta.edge_fields.length;
    this.count = raw.nodes.length / this.#nf;
    this.#firstEdge = new Uint32Array(this.count + 1);
    for (let i = 0; i < this.count; i += 1) this.#firstEdge[i + 1] = this.#firstEdge[i]! + raw.nodes[i * this.#nf + 4]!;
    const counts = new Uint32Array(this.count + 1);
    this.#forEachEdge((_from, to) => (counts[to + 1]! += 1));
    for (let i = 0; i < this.count; i += 1) counts[i + 1]! += counts[i]!;
    this.#retainerStart = counts.slice();
    this.#retainers = new Uint32Array(counts[this.count]! * 2);
    const fill = counts.slice();
    this.#forEachEdge((from, to, edge) => {
      const at = fill[to]!++;
      this.#retainers[at * 2] = from;
      this.#retainers[at * 2 + 1] = edge;
    });
    this.distance = this.#distances();
  }

  #forEachEdge(visit: (from: number, to: number, edge: number) => void): void {
    for (let from = 0; from < this.count; from += 1) {
      for (let e = this.#firstEdge[from]!; e < this.#firstEdge[from + 1]!; e += 1) {
        if (this.edgeType(e) === 'weak') continue;
        visit(from, this.#raw.edges[e * this.#ef + 2]! / this.#nf, e);
      }
    }
  }

  #distances(): Int32Array {
    const distance = new Int32Array(this.count).fill(-1);
    const queue = new Uint32Array(this.count);
    let head = 0;
    let tail = 0;
    distance[0] = 0;
    queue[tail++] = 0;
    while (head < tail) {
      const from = queue[head++]!;
      for (let e = this.#firstEdge[from]!; e < this.#firstEdge[from + 1]!; e += 1) {
        if (this.edgeType(e) === 'weak') continue;
        const to = this.#raw.edges[e * this.#ef + 2]! / this.#nf;
        if (distance[to] !== -1) continue;
        distance[to] = distance[from]! + 1;
        queue[tail++] = to;
      }
    }
    return distance;
  }

  type(node: number): string {
    return this.#raw.snapshot.meta.node_types[0][this.#raw.nodes[node * this.#nf]!] ?? '?';
  }
  name(node: number): string {
    return this.#raw.strings[this.#raw.nodes[node * this.#nf + 1]!] ?? '?';
  }
  id(node: number): number {
    return this.#raw.nodes[node * this.#nf + 2]!;
  }
  edgeType(edge: number): string {
    return this.#raw.snapshot.meta.edge_types[0][this.#raw.edges[edge * this.#ef]!] ?? '?';
  }
  edgeName(edge: number): string {
    const type = this.edgeType(edge);
    const value = this.#raw.edges[edge * this.#ef + 1]!;
    return type === 'element' || type === 'hidden' ? `[${value}]` : (this.#raw.strings[value] ?? '?');
  }

  /** Live instances (reachable from the root) of a class: objects named after it. */
  instances(className: string): number[] {
    const found: number[] = [];
    // esbuild renames a class whose static block refers to it (Session is `_Session` in the bundle).
    const names = new Set([className, `_${className}`]);
    for (let i = 0; i < this.count; i += 1) if (this.distance[i]! > 0 && this.type(i) === 'object' && names.has(this.name(i))) found.push(i);
    return found;
  }

  /** Live nodes by `type name`: how many and their own bytes. */
  census(): Map<string, { count: number; bytes: number }> {
    const totals = new Map<string, { count: number; bytes: number }>();
    for (let i = 0; i < this.count; i += 1) {
      if (this.distance[i]! <= 0) continue;
      const key = `${this.type(i)} ${this.type(i) === 'string' ? '' : this.name(i).slice(0, 60)}`;
      const entry = totals.get(key) ?? { count: 0, bytes: 0 };
      entry.count += 1;
      entry.bytes += this.#raw.nodes[i * this.#nf + 3]!;
      totals.set(key, entry);
    }
    return totals;
  }

  /** Live instances of `type name` (as census() keys them), newest first. */
  ofKind(key: string): number[] {
    const found: number[] = [];
    for (let i = 0; i < this.count; i += 1) if (this.distance[i]! > 0 && `${this.type(i)} ${this.type(i) === 'string' ? '' : this.name(i).slice(0, 60)}` === key) found.push(i);
    return found.sort((a, b) => this.id(b) - this.id(a));
  }

  /** The shortest chain from the root to `node`: each step is `holder --edge-->`. */
  chain(node: number): string[] {
    const steps: string[] = [];
    let at = node;
    while (at !== 0 && steps.length < 40) {
      let next = -1;
      let via = -1;
      for (let r = this.#retainerStart[at]!; r < this.#retainerStart[at + 1]!; r += 1) {
        const from = this.#retainers[r * 2]!;
        if (this.distance[from] === this.distance[at]! - 1) {
          next = from;
          via = this.#retainers[r * 2 + 1]!;
          break;
        }
      }
      if (next === -1) break;
      steps.push(`${this.describe(next)} --${this.edgeType(via)} ${this.edgeName(via)}-->`);
      at = next;
    }
    return steps.reverse();
  }

  describe(node: number): string {
    const name = this.name(node).replace(/\s+/g, ' ').slice(0, 80);
    return `${this.type(node)} ${name} @${this.id(node)}`;
  }
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { classes: { type: 'string' }, chains: { type: 'string' }, top: { type: 'string' } } });
const [beforeFile, afterFile] = positionals;
if (!beforeFile || !afterFile) {
  process.stderr.write('usage: node dist/bench/heap-retainers.js BEFORE.heapsnapshot AFTER.heapsnapshot [--classes A,B] [--chains N]\n');
  process.exit(2);
}
const classes = (values.classes ?? 'Election,Leadership,Session,Candidacy,LeaderObserver,ZkClient').split(',');
const chains = Number(values.chains ?? 1);
const before = new Heap(beforeFile);
const after = new Heap(afterFile);
const out: string[] = [`${beforeFile} -> ${afterFile}`];
for (const className of classes) {
  const was = before.instances(className);
  const now = after.instances(className);
  out.push(`${className}: ${was.length} live before, ${now.length} after`);
  if (now.length <= was.length) continue;
  // The newest instances (highest ids) are the ones made by the churn's last cycles.
  const newest = [...now].sort((a, b) => after.id(b) - after.id(a)).slice(0, chains);
  for (const node of newest) {
    out.push(`  retainers of ${after.describe(node)} (distance ${after.distance[node]} from the root):`);
    for (const step of after.chain(node)) out.push(`    ${step}`);
    out.push(`    ${after.describe(node)}`);
  }
}
// What grew most, by kind, with the chain of the newest of the largest few.
const top = Number(values.top ?? 8);
const was = before.census();
const grown = [...after.census()]
  .map(([key, { count, bytes }]) => ({ key, count: count - (was.get(key)?.count ?? 0), bytes: bytes - (was.get(key)?.bytes ?? 0) }))
  .filter((g) => g.bytes > 0)
  .sort((a, b) => b.bytes - a.bytes)
  .slice(0, top);
out.push(`largest growth by kind (live nodes after minus before, own bytes):`);
for (const g of grown) out.push(`  ${g.key.padEnd(64)} ${String(g.count).padStart(7)} nodes ${String(g.bytes).padStart(9)} B`);
for (const g of grown.slice(0, Math.min(3, chains > 0 ? 3 : 0))) {
  const [node] = after.ofKind(g.key);
  if (node === undefined) continue;
  out.push(`  retainers of the newest ${after.describe(node)}:`);
  for (const step of after.chain(node)) out.push(`    ${step}`);
}
process.stdout.write(`${out.join('\n')}\n`);
