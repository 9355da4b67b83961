// `audit verify-chain --since CHECKPOINT --policy FILE` through the CLI: the incremental audit of
// issue 6 (constant work per new entry). Valid after appends; a tampered new entry is found at its
// line; a rewritten old entry breaks the checkpoint; --policy without --since is a usage error.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'blux-audit-since-'));
const config = path.join(dir, 'config');
const ledger = path.join(config, 'trust', 'ledger.jsonl');
const policy = path.join(dir, 'policy.txt');
const cli = (...args: string[]) => runCli(args, { env: { BLUX_REG_CONFIG_DIR: config } });
let checkpoint = '';

async function ok(...args: string[]) {
  const result = await cli(...args);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result;
}

/** Replaces one character of line `lineNumber` (1-based) of the ledger, keeping its length. */
function tamperLine(lineNumber: number): string {
  const original = readFileSync(ledger, 'utf8');
  const lines = original.split('\n');
  lines[lineNumber - 1] = lines[lineNumber - 1]!.replace('"payload_summary":"', '"payload_summary":"X');
  writeFileSync(ledger, lines.join('\n'));
  return original;
}

beforeAll(async () => {
  for (const key of ['log', 'w1']) await ok('keygen', '-n', key, '--no-passphrase');
  for (let i = 0; i < 5; i++) await ok('audit', 'add-event', `before ${i}`);
  await ok('ledger', 'checkpoint', '--key', 'log');
  const folder = path.join(config, 'trust', 'checkpoints');
  checkpoint = path.join(folder, readdirSync(folder).filter((f) => f.endsWith('.txt')).sort().at(-1)!);
  const logKey = (await ok('ledger', 'log-key', '--key', 'log')).stdout.trim();
  const witnessKey = (await ok('witness', 'key', '--key', 'w1')).stdout.trim();
  writeFileSync(policy, [`log ${logKey}`, `witness w1 ${witnessKey}`, 'quorum w1', ''].join('\n'));
  await ok('witness', 'cosign', checkpoint, '--key', 'w1', '--policy', policy, '--in-place');
  for (let i = 0; i < 10; i++) await ok('audit', 'add-event', `after ${i}`);
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('audit verify-chain --since', () => {
  it('checks only the entries after the checkpoint, and says how little it read', async () => {
    const { json } = await ok('audit', 'verify-chain', '--since', checkpoint, '--policy', policy, '--json');
    // 2 keygens + 5 events = 7 entries at the checkpoint; then its own ledger record and 10 events.
    expect(json).toMatchObject({ status: 'valid', checkpoint_size: 7, tree_size: 18, entries_checked: 11, leaves_hashed: 12 });
    // What it read: the checkpoint's last line (7) and the lines after it, nothing before.
    const lines = readFileSync(ledger, 'utf8').split('\n').slice(0, 18);
    const tailBytes = lines.slice(6).reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
    expect(json.bytes_read).toBeLessThanOrEqual(tailBytes);
    expect(json.bytes_read).toBeGreaterThan(tailBytes - Buffer.byteLength(lines[6]!) - 1);
    expect(json.consistency_proof.length).toBeGreaterThan(0);
    const human = await ok('audit', 'verify-chain', '--since', checkpoint, '--policy', policy);
    expect(human.stdout).toContain('11 new entries checked');
  });

  it('finds a tampered entry after the checkpoint at its line (exit 1)', async () => {
    const original = tamperLine(15);
    try {
      const result = await cli('audit', 'verify-chain', '--since', checkpoint, '--policy', policy, '--json');
      expect(result.code).toBe(1);
      expect(result.json).toMatchObject({ status: 'invalid', first_bad_line: 15 });
    } finally {
      writeFileSync(ledger, original);
    }
  });

  it('refuses when an entry the checkpoint covers was rewritten (exit 1)', async () => {
    const original = tamperLine(3);
    try {
      const result = await cli('audit', 'verify-chain', '--since', checkpoint, '--policy', policy);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('invalid since');
    } finally {
      writeFileSync(ledger, original);
    }
  });

  it('refuses a checkpoint the policy does not accept, and --policy without --since (exit 2)', async () => {
    const otherPolicy = path.join(dir, 'other-policy.txt');
    const w1 = (await ok('witness', 'key', '--key', 'w1')).stdout.trim();
    // The witness's key posing as the log key: the log signature is not the policy's.
    writeFileSync(otherPolicy, [`log ${w1.replace('blux-reg-witness/w1', 'blux-reg/log')}`, `witness w1 ${w1}`, 'quorum w1', ''].join('\n'));
    const refused = await cli('audit', 'verify-chain', '--since', checkpoint, '--policy', otherPolicy);
    expect(refused.code).not.toBe(0);
    const usage = await cli('audit', 'verify-chain', '--policy', policy);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--since');
  });
});
