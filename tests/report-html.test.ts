/**
 * The HTML audit report (`renderLedgerAuditHtml`) and its entries chart:
 * escaping of attacker-controlled strings, an empty ledger, an invalid one,
 * and charts from one day to years (bucketing, one bar per non-empty bucket).
 * The rendered page is checked in a real browser by tests/browser/audit-report.check.mjs.
 */
import { describe, expect, it } from 'vitest';

import { bucketDays, escapeMarkup, MAX_BARS, niceAxis, renderEntriesChartSvg } from '../src/audit/entries-chart.js';
import { MAX_TABLE_ROWS, renderLedgerAuditHtml } from '../src/audit/report-html.js';
import type { LedgerAuditReport } from '../src/audit/report.js';

/** A report as the audit makes them. */
function report(overrides: Partial<LedgerAuditReport> = {}): LedgerAuditReport {
  return {
    status: 'valid',
    reason: 'ok',
    file: '/var/blux/trust/ledger.jsonl',
    first_bad_line: null,
    torn_last_line: false,
    entries: 7,
    last_hash: 'ab'.repeat(32),
    last_line: 7,
    actions: { sign: 4, event: 3 },
    actors: { alice: 4, bob: 3 },
    first_ts: '2026-01-01T10:00:00+00:00',
    last_ts: '2026-01-03T09:00:00+00:00',
    entries_per_day: { '2026-01-01': 3, '2026-01-02': 1, '2026-01-03': 3 },
    signatures: {
      signed: 7, unsigned: 0, valid: 4, invalid: 0, unverified: 3,
      signers: [
        { actor: 'alice', entries: 4, signed: 4, key: 'trusted', valid: 4, invalid: 0, unverified: 0 },
        { actor: 'bob', entries: 3, signed: 3, key: 'unknown', valid: 0, invalid: 0, unverified: 3 },
      ],
    },
    throughput: { seconds: 0.012, bytes: 2400, entries_per_second: 500, megabytes_per_second: 0.2 },
    backend: 'wasm',
    jobs: 2,
    ...overrides,
  };
}

type Signatures = LedgerAuditReport['signatures'];

/** A signatures block with zeros where not given (signers likewise). */
function signatures(given: Partial<Omit<Signatures, 'signers'>> & { signers?: Array<Partial<Signatures['signers'][number]>> }): Signatures {
  const zero = { signed: 0, unsigned: 0, valid: 0, invalid: 0, unverified: 0 };
  const signers = (given.signers ?? []).map((s) => ({ actor: '', entries: 0, key: 'unknown' as const, ...zero, ...s }));
  return { ...zero, ...given, signers };
}

/** The rect.bar elements of a page: bucket label, count and height. */
function bars(markup: string): Array<{ bucket: string; count: number; height: number }> {
  return [...markup.matchAll(/<rect class="bar" data-bucket="([^"]*)" data-count="(\d+)"[^>]* height="([\d.]+)"/g)]
    .map((m) => ({ bucket: m[1]!, count: Number(m[2]), height: Number(m[3]) }));
}

/** Consecutive days from `start`, `n` of them, with `perDay(i)` entries each. */
function days(start: string, n: number, perDay: (i: number) => number): Record<string, number> {
  const out: Record<string, number> = {};
  const t0 = Date.parse(`${start}T00:00:00Z`);
  for (let i = 0; i < n; i++) out[new Date(t0 + i * 86_400_000).toISOString().slice(0, 10)] = perDay(i);
  return out;
}

