/**
 * The entries-over-time bar chart of the HTML audit report, as inline SVG
 * (hand-written: no script, no external resource, so the page stays one
 * self-contained file). Pure functions: counts per UTC day in, markup out.
 *
 * Legible from one day to decades: the days between the first and the last
 * are bucketed by day, ISO week, month or year, whichever first gives at most
 * MAX_BARS bars, so bars never shrink below a few pixels. Empty buckets keep
 * their slot on the axis (a gap in activity shows as a gap).
 */

import { groupDigits } from '../formats/digit-groups.js';

/** More bars than this and the next coarser bucket is used. */
export const MAX_BARS = 120;

const CHART_WIDTH = 960;
const CHART_HEIGHT = 320;
const MARGIN = { top: 20, right: 20, bottom: 56, left: 64 };
/** About this many x labels fit without overlapping at 11 px. */
const MAX_X_LABELS = 10;
/** A bucket with one entry next to one with a million still shows. */
const MIN_BAR_HEIGHT_PX = 1;
/** One day's bar should still look like a bar, not fill the plot. */
const MAX_BAR_WIDTH_PX = 64;
const DAY_MS = 24 * 3600 * 1000;

export type BucketUnit = 'day' | 'week' | 'month' | 'year';

export interface ChartBucket {
  /** First day of the bucket, YYYY-MM-DD (UTC). */
  start: string;
  /** Label shown on the axis: 2026-01-20, 2026-W04, 2026-01, 2026. */
  label: string;
  count: number;
}

export interface BucketedDays {
  unit: BucketUnit;
  buckets: ChartBucket[];
  /** Entries under keys that are not a real YYYY-MM-DD day (bad `ts` values): counted, not charted. */
  undated: number;
}

/** Escapes text for HTML and SVG, in content and in quoted attributes alike. */
export function escapeMarkup(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const DAY_KEY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Milliseconds of the UTC midnight of a YYYY-MM-DD key, or null when the key is no real day. */
function dayMillis(key: string): number | null {
  const m = DAY_KEY.exec(key);
  if (m === null) return null;
  const millis = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC rolls 2026-02-31 over to March: such a key is not a day.
  return new Date(millis).toISOString().slice(0, 10) === key ? millis : null;
}

function isoDay(millis: number): string {
  return new Date(millis).toISOString().slice(0, 10);
}

/** The bucket a day falls in: its start (UTC millis) and its label. */
function bucketOf(millis: number, unit: BucketUnit): { start: number; label: string } {
  const date = new Date(millis);
  const year = date.getUTCFullYear();
  switch (unit) {
    case 'day':
      return { start: millis, label: isoDay(millis) };
    case 'week': {
      // ISO 8601: weeks start on Monday; week 1 holds the year's first Thursday.
      const monday = millis - ((date.getUTCDay() + 6) % 7) * DAY_MS;
      const thursday = monday + 3 * DAY_MS;
      const isoYear = new Date(thursday).getUTCFullYear();
      const week = Math.floor((thursday - Date.UTC(isoYear, 0, 1)) / (7 * DAY_MS)) + 1;
      return { start: monday, label: `${isoYear}-W${String(week).padStart(2, '0')}` };
    }
    case 'month':
      return { start: Date.UTC(year, date.getUTCMonth(), 1), label: isoDay(millis).slice(0, 7) };
    case 'year':
      return { start: Date.UTC(year, 0, 1), label: String(year) };
  }
}

/** The start of the bucket after the one starting at `start`. */
function nextBucket(start: number, unit: BucketUnit): number {
  const date = new Date(start);
  switch (unit) {
    case 'day':
      return start + DAY_MS;
    case 'week':
      return start + 7 * DAY_MS;
    case 'month':
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    case 'year':
      return Date.UTC(date.getUTCFullYear() + 1, 0, 1);
  }
}

const UNITS: readonly BucketUnit[] = ['day', 'week', 'month', 'year'];

/** Counts per day -> counts per bucket, every bucket from the first to the last day (empty ones included). */
export function bucketDays(entriesPerDay: Readonly<Record<string, number>>): BucketedDays {
  const days: Array<{ millis: number; count: number }> = [];
  let undated = 0;
  for (const [key, count] of Object.entries(entriesPerDay)) {
    const millis = dayMillis(key);
    if (millis === null) undated += count;
    else if (count > 0) days.push({ millis, count });
  }
  if (days.length === 0) return { unit: 'day', buckets: [], undated };
  const first = Math.min(...days.map((d) => d.millis));
  const last = Math.max(...days.map((d) => d.millis));

  for (const unit of UNITS) {
    // Years are the last resort and are never cut: keys have four digits, so at most 9,000 of them.
    const cap = unit === 'year' ? Infinity : MAX_BARS;
    const lastStart = bucketOf(last, unit).start;
    const starts: number[] = [];
    for (let start = bucketOf(first, unit).start; start <= lastStart && starts.length <= cap; start = nextBucket(start, unit)) {
      starts.push(start);
    }
    if (starts.length > cap) continue;
    const byStart = new Map(starts.map((start) => [start, { start: isoDay(start), label: bucketOf(start, unit).label, count: 0 }]));
    for (const day of days) byStart.get(bucketOf(day.millis, unit).start)!.count += day.count;
    return { unit, buckets: [...byStart.values()], undated };
  }
  throw new Error('unreachable: the year unit always returns');
}

/** A round axis maximum >= `max` (1, 2 or 5 times a power of ten) and its tick step. */
export function niceAxis(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 1, step: 1 };
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const factor of [1, 2, 5, 10]) {
    const top = factor * magnitude;
    if (top >= max) {
      // Four or five ticks: a step of a fifth (or a quarter of 2 x 10^n); never below 1 entry.
      const step = Math.max(1, factor === 2 ? top / 4 : top / 5);
      return { top: Math.ceil(top / step) * step, step };
    }
  }
  return { top: 10 * magnitude, step: 2 * magnitude };
}

