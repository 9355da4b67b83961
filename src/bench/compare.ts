/**
 * The regression gate: compares every entry's ratio to its reference with the
 * same entry of a baseline report. Ratios, not absolute figures, so a
 * baseline made on one machine still means something on another. Entries on
 * one side only, or whose reference tool differs, are reported, never failed.
 */
import { BluxError } from '../errors.js';
import type { BenchEntry } from './types.js';
import { formatRatio } from './units.js';

/** What a baseline needs per entry; a full report has more. */
export type ComparableEntry = Pick<BenchEntry, 'id' | 'reference' | 'label' | 'ratio'>;

export interface RatioChange {
  readonly id: string;
  readonly baseline: number;
  readonly current: number;
  /** current / baseline - 1: -0.4 is 40% slower relative to the reference. */
  readonly change: number;
}

export interface Comparison {
  readonly tolerance: number;
  readonly regressions: readonly RatioChange[];
  readonly improvements: readonly RatioChange[];
  readonly within: number;
  readonly onlyInBaseline: readonly string[];
  readonly onlyInCurrent: readonly string[];
  /** Entries not compared because their case's reference is another tool (e.g. openssl vs sha256sum). */
  readonly referenceChanged: readonly string[];
}

export const DEFAULT_TOLERANCE = 0.25;

export function checkTolerance(tolerance: number): number {
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance >= 1) {
    throw new BluxError('invalid-argument', `--tolerance must be a number from 0 to below 1 (a fraction: 0.25 = 25%), got ${tolerance}`);
  }
  return tolerance;
}

const isReference = (e: ComparableEntry): boolean => e.id === e.reference;

export function compareReports(baseline: readonly ComparableEntry[], current: readonly ComparableEntry[], tolerance = DEFAULT_TOLERANCE): Comparison {
  checkTolerance(tolerance);
  const byId = (entries: readonly ComparableEntry[]) => new Map(entries.map((e) => [e.id, e]));
  const base = byId(baseline);
  const now = byId(current);
  const regressions: RatioChange[] = [];
  const improvements: RatioChange[] = [];
  const referenceChanged: string[] = [];
  let within = 0;

  for (const entry of current) {
    const old = base.get(entry.id);
    if (old === undefined || isReference(entry)) continue;
    if (base.get(old.reference)?.label !== now.get(entry.reference)?.label) {
      referenceChanged.push(entry.id);
      continue;
    }
    const change: RatioChange = { id: entry.id, baseline: old.ratio, current: entry.ratio, change: entry.ratio / old.ratio - 1 };
    // A regression is a ratio below (1 - tolerance) of the baseline's; exactly at the edge passes.
    if (entry.ratio < old.ratio * (1 - tolerance)) regressions.push(change);
    else if (entry.ratio > old.ratio * (1 + tolerance)) improvements.push(change);
    else within++;
  }
  return {
    tolerance,
    regressions,
    improvements,
    within,
    onlyInBaseline: baseline.filter((e) => !now.has(e.id)).map((e) => e.id),
    onlyInCurrent: current.filter((e) => !base.has(e.id)).map((e) => e.id),
    referenceChanged,
  };
}

function describeChange(c: RatioChange): string {
  const percent = `${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)}%`;
  return `${c.id}: ratio ${formatRatio(c.current)} vs ${formatRatio(c.baseline)} in the baseline (${percent})`;
}

/** Up to this many ids are listed one by one; more (a whole suite not run) are counted per suite. */
const MAX_LISTED_IDS = 8;

function summarizeIds(ids: readonly string[]): string {
  if (ids.length <= MAX_LISTED_IDS) return ids.join(', ');
  const perSuite = new Map<string, number>();
  for (const id of ids) {
    const suite = id.split('/')[0]!;
    perSuite.set(suite, (perSuite.get(suite) ?? 0) + 1);
  }
  return `${ids.length} entries: ${[...perSuite].map(([suite, n]) => `${suite} (${n})`).join(', ')}`;
}

/** The comparison in words, for the terminal: regressions first. */
export function comparisonLines(comparison: Comparison, baselineFile: string): string[] {
  const pct = `${(comparison.tolerance * 100).toFixed(0)}%`;
  const lines = [
    comparison.regressions.length === 0
      ? `compare with ${baselineFile}: no ratio regressed by more than ${pct} (${comparison.within} within, ${comparison.improvements.length} improved)`
      : `compare with ${baselineFile}: ${comparison.regressions.length} ratio(s) regressed by more than ${pct}:`,
  ];
  for (const c of comparison.regressions) lines.push(`  REGRESSED ${describeChange(c)}`);
  for (const c of comparison.improvements) lines.push(`  improved  ${describeChange(c)}`);
  const listed = (title: string, ids: readonly string[]) => {
    if (ids.length > 0) lines.push(`  ${title} (not compared): ${summarizeIds(ids)}`);
  };
  listed('only in the baseline', comparison.onlyInBaseline);
  listed('new in this run', comparison.onlyInCurrent);
  listed('reference tool differs', comparison.referenceChanged);
  return lines;
}
