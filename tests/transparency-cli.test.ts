// The "verify offline" walk-through through the CLI (docs/TRANSPARENCY.md): keys, a signed artifact,
// a checkpoint cosigned by witnesses, a proof bundle verified with the config folder removed; exit
// codes and --json on the way, a quorum short by one, a witness refusing a rollback, consistency proofs.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'blux-transparency-cli-'));
const config = path.join(dir, 'config');
const env = { BLUX_REG_CONFIG_DIR: config };
const cli = (...args: string[]) => runCli(args, { env });
const at = (name: string): string => path.join(dir, name);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function ok(...args: string[]) {
  const result = await cli(...args);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result;
}

async function newestCheckpoint(): Promise<string> {
  const folder = path.join(config, 'trust', 'checkpoints');
  return path.join(folder, readdirSync(folder).filter((f) => f.endsWith('.txt')).sort().at(-1)!);
}

describe('verify offline, through the CLI', () => {
  it('sign, checkpoint, cosign, prove; verify with the config folder gone; refusals exit 1, usage errors 2', async () => {
    for (const key of ['default', 'log', 'w1', 'w2', 'w3']) await ok('keygen', '-n', key, '--no-passphrase');
    writeFileSync(at('app.tar'), 'release 1.0\n');
    await ok('sign', at('app.tar'));

    const created = (await ok('ledger', 'checkpoint', '--key', 'log', '--json')).json;
    expect(created).toMatchObject({ status: 'ok', origin: 'blux-reg/log', recorded: true });
    const checkpoint = await newestCheckpoint();

    const logKey = (await ok('ledger', 'log-key', '--key', 'log')).stdout.trim();
    expect((await ok('ledger', 'log-key', '--key', 'log', '--json')).json).toMatchObject({ name: 'blux-reg/log', vkey: logKey });
    const witnessKeys = [];
    for (const w of ['w1', 'w2', 'w3']) witnessKeys.push(`witness ${w} ${(await ok('witness', 'key', '--key', w)).stdout.trim()}`);
    writeFileSync(at('policy.txt'), [`log ${logKey}`, ...witnessKeys, 'group witnesses 3 w1 w2 w3', 'quorum witnesses', ''].join('\n'));

    for (const w of ['w1', 'w2']) await ok('witness', 'cosign', checkpoint, '--key', w, '--policy', at('policy.txt'), '-o', at(`cosigned-${w}.txt`));
    await ok('ledger', 'checkpoint', 'add-cosignature', checkpoint, at('cosigned-w1.txt'), at('cosigned-w2.txt'));

    // Two of three: the quorum of 3 is not met.
    const short = await cli('ledger', 'checkpoint', 'verify', checkpoint, '--policy', at('policy.txt'), '--json');
    expect(short.code).toBe(1);
    expect(short.json).toMatchObject({ status: 'invalid', reason: 'quorum-not-met', witnesses: ['w1', 'w2'] });

    await ok('witness', 'cosign', checkpoint, '--key', 'w3', '--policy', at('policy.txt'), '--in-place');
    const verified = await ok('ledger', 'checkpoint', 'verify', checkpoint, '--policy', at('policy.txt'));
    expect(verified.stdout).toContain("the ledger's first");

    const proof = (await ok('proof', at('app.tar'), '--json')).json;
    expect(proof).toMatchObject({ status: 'ok', bundle: at('app.tar.proof.json') });
    expect(proof.bytes).toBeLessThan(4096);

    // Offline: no config folder at all.
    rmSync(config, { recursive: true, force: true });
    const offline = await ok('verify', at('app.tar'), '--proof', at('app.tar.proof.json'), '--policy', at('policy.txt'), '--json');
    expect(offline.json).toMatchObject({ status: 'valid', kind: 'proof-bundle', witnesses: ['w1', 'w2', 'w3'] });

    appendFileSync(at('app.tar'), 'tampered');
    const tampered = await cli('verify', at('app.tar'), '--proof', at('app.tar.proof.json'), '--policy', at('policy.txt'));
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toContain('artifact-hash-mismatch');

    const noPolicy = await cli('verify', at('app.tar'), '--proof', at('app.tar.proof.json'));
    expect(noPolicy.code).toBe(2);
    expect(noPolicy.stderr).toContain('--policy');
  });

  it('ledger checkpoint verify --json and add-cosignature --json: a thrown error is printed as JSON too (exit 2)', async () => {
    for (const args of [
      ['ledger', 'checkpoint', 'verify', at('no-such-checkpoint.txt'), '--json'],
      ['ledger', 'checkpoint', '--json', 'verify', at('no-such-checkpoint.txt')],
      ['ledger', 'checkpoint', 'add-cosignature', at('no-such-checkpoint.txt'), at('nor-this.txt'), '--json'],
    ]) {
      const result = await cli(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.json, `${args.join(' ')}: ${result.stdout}`).toMatchObject({ status: 'error', reason: 'file-not-found', file: at('no-such-checkpoint.txt') });
    }
    // Without --json the error stays one line on stderr and stdout is empty.
    const plain = await cli('ledger', 'checkpoint', 'verify', at('no-such-checkpoint.txt'));
    expect(plain.code).toBe(2);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toContain('no-such-checkpoint.txt');
  });

  it('a witness refuses a rollback (exit 1); consistency proofs between checkpoints verify', async () => {
    const home = path.join(dir, 'second');
    const env2 = { BLUX_REG_CONFIG_DIR: home };
    const run2 = async (...args: string[]) => {
      const result = await runCli(args, { env: env2 });
      return result;
    };
    for (const key of ['log', 'w1']) expect((await run2('keygen', '-n', key, '--no-passphrase')).code).toBe(0);
    const logKey = (await run2('ledger', 'log-key', '--key', 'log')).stdout.trim();
    const witnessKey = (await run2('witness', 'key', '--key', 'w1')).stdout.trim();
    const policy = path.join(dir, 'policy-none.txt');
    writeFileSync(policy, `log ${logKey}\nwitness w1 ${witnessKey}\nquorum none\n`);
    const folder = path.join(home, 'trust', 'checkpoints');
    const checkpoints: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5; i++) expect((await run2('audit', 'add-event', `event ${round}.${i}`)).code).toBe(0);
      expect((await run2('ledger', 'checkpoint', '--key', 'log')).code).toBe(0);
      checkpoints.push(path.join(folder, readdirSync(folder).filter((f) => f.endsWith('.txt')).sort().at(-1)!));
    }
    const ledger = path.join(home, 'trust', 'ledger.jsonl');
    const [first, second] = checkpoints as [string, string];
    expect((await run2('witness', 'cosign', second, '--key', 'w1', '--policy', policy, '--ledger', ledger)).code).toBe(0);
    const rollback = await run2('witness', 'cosign', first, '--key', 'w1', '--policy', policy, '--json');
    expect(rollback.code).toBe(1);
    expect(rollback.json).toMatchObject({ status: 'invalid', reason: 'rollback' });

    const sizes = checkpoints.map((c) => Number(c.match(/checkpoint-0*(\d+)\.txt$/)![1]));
    const proofFile = path.join(dir, 'consistency.json');
    expect((await run2('ledger', 'prove-consistency', String(sizes[0]), String(sizes[1]), '-o', proofFile)).code).toBe(0);
    const good = await run2('ledger', 'verify-consistency', proofFile, '--old', first, '--new', second, '--policy', policy, '--json');
    expect(good.code).toBe(0);
    expect(good.json).toMatchObject({ status: 'valid', old_size: sizes[0], new_size: sizes[1] });
    // Against the wrong checkpoint (its size differs from the proof's old size).
    const wrong = await run2('ledger', 'verify-consistency', proofFile, '--old', second, '--policy', policy, '--json');
    expect(wrong.code).toBe(1);
    expect(wrong.json).toMatchObject({ reason: 'size-mismatch' });
    const usage = await run2('ledger', 'prove-consistency', '0');
    expect(usage.code).toBe(2);
  });
});
