/**
 * The report as a hand-written SVG bar chart. Throughputs span six orders of
 * magnitude and several units (bytes, signatures, lines per second), so each
 * bar's length is its throughput relative to the reference of its own case
 * (normalized per primitive) on a log axis; the absolute throughput is
 * written at the bar's end. Bars of one backend share a colour and one
 * `<g data-backend>` group, listed in the legend.
 */
import type { BenchEntry, BenchReport } from './types.js';
import { formatRatio, formatThroughput } from './units.js';
import { machineLine, runLine } from './markdown.js';

const WIDTH = 1000;
const MARGIN = 16;
/** Backend names, right-aligned before their bars. */
const LABEL_COLUMN = 90;
const BAR_AREA = 520;
const BAR_HEIGHT = 13;
const BAR_GAP = 3;
/** The case title sits on its own line above its bars, so long titles never overlap them. */
const CASE_TITLE_HEIGHT = 20;
const CASE_GAP = 10;
const HEADER_HEIGHT = 112;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

/** Colour-blind-safe palette (Okabe-Ito), one per backend; others cycle through the rest. */
const BACKEND_COLOURS: Readonly<Record<string, string>> = {
  reference: '#7f7f7f',
  native: '#0072B2',
  wasm: '#E69F00',
  js: '#009E73',
  auto: '#CC79A7',
  core: '#56B4E9',
  openssl: '#D55E00',
};
const SPARE_COLOURS = ['#F0E442', '#000000', '#999933', '#882255'];

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

function colourOf(backend: string, order: readonly string[]): string {
  return BACKEND_COLOURS[backend] ?? SPARE_COLOURS[order.indexOf(backend) % SPARE_COLOURS.length]!;
}

/** Backends in a stable order: the reference first, then as they first appear. */
export function backendsOf(entries: readonly BenchEntry[]): string[] {
  const seen = new Set<string>();
  for (const e of entries) if (e.id === e.reference) seen.add(e.backend);
  for (const e of entries) seen.add(e.backend);
  return [...seen];
}

/** Decades covering every ratio (at least 0.1x to 10x), as powers of ten. */
function axisDecades(entries: readonly BenchEntry[]): { low: number; high: number } {
  const logs = entries.map((e) => Math.log10(e.ratio)).filter(Number.isFinite);
  return { low: Math.min(-1, Math.floor(Math.min(...logs))), high: Math.max(1, Math.ceil(Math.max(...logs))) };
}

export function reportSvg(report: BenchReport): string {
  const backends = backendsOf(report.entries);
  const { low, high } = axisDecades(report.entries);
  const x0 = MARGIN + LABEL_COLUMN;
  const xOf = (ratio: number): number => {
    const clamped = Math.min(high, Math.max(low, Math.log10(ratio)));
    return x0 + ((clamped - low) / (high - low)) * BAR_AREA;
  };

  const cases = [...new Set(report.entries.map((e) => e.case))];
  const barsByBackend = new Map<string, string[]>(backends.map((b) => [b, []]));
  const caseLabels: string[] = [];
  let y = HEADER_HEIGHT;
  for (const caseId of cases) {
    const rows = report.entries.filter((e) => e.case === caseId);
    caseLabels.push(`<text x="${MARGIN}" y="${y + 14}" font-size="13" font-weight="600">${escapeXml(rows[0]!.title)}</text>`);
    y += CASE_TITLE_HEIGHT;
    for (const entry of rows) {
      const start = xOf(10 ** low);
      const end = Math.max(xOf(entry.ratio), start + 1);
      const isReference = entry.id === entry.reference;
      const value = `${formatThroughput(entry.throughput, entry.unit)} · ${isReference ? entry.label : formatRatio(entry.ratio)}`;
      const baseline = y + BAR_HEIGHT - 2;
      barsByBackend.get(entry.backend)!.push(
        `<text x="${x0 - 6}" y="${baseline}" font-size="11" text-anchor="end">${escapeXml(entry.backend)}: </text>` +
        `<rect x="${start.toFixed(1)}" y="${y}" width="${(end - start).toFixed(1)}" height="${BAR_HEIGHT}" fill="${colourOf(entry.backend, backends)}"><title>${escapeXml(`${entry.title}, ${entry.label}`)}</title></rect>` +
        `<text x="${(x0 + BAR_AREA + 8).toFixed(1)}" y="${baseline}" font-size="11">${escapeXml(value)}</text>`,
      );
      y += BAR_HEIGHT + BAR_GAP;
    }
    y += CASE_GAP;
  }
  const height = y + MARGIN;

  const grid: string[] = [];
  for (let d = low; d <= high; d++) {
    const x = xOf(10 ** d).toFixed(1);
    grid.push(`<line x1="${x}" y1="${HEADER_HEIGHT - 6}" x2="${x}" y2="${height - MARGIN}" stroke="${d === 0 ? '#444' : '#ddd'}" stroke-width="${d === 0 ? 1.5 : 1}"/>`);
    grid.push(`<text x="${x}" y="${HEADER_HEIGHT - 10}" font-size="11" text-anchor="middle">${escapeXml(formatRatio(10 ** d))}</text>`);
  }
  const legend = backends.map((b, i) => {
    const x = MARGIN + i * 110;
    return `<rect x="${x}" y="68" width="12" height="12" fill="${colourOf(b, backends)}"/><text x="${x + 16}" y="78" font-size="12">${escapeXml(b)}</text>`;
  });
  const groups = backends.map((b) => `<g class="backend" data-backend="${escapeXml(b)}">${barsByBackend.get(b)!.join('')}</g>`);

  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${MARGIN}" y="22" font-size="16" font-weight="700">blux-reg bench: throughput per backend, relative to each case's reference (log scale)</text>`,
    `<text x="${MARGIN}" y="40" font-size="11" fill="#444">${escapeXml(machineLine(report))}</text>`,
    `<text x="${MARGIN}" y="56" font-size="11" fill="#444">${escapeXml(runLine(report))}</text>`,
    `<g class="legend">${legend.join('')}</g>`,
    `<g class="grid">${grid.join('')}</g>`,
    `<g class="cases">${caseLabels.join('')}</g>`,
    ...groups,
    `</svg>`,
    '',
  ].join('\n');
}