describe('renderLedgerAuditHtml', () => {
  it('renders a valid ledger: banner, summary table, counts, signers, one bar per day', () => {
    const html = renderLedgerAuditHtml(report());
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toMatch(/<section id="verdict" class="verdict valid"[^>]*>VALID: the chain of 7 entries is intact<\/section>/);
    expect(html).toContain(`<span class="mono">${'ab'.repeat(32)}</span> at line 7`);
    expect(html).toContain(`--expect-head ${'ab'.repeat(32)}@7`);
    expect(html).toMatch(/<tr id="summary-backend"><th scope="row">Backend<\/th><td>wasm<\/td><\/tr>/);
    expect(html).toMatch(/<tr id="summary-jobs"><th scope="row">Jobs<\/th><td>2<\/td><\/tr>/);
    expect(html).toContain('500 entries/s');
    expect(html).toMatch(/<table id="actions">.*<td class="mono">sign<\/td><td class="num">4<\/td>.*<td class="mono">event<\/td><td class="num">3<\/td>/s);
    expect(html).toMatch(/<table id="signers">.*alice.*trusted key.*bob.*unknown key/s);
    const unsignedActor = renderLedgerAuditHtml(report({ signatures: signatures({ signers: [{ actor: 'ops', entries: 2 }] }) }));
    expect(unsignedActor).toContain('<td class="mono">ops</td><td class="num">2</td><td class="num">0</td><td class="status-unsigned">unsigned (not a key)</td>');
    expect(html).toMatch(/<td class="status-unknown">unknown key<\/td><td class="num">0<\/td><td class="num">0<\/td><td class="num">3<\/td>/);
    expect(bars(html)).toEqual([
      { bucket: '2026-01-01', count: 3, height: expect.any(Number) },
      { bucket: '2026-01-02', count: 1, height: expect.any(Number) },
      { bucket: '2026-01-03', count: 3, height: expect.any(Number) },
    ]);
    // Self-contained: nothing fetched, nothing run.
    expect(html).not.toMatch(/<script|<link|<img|src="http|href="http|@import/i);
  });

  it('escapes every string from the ledger (actors, actions, file, detail, day keys)', () => {
    const evil = '<script>alert("x")</script>';
    const html = renderLedgerAuditHtml(report({
      status: 'invalid',
      reason: 'entry-hash-mismatch',
      first_bad_line: 3,
      detail: `entry_hash is <b>${evil}</b>`,
      file: `/tmp/"><img src=x onerror=alert(1)>.jsonl`,
      actions: { [evil]: 1, "'><svg onload=alert(2)>": 1 },
      actors: { [evil]: 2 },
      entries_per_day: { [evil]: 2, '2026-01-01': 1 },
      signatures: signatures({ signed: 1, unsigned: 1, valid: 1, signers: [{ actor: evil, entries: 2, signed: 1, key: 'unknown' }] }),
      backend: evil,
    }));
    expect(html).not.toMatch(/<script|<img|<svg onload|<b>/i);
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
    expect(html).toContain('/tmp/&#34;&#62;&#60;img src=x onerror=alert(1)&#62;.jsonl');
    // A day key that is no day is counted, not charted.
    expect(bars(html).map((b) => b.bucket)).toEqual(['2026-01-01']);
    expect(html).toContain('2 entries have no valid date');
  });

  it('renders an empty ledger', () => {
    const html = renderLedgerAuditHtml(report({
      entries: 0, last_hash: null, last_line: null, actions: {}, actors: {}, first_ts: null, last_ts: null, entries_per_day: {},
      signatures: signatures({}),
      throughput: { seconds: 0, bytes: 0, entries_per_second: 0, megabytes_per_second: 0 },
    }));
    expect(html).toContain('VALID: the chain of 0 entries is intact');
    expect(html).toContain('no dated entries');
    expect(html).toContain('none (empty)');
    expect(html).toMatch(/<table id="actors">.*<td class="note" colspan="2">none<\/td>/s);
    expect(bars(html)).toEqual([]);
    expect(html).not.toContain('NaN');
  });

  it('renders an invalid ledger with the first bad line, the reason, what it means and the torn-tail hint', () => {
    const html = renderLedgerAuditHtml(report({
      status: 'invalid', reason: 'prev-hash-mismatch', first_bad_line: 7, detail: 'prev_hash is 00 but the previous entry_hash is ff', torn_last_line: true,
    }));
    expect(html).toMatch(/<section id="verdict" class="verdict invalid" role="alert">INVALID at line 7: prev-hash-mismatch/);
    expect(html).toContain('entries were deleted, inserted or reordered');
    expect(html).toContain('prev_hash is 00 but the previous entry_hash is ff');
    expect(html).toContain('blux-reg audit repair');
    expect(html).toContain('Entries verified (before the first bad line)');
    expect(html).not.toContain('class="verdict valid"');
  });

  it(`lists at most ${MAX_TABLE_ROWS} actors and sums up the rest`, () => {
    const actors = Object.fromEntries(Array.from({ length: MAX_TABLE_ROWS + 50 }, (_, i) => [`actor-${String(i).padStart(4, '0')}`, 1000 - i]));
    const html = renderLedgerAuditHtml(report({ actors }));
    const actorTable = /<table id="actors">(.*?)<\/table>/s.exec(html)![1]!;
    expect(actorTable.match(/<td class="mono">/g)).toHaveLength(MAX_TABLE_ROWS);
    expect(actorTable).toContain('actor-0000');
    expect(actorTable).not.toContain(`actor-0${MAX_TABLE_ROWS + 10}`);
    const restSum = Array.from({ length: 50 }, (_, i) => 1000 - (MAX_TABLE_ROWS + i)).reduce((a, b) => a + b, 0);
    expect(actorTable).toContain(`50 more (not listed)</td><td class="num">${restSum.toLocaleString('en-US')}</td>`);
  });
});

