/**
 * Run-to-run spread of the ratios over several reports of the same machine:
 * what the `--compare` tolerance must stay above. A regression is a ratio
 * below (1 - tolerance) x the baseline's, and the baseline can come from any
 * run, so the worst case of noise alone is the lowest ratio against the
 * highest: the drop 1 - min/max per entry.
 */
import { BluxError } from '../errors.js';
import type { ComparableEntry } from './compare.js';

export interface EntrySpread {
  readonly id: string;
  readonly runs: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
  /** 1 - min/max: the largest drop noise alone produced between two of the runs. */
  readonly worst_drop: number;
}

export interface SpreadSummary {
  readonly reports: number;
  readonly entries: readonly EntrySpread[];
  /** The largest worst_drop over all entries. */
  readonly worst_drop: number;
  readonly worst_entry: string | null;
}

function median(sorted: readonly number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Entries of the first report found in at least two reports; references (ratio 1 by definition) are left out. */
export function ratioSpread(reports: readonly (readonly ComparableEntry[])[]): SpreadSummary {
  if (reports.length < 2) throw new BluxError('invalid-argument', `the spread needs at least 2 reports, got ${reports.length}`);
  const ratios = new Map<string, number[]>();
  for (const report of reports) {
    for (const entry of report) {
      if (entry.id === entry.reference) continue;
      const list = ratios.get(entry.id) ?? [];
      list.push(entry.ratio);
      ratios.set(entry.id, list);
    }
  }
  const entries: EntrySpread[] = [];
  for (const [id, values] of ratios) {
    if (values.length < 2) continue;
    const sorted = [...values].sort((a, b) => a - b);
    const min = sorted[0]!;
    const max = sorted[sorted.length - 1]!;
    entries.push({ id, runs: values.length, min, median: median(sorted), max, worst_drop: 1 - min / max });
  }
  const worst = entries.reduce<EntrySpread | null>((w, e) => (w === null || e.worst_drop > w.worst_drop ? e : w), null);
  return { reports: reports.length, entries, worst_drop: worst?.worst_drop ?? 0, worst_entry: worst?.id ?? null };
}

/** A markdown table of the spread, worst first. */
export function spreadMarkdown(summary: SpreadSummary): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const lines = [
    '| Entry | Runs | Min ratio | Median ratio | Max ratio | Worst drop (1 - min/max) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const e of [...summary.entries].sort((a, b) => b.worst_drop - a.worst_drop)) {
    lines.push(`| ${e.id} | ${e.runs} | ${e.min.toPrecision(3)} | ${e.median.toPrecision(3)} | ${e.max.toPrecision(3)} | ${pct(e.worst_drop)} |`);
  }
  return lines.join('\n');
}
