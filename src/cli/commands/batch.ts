/** `verify-batch PATH...` and `report merge`: whole release trees, in parallel, shardable. */
import type { Command } from 'commander';
import type { BatchReport } from '../../batch/report.js';
import { collect, contextFrom, parseCount } from '../context.js';
import { complain, printJson, say, usageError } from '../output.js';

type Run = (action: (cmd: Command) => Promise<number>) => (...args: unknown[]) => Promise<void>;

interface BatchFlags {
  recursive?: boolean;
  trustedKeys?: string[];
  keystore?: boolean;
  requireSigners?: number;
  requireSigned?: boolean;
  jobs?: number;
  failFast?: boolean;
  json?: boolean;
  junit?: string;
  output?: string;
  shard?: string;
  verbose?: boolean;
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function summaryLine(report: BatchReport): string {
  const t = report.totals;
  const shard = report.shards.length > 0 ? `, shard ${report.shards.map((s) => `${s.index}/${s.count}`).join('+')}` : '';
  return `${t.verified} verified, ${t.failed} failed, ${t.unsigned} unsigned of ${t.artifacts}; ` +
    `${formatBytes(t.bytes)} in ${report.timings.wall_seconds.toFixed(2)} s (${report.timings.gb_per_second.toFixed(2)} GB/s), ` +
    `backend ${report.backend}, ${report.jobs} job(s)${shard}${report.stopped_early ? '; stopped at the first failure (--fail-fast)' : ''}`;
}

async function writeOutputs(report: BatchReport, flags: { json?: boolean; junit?: string; output?: string }): Promise<void> {
  const { writeFileAtomic } = await import('../../io/atomic-write.js');
  if (flags.output !== undefined) await writeFileAtomic(flags.output, JSON.stringify(report, null, 2) + '\n');
  if (flags.junit !== undefined) {
    const { toJunitXml } = await import('../../batch/junit.js');
    await writeFileAtomic(flags.junit, toJunitXml(report));
  }
  if (flags.json === true) printJson(report);
}

export function registerBatchCommands(program: Command, run: Run): void {
  program
    .command('verify-batch')
    .argument('<paths...>', 'folders (or single manifests / artifacts) to verify')
    .description('verify every manifest under the given folders against its artifact, on all cores; lists files no manifest names as unsigned.\nExit 0 when everything verified, 1 on any failure, 2 on usage errors.')
    .option('-r, --recursive', 'descend into subfolders (symlinks are followed only inside the tree)')
    .option('--trusted-keys <file|dir>', 'also trust this public key file or folder of *.pub.pem (repeatable)', collect)
    .option('--no-keystore', "do not trust the keystore's keys (only --trusted-keys)")
    .option('--require-signers <n>', 'distinct trusted, non-revoked signers required per artifact, counting co-signatures and separate manifests (default 1)', parseCount('--require-signers', 1))
    .option('--require-signed', 'files that no manifest names are failures')
    .option('-j, --jobs <n>', 'worker threads (default: the number of cores)', parseCount('--jobs', 1))
    .option('--fail-fast', 'stop at the first failure')
    .option('--shard <k/n>', 'verify only the K-th of N deterministic parts of the tree (split by a hash of each path); combine with `report merge`')
    .option('--json', 'print the report as one JSON object (schemas/verify-batch-report.schema.json)')
    .option('-o, --output <file>', 'also write the JSON report to this file')
    .option('--junit <file>', 'write a JUnit XML report: one testcase per artifact')
    .option('-v, --verbose', 'list verified artifacts too, not only failures')
    .action(run(async (cmd) => {
      const flags = cmd.opts<BatchFlags>();
      const ctx = contextFrom(cmd);
      // Threads first: they start while this thread loads modules and walks the tree.
      const { prestartEnginePool, defaultJobs } = await import('../../engine/pool.js');
      prestartEnginePool(flags.jobs ?? defaultJobs());
      const [{ verifyBatch }, { parseShard }, { loadTrustContext }, { batchProgress }] = await Promise.all([
        import('../../batch/verify-batch.js'),
        import('../../batch/shard.js'),
        import('../../trust/context.js'),
        import('../progress.js'),
      ]);
      const shard = flags.shard === undefined ? null : parseShard(flags.shard);
      const trust = await loadTrustContext({ paths: ctx.paths, trustedKeys: flags.trustedKeys ?? [], useKeystore: flags.keystore !== false });
      const progress = batchProgress(flags.json === true);
      const batch = verifyBatch(cmd.args, {
        trust,
        backend: ctx.backend,
        recursive: flags.recursive === true,
        requireSigned: flags.requireSigned === true,
        failFast: flags.failFast === true,
        shard,
        ...(flags.requireSigners !== undefined ? { requireSigners: flags.requireSigners } : {}),
        ...(flags.jobs !== undefined ? { jobs: flags.jobs } : {}),
        ...(progress !== null ? { onProgress: progress.update } : {}),
      });
      let report: BatchReport;
      try {
        for await (const result of batch) {
          if (flags.json === true) continue;
          const line = result.verdict === 'verified' ? (flags.verbose === true ? `ok       ${result.path}` : null)
            : result.verdict === 'unsigned' ? `${flags.requireSigned === true ? 'FAIL' : 'unsigned'} ${result.path}${flags.requireSigned === true ? ': unsigned' : ''}`
            : `FAIL     ${result.path}: ${result.reason}: ${result.message}`;
          if (line !== null) progress?.log(line) ?? (result.verdict === 'failed' ? complain(line) : say(line));
        }
        report = await batch.report();
      } finally {
        // The pool is not closed here: it never keeps the process alive (pool.ts), and closing it waited
        // ~30 ms for its threads to stop before the outputs were written; the process's exit stops them.
        progress?.stop();
      }
      await writeOutputs(report, flags);
      if (flags.json !== true) say(summaryLine(report));
      return report.status === 'ok' ? 0 : 1;
    }));

  const reportGroup = program.command('report').description('work with verify-batch reports');
  reportGroup
    .command('merge')
    .argument('<reports...>', 'JSON reports of the shards of one tree (verify-batch --shard K/N --output FILE)')
    .description('combine shard reports into one with correct totals and exit code; refuses reports of different trees or overlapping shards')
    .option('--partial', 'merge even if some shards are missing (the result then counts as failed)')
    .option('-o, --output <file>', 'write the merged JSON report to this file')
    .option('--junit <file>', 'write a JUnit XML report of the merged result')
    .option('--json', 'print the merged report as JSON')
    .action(run(async (cmd) => {
      const flags = cmd.opts<{ partial?: boolean; output?: string; junit?: string; json?: boolean }>();
      const [{ mergeReports }, { readFileForInput, decodeUtf8 }, { checkSchema }] = await Promise.all([
        import('../../batch/report.js'),
        import('../../io/read-document.js'),
        import('../../formats/schema.js'),
      ]);
      const reports: BatchReport[] = [];
      for (const file of cmd.args) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(decodeUtf8(await readFileForInput(file), file));
        } catch (e) {
          if (e instanceof SyntaxError) throw usageError(`${file}: not JSON (${e.message})`);
          throw e;
        }
        const problem = checkSchema('verify-batch-report', parsed);
        if (problem !== null) throw usageError(`${file}: not a verify-batch report: ${problem}`);
        reports.push(parsed as BatchReport);
      }
      const merged = mergeReports(reports, { allowPartial: flags.partial === true });
      await writeOutputs(merged, flags);
      if (flags.json !== true) {
        for (const r of merged.results) if (r.verdict === 'failed') complain(`FAIL ${r.path}: ${r.reason}: ${r.message}`);
        say(summaryLine(merged));
      }
      return merged.status === 'ok' ? 0 : 1;
    }));
}