describe('entries chart', () => {
  it('one day: one bar, filling the plot', () => {
    const svg = renderEntriesChartSvg({ '2026-03-04': 12 });
    expect(svg).toContain('data-unit="day"');
    const [bar] = bars(svg);
    expect(bars(svg)).toHaveLength(1);
    expect(bar).toMatchObject({ bucket: '2026-03-04', count: 12 });
    expect(bar!.height).toBeGreaterThan(100);
  });

  it('keeps empty days as gaps on the axis, and a tiny bucket still shows beside a huge one', () => {
    const b = bucketDays({ '2026-01-01': 1_000_000, '2026-01-05': 1 });
    expect(b.buckets.map((x) => x.count)).toEqual([1_000_000, 0, 0, 0, 1]);
    const heights = bars(renderEntriesChartSvg({ '2026-01-01': 1_000_000, '2026-01-05': 1 })).map((x) => x.height);
    expect(heights).toHaveLength(2);
    expect(Math.min(...heights)).toBeGreaterThanOrEqual(1);
  });

  it('three years of days become months; 200 days become ISO weeks; counts are preserved', () => {
    const threeYears = days('2024-01-01', 3 * 365, (i) => 1 + (i % 7));
    const total = Object.values(threeYears).reduce((a, b) => a + b, 0);
    const monthly = bucketDays(threeYears);
    expect(monthly.unit).toBe('month');
    expect(monthly.buckets).toHaveLength(36);
    expect(monthly.buckets[0]).toMatchObject({ start: '2024-01-01', label: '2024-01' });
    const svg = renderEntriesChartSvg(threeYears);
    expect(bars(svg)).toHaveLength(36);
    expect(bars(svg).reduce((sum, x) => sum + x.count, 0)).toBe(total);
    // Axis labels are thinned out so they cannot overlap.
    expect((svg.match(/class="x-tick"/g) ?? []).length).toBeLessThanOrEqual(10);

    const weekly = bucketDays(days('2026-01-01', 200, () => 2));
    expect(weekly.unit).toBe('week');
    expect(weekly.buckets.length).toBeLessThanOrEqual(MAX_BARS);
    expect(weekly.buckets.reduce((sum, x) => sum + x.count, 0)).toBe(400);

    expect(bucketDays(days('2026-01-01', MAX_BARS, () => 1)).unit).toBe('day');
    expect(bucketDays({ '1900-01-01': 1, '2026-01-01': 1 }).unit).toBe('year');
  });

  it('labels ISO weeks as the standard does (the week of 2021-01-01 is 2020-W53)', () => {
    // 130 days apart: too many for daily bars, few enough for weekly ones.
    const later = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 130 * 86_400_000).toISOString().slice(0, 10);
    const labels = (day: string) => bucketDays({ [day]: 1, [later(day)]: 1 }).buckets[0]!;
    expect(labels('2021-01-01')).toMatchObject({ start: '2020-12-28', label: '2020-W53' });
    expect(labels('2024-12-30')).toMatchObject({ start: '2024-12-30', label: '2025-W01' });
  });

  it('counts keys that are no real day as undated', () => {
    expect(bucketDays({ '2026-02-31': 3, 'yesterday': 2, '0050-01-01': 1, '2026-02-28': 4 })).toMatchObject({
      undated: 6, buckets: [{ label: '2026-02-28', count: 4 }],
    });
  });

  it('picks round axis maxima', () => {
    expect(niceAxis(1)).toEqual({ top: 1, step: 1 });
    expect(niceAxis(7)).toEqual({ top: 10, step: 2 });
    expect(niceAxis(13)).toEqual({ top: 20, step: 5 });
    expect(niceAxis(1_234_567)).toEqual({ top: 2_000_000, step: 500_000 });
  });

  it('escapes markup characters', () => {
    expect(escapeMarkup(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });
});