const UNIT_TITLE: Record<BucketUnit, { y: string; x: string }> = {
  day: { y: 'entries per day', x: 'day (UTC)' },
  week: { y: 'entries per week', x: 'ISO week (UTC)' },
  month: { y: 'entries per month', x: 'month (UTC)' },
  year: { y: 'entries per year', x: 'year (UTC)' },
};

/** The chart as an `<svg>` element, ready to inline in HTML. */
export function renderEntriesChartSvg(entriesPerDay: Readonly<Record<string, number>>): string {
  const { unit, buckets } = bucketDays(entriesPerDay);
  const plotWidth = CHART_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
  const x0 = MARGIN.left;
  const y0 = MARGIN.top + plotHeight; // the baseline
  const open = `<svg xmlns="http://www.w3.org/2000/svg" id="entries-chart" class="chart" data-unit="${unit}" data-buckets="${buckets.length}" ` +
    `viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" role="img" ` +
    `aria-label="${escapeMarkup(`${UNIT_TITLE[unit].y}, ${buckets.length} bars`)}" font-family="system-ui, sans-serif">`;
  const frame = `<rect x="0" y="0" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#ffffff"/>`;
  if (buckets.length === 0) {
    return `${open}${frame}<text x="${CHART_WIDTH / 2}" y="${CHART_HEIGHT / 2}" text-anchor="middle" font-size="16" fill="#666">no dated entries</text></svg>`;
  }

  const { top, step } = niceAxis(Math.max(...buckets.map((b) => b.count)));
  const slot = plotWidth / buckets.length;
  // A gap between bars while there is room for one; touching bars when there is not; no slabs for a few days.
  const barWidth = Math.min(MAX_BAR_WIDTH_PX, slot >= 4 ? slot * 0.8 : slot);
  const parts: string[] = [open, frame];

  // Horizontal grid lines with the count at the left.
  for (let value = 0; value <= top; value += step) {
    const y = y0 - (value / top) * plotHeight;
    parts.push(`<line x1="${x0}" x2="${x0 + plotWidth}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${value === 0 ? '#333' : '#ddd'}" stroke-width="1"/>`);
    parts.push(`<text class="y-tick" x="${x0 - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11" fill="#333">${groupDigits(value)}</text>`);
  }
  parts.push(`<line x1="${x0}" x2="${x0}" y1="${MARGIN.top}" y2="${y0}" stroke="#333" stroke-width="1"/>`);

  buckets.forEach((bucket, i) => {
    if (bucket.count === 0) return;
    const height = Math.max(MIN_BAR_HEIGHT_PX, (bucket.count / top) * plotHeight);
    const x = x0 + i * slot + (slot - barWidth) / 2;
    parts.push(
      `<rect class="bar" data-bucket="${escapeMarkup(bucket.label)}" data-count="${bucket.count}" x="${x.toFixed(2)}" y="${(y0 - height).toFixed(2)}" ` +
      `width="${barWidth.toFixed(2)}" height="${height.toFixed(2)}" fill="#2f6db5"><title>${escapeMarkup(`${bucket.label}: ${groupDigits(bucket.count)} entries`)}</title></rect>`,
    );
  });

  // Labels on every k-th bucket, centred under it, so they never overlap.
  const every = Math.ceil(buckets.length / MAX_X_LABELS);
  buckets.forEach((bucket, i) => {
    if (i % every !== 0) return;
    const x = x0 + (i + 0.5) * slot;
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y0}" y2="${y0 + 4}" stroke="#333"/>`);
    parts.push(`<text class="x-tick" x="${x.toFixed(1)}" y="${y0 + 18}" text-anchor="middle" font-size="11" fill="#333">${escapeMarkup(bucket.label)}</text>`);
  });

  parts.push(`<text x="${x0 + plotWidth / 2}" y="${CHART_HEIGHT - 10}" text-anchor="middle" font-size="12" fill="#333">${UNIT_TITLE[unit].x}</text>`);
  parts.push(`<text transform="translate(16 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#333">${UNIT_TITLE[unit].y}</text>`);
  parts.push('</svg>');
  return parts.join('');
}
