// early-start.ts: the engine's threads start before the command line is
// loaded only for verify-batch and a full audit verify-chain, with the --jobs
// the command will use; any doubt leaves the decision to the command itself.
// A wrong guess must not keep the process alive.
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { earlyStartFor } from '../src/cli/early-start.js';
import { runCli } from './helpers/cli.js';

const cores = availableParallelism();
const env = { BLUX_REG_CONFIG_DIR: '/cfg' };

describe('earlyStartFor', () => {
  it.each([
    [['verify-batch', 'dist', '-r'], cores],
    [['verify-batch', 'dist', '--jobs', '3'], 3],
    [['verify-batch', '-j', '1', 'dist'], 1],
    [['verify-batch', 'dist', '--jobs=2'], 2],
    [['--config-dir', '/tmp/x', '--backend', 'wasm', 'verify-batch', 'dist'], cores],
    [['--config-dir=/tmp/x', 'verify-batch', 'dist', '-j', '4'], 4],
    [['verify-batch', 'dist', '--', '-j', '9'], cores],
  ] as const)('verify-batch: %j -> %i threads', (args, jobs) => {
    expect(earlyStartFor(args, env)).toEqual({ kind: 'verify-batch', jobs });
  });

  it.each([
    [['audit', 'verify-chain'], cores, '/cfg/trust/ledger.jsonl'],
    [['--config-dir', '/other', 'audit', 'verify-chain', '--json'], cores, '/other/trust/ledger.jsonl'],
    [['audit', 'verify-chain', '--ledger', 'big.jsonl', '--jobs', '2'], 2, 'big.jsonl'],
    [['audit', 'verify-chain', '--ledger=x.jsonl', '--jobs=1'], 1, 'x.jsonl'],
  ] as const)('audit verify-chain: %j -> %i threads if %s is big enough', (args, jobs, ledger) => {
    expect(earlyStartFor(args, env)).toEqual({ kind: 'audit', jobs, ledger: ledger.startsWith('/') ? path.resolve(ledger) : ledger });
  });

  it.each([
    [[]],
    [['verify', 'a.bin']],
    [['audit']],
    [['audit', 'show']],
    [['audit', 'verify-chain', '--since', 'cp.txt']],
    [['audit', 'verify-chain', '--since=cp.txt']],
    [['audit', 'verify-chain', '--ledger']],
    [['sign', 'verify-batch']],
    [['--config-dir', 'verify-batch', 'sign', 'x']],
    [['--config-dir']],
    [['--unknown-flag', 'verify-batch', 'dist']],
    [['verify-batch', '--help']],
    [['verify-batch', 'dist', '-h']],
    [['audit', 'verify-chain', '--help']],
    [['help', 'verify-batch']],
    [['verify-batch', 'dist', '--jobs', '0']],
    [['verify-batch', 'dist', '--jobs', 'many']],
    [['verify-batch', 'dist', '--jobs']],
    [['verify-batch', 'dist', '-rj2']],
  ] as const)('%j -> no early start', (args) => {
    expect(earlyStartFor(args, env)).toBeNull();
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
