// The regression gate of `blux-reg bench --compare`: ratios against a baseline, the tolerance edges,
// entries on one side only, a changed reference tool, and how a bad baseline file is refused.
import { describe, expect, it } from 'vitest';

import { compareReports, comparisonLines, checkTolerance, type ComparableEntry } from '../src/bench/compare.js';
import { parseBaseline } from '../src/bench/baseline-file.js';
import { ratioSpread, spreadMarkdown } from '../src/bench/spread.js';
import { thrown } from './helpers/errors.js';

function entry(id: string, ratio: number, referenceLabel = 'sha256sum'): ComparableEntry[] {
  const caseId = id.split('/').slice(0, 2).join('/');
  return [
    { id: `${caseId}/reference`, reference: `${caseId}/reference`, label: referenceLabel, ratio: 1 },
    { id, reference: `${caseId}/reference`, label: id.split('/')[2]!, ratio },
  ];
}

const current: ComparableEntry[] = [
  ...entry('sha256/1MiB/native', 1.0, 'node:crypto createHash'),
  ...entry('ed25519/batch1024-distinct/wasm', 2.6, 'sodium-native'),
  ...entry('verify-batch/tree/auto', 4.0),
].filter((e, i, all) => all.findIndex((x) => x.id === e.id) === i);

const scaled = (entries: readonly ComparableEntry[], factor: number): ComparableEntry[] =>
  entries.map((e) => (e.id === e.reference ? e : { ...e, ratio: e.ratio * factor }));

describe('compareReports', () => {
  it('a baseline whose ratios are 2x better than the current ones is a regression of every entry, named', () => {
    const comparison = compareReports(scaled(current, 2), current, 0.25);
    expect(comparison.regressions.map((r) => r.id).sort()).toEqual([
      'ed25519/batch1024-distinct/wasm', 'sha256/1MiB/native', 'verify-batch/tree/auto',
    ]);
    for (const r of comparison.regressions) expect(r.change).toBeCloseTo(-0.5, 10);
    const text = comparisonLines(comparison, 'bench/baseline.json').join('\n');
    expect(text).toContain('3 ratio(s) regressed by more than 25%');
    expect(text).toContain('REGRESSED ed25519/batch1024-distinct/wasm: ratio 2.60x vs 5.20x in the baseline (-50.0%)');
  });

  it('the current report as its own baseline passes, and references are never compared', () => {
    const comparison = compareReports(current, current, 0.25);
    expect(comparison.regressions).toEqual([]);
    expect(comparison.improvements).toEqual([]);
    expect(comparison.within).toBe(3);
    expect(comparisonLines(comparison, 'b.json')[0]).toBe('compare with b.json: no ratio regressed by more than 25% (3 within, 0 improved)');
  });

  it('a ratio exactly at the tolerance edge passes; just below it fails; just above the upper edge is an improvement', () => {
    const base = entry('sha256/64B/wasm', 1.0);
    expect(compareReports(base, scaled(base, 0.75), 0.25).regressions).toEqual([]);
    expect(compareReports(base, scaled(base, 0.7499), 0.25).regressions.map((r) => r.id)).toEqual(['sha256/64B/wasm']);
    expect(compareReports(base, scaled(base, 1.25), 0.25).improvements).toEqual([]);
    expect(compareReports(base, scaled(base, 1.2501), 0.25).improvements.map((r) => r.id)).toEqual(['sha256/64B/wasm']);
    // Tolerance 0: any drop fails.
    expect(compareReports(base, scaled(base, 0.999), 0).regressions).toHaveLength(1);
  });

  it('entries on one side only are listed, not failed', () => {
    const base = [...entry('sha256/64B/js', 1), ...entry('canonical/jcs/core', 0.4, 'JSON.stringify')];
    const now = [...entry('sha256/64B/js', 1), ...entry('merkle/root/native', 3, 'node:crypto')];
    const comparison = compareReports(base, now, 0.25);
    expect(comparison.regressions).toEqual([]);
    expect(comparison.onlyInBaseline).toEqual(['canonical/jcs/reference', 'canonical/jcs/core']);
    expect(comparison.onlyInCurrent).toEqual(['merkle/root/reference', 'merkle/root/native']);
    const text = comparisonLines(comparison, 'b.json').join('\n');
    expect(text).toContain('only in the baseline (not compared): canonical/jcs/reference, canonical/jcs/core');
    expect(text).toContain('new in this run (not compared): merkle/root/reference, merkle/root/native');
  });

  it('many entries on one side only (suites not run) are counted per suite', () => {
    const base = [...current, ...Array.from({ length: 12 }, (_, i) => entry(`sha256/size${i}/native`, 1)).flat()];
    const text = comparisonLines(compareReports(base, current, 0.25), 'b.json').join('\n');
    expect(text).toContain('only in the baseline (not compared): 24 entries: sha256 (24)');
  });

  it('an entry whose case has another reference tool (openssl instead of sha256sum) is not compared', () => {
    const base = entry('verify-batch/tree/auto', 8, 'sha256sum');
    const now = entry('verify-batch/tree/auto', 1, 'openssl dgst -sha256');
    const comparison = compareReports(base, now, 0.25);
    expect(comparison.regressions).toEqual([]);
    expect(comparison.referenceChanged).toEqual(['verify-batch/tree/auto']);
  });

  it('refuses a tolerance outside [0, 1)', () => {
    for (const bad of [-0.1, 1, 2, Number.NaN]) expect(thrown(() => checkTolerance(bad)).code).toBe('invalid-argument');
    expect(checkTolerance(0)).toBe(0);
    expect(checkTolerance(0.4)).toBe(0.4);
  });
});

