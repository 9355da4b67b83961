/** The report as a markdown table, one row per entry, grouped by case (the reference first). */
import type { BenchReport } from './types.js';
import { formatMilliseconds, formatRatio, formatThroughput } from './units.js';

const HEADER = ['Case', 'Backend', 'Median per op', 'Spread (MAD)', 'Throughput', 'Ratio to reference'] as const;

function row(cells: readonly string[]): string {
  return `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
}

export function reportMarkdown(report: BenchReport): string {
  const lines = [row(HEADER), row(HEADER.map((_, i) => (i < 2 ? '---' : '---:')))];
  for (const entry of report.entries) {
    const isReference = entry.id === entry.reference;
    lines.push(row([
      entry.title,
      isReference ? `reference: ${entry.label}` : entry.label === entry.backend ? entry.backend : `${entry.backend} (${entry.label})`,
      formatMilliseconds(entry.median_ms),
      `±${entry.spread_percent.toFixed(1)}%`,
      formatThroughput(entry.throughput, entry.unit),
      isReference ? '1 (reference)' : formatRatio(entry.ratio),
    ]));
  }
  return lines.join('\n');
}

export function machineLine(report: BenchReport): string {
  const m = report.machine;
  return `${m.cpu_model}, ${m.cores} cores, ${(m.memory_bytes / 2 ** 30).toFixed(1)} GiB, ${m.os} ${m.arch}, Node ${m.node}, blux-reg ${report.versions['blux-reg'] ?? '?'}`;
}

export function runLine(report: BenchReport): string {
  return `${report.settings.quick ? 'quick' : 'full'} run, size ${report.settings.size}, ${report.duration_seconds.toFixed(1)} s; ` +
    `ratio = throughput over the reference's in the same run (above 1 is faster)`;
}

/** Two lines under the table: where and how it ran. */
export function reportSummaryLine(report: BenchReport): string {
  return `${machineLine(report)}\n${runLine(report)}`;
}
