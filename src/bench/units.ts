/** Human figures for tables and the chart: throughput with its unit, times, ratios. */

const SI_PREFIXES: readonly [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, '']];

/** `1.52 GB/s`, `15.3 ksig/s`, `412 line/s`: three significant digits. */
export function formatThroughput(perSecond: number, unit: string): string {
  const [scale, prefix] = SI_PREFIXES.find(([s]) => perSecond >= s) ?? [1, ''];
  return `${significant(perSecond / scale)} ${prefix}${unit}/s`;
}

export function formatMilliseconds(ms: number): string {
  if (ms >= 1000) return `${significant(ms / 1000)} s`;
  if (ms >= 1) return `${significant(ms)} ms`;
  return `${significant(ms * 1000)} µs`;
}

export function formatRatio(ratio: number): string {
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio >= 0.1 ? ratio.toFixed(2) : ratio.toPrecision(2)}x`;
}

function significant(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
