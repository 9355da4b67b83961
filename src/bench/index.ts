/** The benchmark harness (`blux-reg bench`): suites, the run, and the report's forms. */
export type * from './types.js';
export { BENCH_SIZES } from './types.js';
export { BENCH_SUITES, BENCH_SUITE_IDS } from './registry.js';
export { runBench, selectSuites, type RunBenchOptions } from './run.js';
export { reportMarkdown, reportSummaryLine } from './markdown.js';
export { reportSvg, backendsOf } from './svg.js';
export { compareReports, comparisonLines, checkTolerance, DEFAULT_TOLERANCE, type Comparison, type ComparableEntry, type RatioChange } from './compare.js';
export { parseBaseline, readBaseline } from './baseline-file.js';
export { checkOutputFiles, reportJson, writeReportFiles, type ReportFiles } from './outputs.js';
export { ratioSpread, spreadMarkdown, type SpreadSummary, type EntrySpread } from './spread.js';
