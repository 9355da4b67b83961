// `blux-reg bench` as users run it (compiled CLI): usage errors exit 2 naming the problem before
// anything is measured; --compare exits 1 naming the regressed entries against a baseline whose
// ratios are far better, and 0 against one whose ratios are far worse. These are real, short runs
// of the canonical suite, whose ratios moved by up to 1.6x between back-to-back runs on the loaded
// 2-core machine: the baselines are 4x off, so the outcome never depends on noise. The exact 2x
// case is tested on the comparison itself (bench-compare.test.ts).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';

import { CLI, REPO_ROOT, runCli, tempDir } from './helpers/cli.js';

const dir = tempDir('blux-reg-bench-cli-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const QUICK_CANONICAL = ['bench', '--quick', '--size', 'tiny', '--suite', 'canonical', '--no-progress'];

function withRatiosTimes(reportFile: string, factor: number, out: string): string {
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { entries: { id: string; reference: string; ratio: number }[] };
  for (const e of report.entries) if (e.id !== e.reference) e.ratio *= factor;
  fs.writeFileSync(out, JSON.stringify(report));
  return out;
}

describe('blux-reg bench: usage errors (exit 2, nothing measured)', () => {
  it('a missing baseline file', async () => {
    const missing = path.join(dir, 'missing.json');
    const r = await runCli(['bench', '--quick', '--compare', missing]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${missing}: no such file [file-not-found]`);
    expect(r.stdout).toBe('');
  });

  it('a baseline that is not a bench report', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{"entries": 3}');
    const r = await runCli(['bench', '--compare', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}: is not a bench report`);
  });

  it('a bad tolerance, an unknown suite or size, an output folder that does not exist', async () => {
    const cases: [string[], string][] = [
      [['--tolerance', 'abc'], '--tolerance must be a number such as 0.25, got "abc"'],
      [['--tolerance', '1.5'], '--tolerance must be a number from 0 to below 1'],
      [['--suite', 'nope'], 'unknown bench suite "nope"'],
      [['--size', 'huge'], "argument 'huge' is invalid"],
      [['--json', path.join(dir, 'no', 'such', 'out.json')], 'cannot write into'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['bench', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(message);
    }
  });

  it('--help explains the options and the exit codes', async () => {
    const r = await runCli(['bench', '--help']);
    expect(r.code).toBe(0);
    for (const option of ['--quick', '--size', '--json <file>', '--svg <file>', '--compare <baseline>', '--tolerance', '--update-baseline']) {
      expect(r.stdout).toContain(option);
    }
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 a ratio regressed');
  });
});

describe('blux-reg bench: a real quick run of one suite', () => {
  const report = path.join(dir, 'report.json');
  const svg = path.join(dir, 'chart.svg');

  it('prints the table, writes a schema-valid JSON report and an SVG', async () => {
    const r = await runCli([...QUICK_CANONICAL, '--json', report, '--svg', svg]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe(''); // no progress line when stderr is not a terminal
    expect(r.stdout).toMatch(/^\| Case \| Backend \| Median per op \|/);
    expect(r.stdout).toContain('| Canonical JSON, RFC 8785 (2.0 manifests) | core (canonicalJcs) |');
    const schema = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'schemas', 'bench-report.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ strict: true }).compile(schema);
    expect(validate(JSON.parse(fs.readFileSync(report, 'utf8'))), JSON.stringify(validate.errors)).toBe(true);
    expect(fs.readFileSync(svg, 'utf8')).toMatch(/^<\?xml[^]*<\/svg>\n$/);
  });

  it('--compare against a baseline with 4x better ratios exits 1 naming the regressed entries', async () => {
    const better = withRatiosTimes(report, 4, path.join(dir, 'better.json'));
    const r = await runCli([...QUICK_CANONICAL, '--compare', better]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('2 ratio(s) regressed by more than 25%');
    expect(r.stdout).toContain('REGRESSED canonical/python/core');
    expect(r.stdout).toContain('REGRESSED canonical/jcs/core');
    expect(r.stderr).toContain(`2 ratio(s) regressed beyond 0.25 against ${better}`);
  });

  it('--compare against a baseline with 4x worse ratios passes and --update-baseline writes a new one', async () => {
    const worse = withRatiosTimes(report, 0.25, path.join(dir, 'worse.json'));
    const fresh = path.join(dir, 'fresh-baseline.json');
    const r = await runCli([...QUICK_CANONICAL, '--compare', worse, '--update-baseline', fresh]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`compare with ${worse}: no ratio regressed by more than 25%`);
    expect(r.stdout).toContain('improved  canonical/jcs/core');
    expect(JSON.parse(fs.readFileSync(fresh, 'utf8')).format).toBe('blux-reg/bench-report@1');
  });

  it('--spread prints the run-to-run spread of the reports, measuring nothing', async () => {
    const half = withRatiosTimes(report, 0.5, path.join(dir, 'half.json'));
    const r = await runCli(['bench', '--spread', report, half]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('| Entry | Runs | Min ratio | Median ratio | Max ratio | Worst drop (1 - min/max) |');
    expect(r.stdout).toMatch(/\| canonical\/jcs\/core \| 2 \| .* \| 50\.0% \|/);
    expect(r.stdout).toContain('worst drop between two of 2 runs: 50.0%');
  });
});

describe('blux-reg bench: interrupted', () => {
  it('removes its generated data on SIGINT and ends by the signal', async () => {
    const tmp = tempDir('blux-reg-bench-sigint-');
    try {
      const child = spawn(process.execPath, [CLI, 'bench', '--quick', '--size', 'small', '--suite', 'ledger-audit', 'verify-batch', '--no-progress'], {
        env: { ...process.env, TMPDIR: tmp },
        stdio: 'ignore',
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      const workDirs = (): string[] => fs.readdirSync(tmp).filter((name) => name.startsWith('blux-reg-bench-'));
      // Interrupt once the data is being generated (the temp folder exists and has content).
      for (let waited = 0; workDirs().length === 0 || fs.readdirSync(path.join(tmp, workDirs()[0]!)).length === 0; waited += 50) {
        if (waited > 30_000) throw new Error('the bench never created its temp folder');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGINT');
      expect(await exited).toBe('SIGINT');
      expect(workDirs()).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('removes its generated data when the process dies of an uncaught error', async () => {
    const tmp = tempDir('blux-reg-bench-crash-');
    try {
      // A suite whose data exists when an error escapes every handler (as a worker thread's can).
      const script = `
        import fs from 'node:fs';
        import path from 'node:path';
        import { runBench } from ${JSON.stringify(path.join(REPO_ROOT, 'dist', 'bench', 'run.js'))};
        const crashing = { id: 'crash', title: 'crash', async prepare(ctx) {
          fs.writeFileSync(path.join(ctx.workDir, 'data.bin'), 'x');
          setTimeout(() => { throw new Error('boom'); }, 10);
          await new Promise((resolve) => setTimeout(resolve, 5000));
          return { cases: [] };
        } };
        await runBench({ quick: true, size: 'tiny', suitesToRun: [crashing] });
      `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TMPDIR: tmp }, stdio: 'ignore' });
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      expect(code).toBe(1);
      expect(fs.readdirSync(tmp).filter((name) => name.startsWith('blux-reg-bench-'))).toEqual([]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
