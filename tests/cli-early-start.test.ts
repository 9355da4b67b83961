// early-start.ts: the engine's threads start before the command line is
// loaded only for verify-batch, with the --jobs the command will use; any
// doubt leaves the decision to the command itself. A wrong guess must not
// keep the process alive.
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { earlyEngineJobs } from '../src/cli/early-start.js';
import { runCli } from './helpers/cli.js';

const cores = availableParallelism();

describe('earlyEngineJobs', () => {
  it.each([
    [['verify-batch', 'dist', '-r'], cores],
    [['verify-batch', 'dist', '--jobs', '3'], 3],
    [['verify-batch', '-j', '1', 'dist'], 1],
    [['verify-batch', 'dist', '--jobs=2'], 2],
    [['--config-dir', '/tmp/x', '--backend', 'wasm', 'verify-batch', 'dist'], cores],
    [['--config-dir=/tmp/x', 'verify-batch', 'dist', '-j', '4'], 4],
    [['verify-batch', 'dist', '--', '-j', '9'], cores],
  ] as const)('%j -> %i threads', (args, jobs) => {
    expect(earlyEngineJobs(args)).toBe(jobs);
  });

  it.each([
    [[]],
    [['verify', 'a.bin']],
    [['audit', 'verify-chain']],
    [['sign', 'verify-batch']],
    [['--config-dir', 'verify-batch', 'sign', 'x']],
    [['--unknown-flag', 'verify-batch', 'dist']],
    [['verify-batch', '--help']],
    [['verify-batch', 'dist', '-h']],
    [['help', 'verify-batch']],
    [['verify-batch', 'dist', '--jobs', '0']],
    [['verify-batch', 'dist', '--jobs', 'many']],
    [['verify-batch', 'dist', '--jobs']],
    [['verify-batch', 'dist', '-rj2']],
  ] as const)('%j -> no early start', (args) => {
    expect(earlyEngineJobs(args)).toBeNull();
  });
});

describe('the CLI with threads started early', () => {
  it('exits at once on a usage error of verify-batch (exit 2)', async () => {
    const started = performance.now();
    const r = await runCli(['verify-batch']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing required argument 'paths'/);
    // No hang: the early threads do not keep the process alive (generous bound for a loaded machine).
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  it('prints verify-batch help and exits 0', async () => {
    const r = await runCli(['verify-batch', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--jobs');
  });
});
