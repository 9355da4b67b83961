/** `bench`: the benchmark harness (src/bench), with a markdown table, JSON and SVG reports and a ratio regression gate. */
import { Option, type Command } from 'commander';
import { complain, say, usageError } from '../output.js';

type Run = (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;

/** Exit code when a ratio regressed beyond the tolerance (same as a failed verification). */
const EXIT_REGRESSED = 1;

interface BenchFlags {
  quick?: boolean;
  size: 'tiny' | 'small' | 'medium' | 'large';
  suite?: string[];
  json?: string;
  svg?: string;
  compare?: string;
  tolerance: string;
  updateBaseline?: string;
  spread?: string[];
  progress: boolean;
}

function parseTolerance(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw usageError(`--tolerance must be a number such as 0.25, got ${JSON.stringify(text)}`);
  return value;
}

/** One status line on a terminal (stderr): which suite, which case, which backend. Nothing otherwise. */
function progressLine(enabled: boolean): { onProgress?: (e: import('../../bench/types.js').BenchProgressEvent) => void } {
  if (!enabled || process.stderr.isTTY !== true) return {};
  let suiteLabel = '';
  const width = (): number => Math.max(20, (process.stderr.columns ?? 80) - 1);
  return {
    onProgress: (e) => {
      if (e.kind === 'suite') suiteLabel = `[${e.index + 1}/${e.total}] ${e.suite}`;
      const text = e.kind === 'variant' ? `${suiteLabel}: ${e.title} - ${e.backend}` : e.kind === 'suite' ? `${suiteLabel}: preparing data` : '';
      process.stderr.write(`\r\x1b[K${text.slice(0, width())}`);
    },
  };
}

async function printSpread(bench: typeof import('../../bench/index.js'), files: readonly string[]): Promise<number> {
  const summary = bench.ratioSpread(await Promise.all(files.map((f) => bench.readBaseline(f))));
  say(bench.spreadMarkdown(summary));
  say('');
  say(`worst drop between two of ${summary.reports} runs: ${(summary.worst_drop * 100).toFixed(1)}% (${summary.worst_entry ?? 'no entries'}); ` +
    '--tolerance must be above it for noise alone never to fail --compare');
  return 0;
}

export function registerBenchCommand(program: Command, run: Run): void {
  program
    .command('bench')
    .description(
      'measure SHA-256, Ed25519, canonical JSON, the ledger chain, Merkle trees and end-to-end scenarios on every backend. ' +
      'Every figure is a median with its spread and a ratio to a reference measured in the same run ' +
      '(node:crypto, sodium-native, sha256sum or openssl), so results compare across machines (docs/BENCH.md).\n' +
      'Exit codes: 0 ok, 1 a ratio regressed beyond --tolerance against --compare, 2 usage or input error.',
    )
    .option('--quick', 'short time budgets and fewest iterations: the whole run in under 2 minutes (CI)')
    .addOption(new Option('--size <size>', 'data size of the end-to-end scenarios (tiny is a smoke test)').choices(['tiny', 'small', 'medium', 'large']).default('small'))
    .option('--suite <id...>', 'run only these suites: sha256, ed25519, canonical, ledger-chain, merkle, verify-batch, ledger-audit')
    .option('--json <file>', 'write the report as JSON (schemas/bench-report.schema.json)')
    .option('--svg <file>', 'write a bar chart of throughput per backend, relative to each reference (log scale)')
    .option('--compare <baseline>', 'compare every ratio with this earlier --json report; exit 1 when one regressed beyond --tolerance')
    .option('--tolerance <fraction>', 'allowed drop of a ratio against the baseline (0.25 = 25%)', '0.25')
    .option('--update-baseline <file>', 'write the report as the new baseline (same format as --json)')
    .option('--spread <reports...>', 'measure nothing: print the run-to-run spread of every ratio over these --json reports (to choose --tolerance)')
    .option('--no-progress', 'no status line on the terminal')
    .action(run(async (cmd) => {
      const flags = cmd.opts<BenchFlags>();
      const bench = await import('../../bench/index.js');
      if (flags.spread !== undefined) return printSpread(bench, flags.spread);
      const tolerance = bench.checkTolerance(parseTolerance(flags.tolerance));
      // Everything that can be wrong with the inputs is found before minutes of measuring.
      const baseline = flags.compare === undefined ? null : await bench.readBaseline(flags.compare);
      const files = { json: flags.json, svg: flags.svg, baseline: flags.updateBaseline };
      bench.checkOutputFiles(files);
      bench.selectSuites(bench.BENCH_SUITES, flags.suite);

      const report = await bench.runBench({
        quick: flags.quick === true,
        size: flags.size,
        ...(flags.suite !== undefined ? { suites: flags.suite } : {}),
        ...progressLine(flags.progress),
      });
      await bench.writeReportFiles(report, files);

      say(bench.reportMarkdown(report));
      say('');
      say(bench.reportSummaryLine(report));
      if (baseline === null) return 0;
      const comparison = bench.compareReports(baseline, report.entries, tolerance);
      say('');
      for (const line of bench.comparisonLines(comparison, flags.compare!)) say(line);
      if (comparison.regressions.length === 0) return 0;
      complain(`bench: ${comparison.regressions.length} ratio(s) regressed beyond ${flags.tolerance} against ${flags.compare}`);
      return EXIT_REGRESSED;
    }));
}