describe('parseBaseline', () => {
  const report = (entries: unknown): string => JSON.stringify({ format: 'blux-reg/bench-report@1', entries });

  it('reads the entries of a report', () => {
    expect(parseBaseline(report(current), 'b.json')).toEqual(current);
  });

  it('names the file and the problem', () => {
    const cases: [string, RegExp][] = [
      ['{not json', /^b\.json: is not a bench report: not JSON/],
      [JSON.stringify({ format: 'other', entries: [] }), /^b\.json: is not a bench report: expected/],
      [JSON.stringify([1, 2]), /^b\.json: is not a bench report/],
      [report([42]), /^b\.json: entries\[0\] is not an object$/],
      [report([{ id: 'a/b/c', reference: 'a/b/reference', label: 'x' }]), /^b\.json: entries\[0\]\.ratio must be a positive number$/],
      [report([{ id: 'a/b/c', reference: 'a/b/reference', label: 'x', ratio: -1 }]), /entries\[0\]\.ratio must be a positive number/],
      [report([{ reference: 'a/b/reference', label: 'x', ratio: 1 }]), /entries\[0\]\.id must be a string/],
    ];
    for (const [text, message] of cases) {
      const error = thrown(() => parseBaseline(text, 'b.json'));
      expect(error.code).toBe('malformed');
      expect(error.file).toBe('b.json');
      expect(error.message).toMatch(message);
    }
  });
});

describe('ratioSpread', () => {
  it('per entry: min, median, max of the ratio over the runs, and the worst drop 1 - min/max', () => {
    const runs = [1.0, 0.8, 0.9].map((factor) => scaled(current, factor));
    const summary = ratioSpread(runs);
    expect(summary.reports).toBe(3);
    expect(summary.entries.map((e) => e.id).sort()).toEqual(['ed25519/batch1024-distinct/wasm', 'sha256/1MiB/native', 'verify-batch/tree/auto']);
    const wasm = summary.entries.find((e) => e.id === 'ed25519/batch1024-distinct/wasm')!;
    expect(wasm.min).toBeCloseTo(2.08, 10);
    expect(wasm.median).toBeCloseTo(2.34, 10);
    expect(wasm.max).toBeCloseTo(2.6, 10);
    expect(wasm.worst_drop).toBeCloseTo(0.2, 10);
    expect(summary.worst_drop).toBeCloseTo(0.2, 10);
    // A tolerance above the worst drop passes every pair of these runs against each other.
    for (const a of runs) for (const b of runs) expect(compareReports(a, b, 0.21).regressions).toEqual([]);
    expect(spreadMarkdown(summary).split('\n')[2]).toMatch(/^\| \S+ \| 3 \| \S+ \| \S+ \| \S+ \| 20\.0% \|$/);
  });

  it('leaves out entries seen in one run only, and needs two reports', () => {
    const summary = ratioSpread([current, [...current, ...entry('merkle/root/native', 3)]]);
    expect(summary.entries.map((e) => e.id)).not.toContain('merkle/root/native');
    expect(summary.worst_drop).toBe(0);
    expect(thrown(() => ratioSpread([current])).code).toBe('invalid-argument');
  });
});
