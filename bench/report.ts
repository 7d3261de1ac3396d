/** The bench's table (stdout) and JSON document: one row per figure and setting. */
import { summarize, type Summary } from './stats.js';

export type Verdict = 'yes' | 'no' | 'median only' | '-';

export interface Row {
  figure: string;
  setting: string;
  trials: number;
  median: string;
  p90: string;
  p99: string;
  note: string;
  target: string;
  met: Verdict;
}

export interface Figure {
  figure: string;
  setting: string;
  unit: string;
  summary?: Summary;
  samples?: unknown[];
  target?: string;
  met?: Verdict;
  [key: string]: unknown;
}

/** Met when p99 is within the bound; 'median only' when just the median is. */
export function verdictUpTo(summary: Summary, bound: number): Verdict {
  if (summary.p99 <= bound) return 'yes';
  return summary.median <= bound ? 'median only' : 'no';
}

export class Report {
  readonly rows: Row[] = [];
  readonly figures: Figure[] = [];

  /** A row whose three columns summarise `samples`, each shown with `format`. */
  distribution(
    base: { figure: string; setting: string; unit: string; note?: string; target?: string; met?: Verdict; extra?: Record<string, unknown> },
    samples: readonly number[],
    format: (value: number) => string,
  ): Summary {
    const summary = summarize(samples);
    this.rows.push({
      figure: base.figure,
      setting: base.setting,
      trials: summary.n,
      median: format(summary.median),
      p90: format(summary.p90),
      p99: format(summary.p99),
      note: base.note ?? '',
      target: base.target ?? '',
      met: base.met ?? '-',
    });
    this.figures.push({ figure: base.figure, setting: base.setting, unit: base.unit, summary, samples: [...samples], ...(base.target ? { target: base.target, met: base.met ?? '-' } : {}), ...base.extra });
    return summary;
  }

  /** A row with a single value instead of a distribution. */
  single(base: { figure: string; setting: string; unit: string; trials: number; value: string; note?: string; target?: string; met?: Verdict; extra?: Record<string, unknown> }): void {
    this.rows.push({ figure: base.figure, setting: base.setting, trials: base.trials, median: base.value, p90: '', p99: '', note: base.note ?? '', target: base.target ?? '', met: base.met ?? '-' });
    this.figures.push({ figure: base.figure, setting: base.setting, unit: base.unit, value: base.value, ...(base.target ? { target: base.target, met: base.met ?? '-' } : {}), ...base.extra });
  }

  render(header: readonly string[]): string {
    const columns: Array<[keyof Row, string]> = [
      ['figure', 'Figure'],
      ['setting', 'Setting'],
      ['trials', 'Trials'],
      ['median', 'Median'],
      ['p90', 'p90'],
      ['p99', 'p99'],
      ['note', 'Notes'],
      ['target', 'Target'],
      ['met', 'Met'],
    ];
    const figureNumber = (row: Row): number => Number.parseInt(row.figure, 10);
    const rows = [...this.rows].sort((a, b) => figureNumber(a) - figureNumber(b));
    const cells = rows.map((row) => columns.map(([key]) => String(row[key])));
    const widths = columns.map(([, title], i) => Math.max(title.length, ...cells.map((line) => line[i]!.length)));
    const line = (values: string[]): string => values.map((value, i) => value.padEnd(widths[i]!)).join(' | ').trimEnd();
    const rule = widths.map((width) => '-'.repeat(width)).join('-|-');
    return [...header, '', line(columns.map(([, title]) => title)), rule, ...cells.map(line), ''].join('\n');
  }
}
