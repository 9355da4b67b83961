import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';

import { runCli, tempDir } from './helpers/cli.js';
import { generateLedgerLines, makeSigner } from './ledger-audit-fixtures.js';

const dir = tempDir('blux-audit-cli-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const config = path.join(dir, 'config');
const joinLines = (lines: readonly string[]): string => lines.map((l) => `${l}\n`).join('');
const signer = makeSigner();
const keysDir = path.join(dir, 'trusted');
fs.mkdirSync(keysDir);
fs.writeFileSync(path.join(keysDir, 'auditor.pub.pem'), signer.publicKeyPem);

const plainLines = generateLedgerLines(30, { seed: 12 });
const plain = path.join(dir, 'plain.jsonl');
fs.writeFileSync(plain, joinLines(plainLines));
const signed = path.join(dir, 'signed.jsonl');
fs.writeFileSync(signed, joinLines(generateLedgerLines(30, { seed: 13, signers: [signer] })));
const broken = path.join(dir, 'broken.jsonl');
fs.writeFileSync(broken, joinLines([...plainLines.slice(0, 10), ...plainLines.slice(11)]));

const audit = (...args: string[]) => runCli(['--config-dir', config, 'audit', 'verify-chain', ...args]);
const validate = new Ajv({ strict: true }).compile(JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'schemas', 'ledger-audit-report.schema.json'), 'utf8')) as object);

describe('audit verify-chain', () => {
  it('exits 0 on a valid ledger and prints a report that matches the schema', async () => {
    const r = await audit('--ledger', plain, '--json');
    expect(r.code).toBe(0);
    expect(validate(r.json), JSON.stringify(validate.errors)).toBe(true);
    expect(r.json).toMatchObject({ status: 'valid', entries: 30, last_line: 30, slow_path_lines: 0 });
  });

  it('says where the head is in the human summary', async () => {
    const r = await audit('--ledger', plain);
    expect(r.code).toBe(0);
    const head = (JSON.parse(plainLines[29]!) as { entry_hash: string }).entry_hash;
    expect(r.stdout).toContain(`valid, 30 entries, head ${head}@30`);
  });

  it('exits 1 naming the line and the reason when the chain is broken', async () => {
    const r = await audit('--ledger', broken);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken\.jsonl: invalid: prev-hash-mismatch at line 11/);
  });

  it('writes --report (JSON) and --report-html files', async () => {
    const report = path.join(dir, 'out', 'report.json');
    fs.mkdirSync(path.dirname(report), { recursive: true });
    const html = path.join(dir, 'out', 'report.html');
    const r = await audit('--ledger', broken, '--report', report, '--report-html', html);
    expect(r.code).toBe(1);
    const written = JSON.parse(fs.readFileSync(report, 'utf8')) as unknown;
    expect(validate(written)).toBe(true);
    expect(written).toMatchObject({ status: 'invalid', reason: 'prev-hash-mismatch', first_bad_line: 11 });
    expect(fs.readFileSync(html, 'utf8')).toMatch(/<html[\s\S]*prev-hash-mismatch/i);
  });

  it('checks --expect-head HASH@LINE and refuses a malformed one with exit 2', async () => {
    const hash = (JSON.parse(plainLines[14]!) as { entry_hash: string }).entry_hash;
    expect((await audit('--ledger', plain, '--expect-head', `${hash}@15`)).code).toBe(0);
    const moved = await audit('--ledger', plain, '--expect-head', `${hash}@16`, '--json');
    expect(moved.code).toBe(1);
    expect(moved.json).toMatchObject({ reason: 'head-mismatch', expect_head: { hash, line: 16, found: false } });
    const bad = await audit('--ledger', plain, '--expect-head', 'abc@x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--expect-head must be a 64-hex entry hash/);
  });

  it('verifies signatures against --trusted-keys and enforces --require-signed', async () => {
    const trusted = await audit('--ledger', signed, '--trusted-keys', keysDir, '--no-keystore', '--require-signed', '--json');
    expect(trusted.code).toBe(0);
    expect(trusted.json).toMatchObject({ signatures: { signed: 30, valid: 30 } });
    const untrusted = await audit('--ledger', signed, '--require-signed', '--json');
    expect(untrusted.code).toBe(1);
    expect(untrusted.json).toMatchObject({ reason: 'entry-unsigned', first_bad_line: 1 });
    const lenient = await audit('--ledger', signed, '--json');
    expect(lenient.json).toMatchObject({ status: 'valid', signatures: { unverified: 30, signers: [{ key: 'unknown' }] } });
  });

  it('keeps a ledger valid when a key is revoked in the same second as its keygen entry', async () => {
    const home = path.join(dir, 'same-second');
    const cli = (...args: string[]) => runCli(['--config-dir', home, ...args]);
    expect((await cli('keygen', '--name', 'brief', '--no-passphrase')).code).toBe(0);
    expect((await cli('key', 'revoke', 'brief', '--reason', 'rotated', '--revoker', 'ops')).code).toBe(0);
    // Pin the race: whatever second the revoke landed in, make revoked_at the keygen entry's own second.
    const ledger = path.join(home, 'trust', 'ledger.jsonl');
    const keygenTs = (JSON.parse(fs.readFileSync(ledger, 'utf8').split('\n')[0]!) as { ts: string }).ts;
    const revocations = path.join(home, 'trust', 'key_revocations.jsonl');
    fs.writeFileSync(revocations, fs.readFileSync(revocations, 'utf8').replace(/"revoked_at":"[^"]*"/, `"revoked_at":"${keygenTs}"`));
    const r = await cli('audit', 'verify-chain', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ status: 'valid', entries: 2, signatures: { valid: 1 } });
  });

  it('exits 2 on a missing ledger file and on bad --jobs', async () => {
    expect((await audit('--ledger', path.join(dir, 'nope.jsonl'))).code).toBe(2);
    expect((await audit('--ledger', plain, '--jobs', '0')).code).toBe(2);
  });

  it('gives the same verdict with --jobs 1 and --jobs 2 (a ledger this small is checked in-thread)', async () => {
    const one = await audit('--ledger', broken, '--jobs', '1', '--json');
    const two = await audit('--ledger', broken, '--jobs', '2', '--json');
    expect(two.json.first_bad_line).toBe(one.json.first_bad_line);
    expect(two.json.jobs).toBe(1);
  });

  it('--kernel native|node|wasm: the same verdicts, the kernel named in the report; native by default, wasm with --backend wasm', async () => {
    for (const file of [plain, broken]) {
      const reports = await Promise.all(['native', 'node', 'wasm'].map((kernel) => audit('--ledger', file, '--kernel', kernel, '--json')));
      reports.forEach((r, i) => expect(r.json.backend).toBe(`${['native', 'node', 'wasm'][i]}+auto`));
      const [native, ...others] = reports.map((r) => ({ code: r.code, status: r.json.status, reason: r.json.reason, line: r.json.first_bad_line, last: r.json.last_hash }));
      for (const other of others) expect(other).toEqual(native);
    }
    expect((await audit('--ledger', plain, '--json')).json.backend).toBe('native+auto');
    expect((await runCli(['--config-dir', config, '--backend', 'wasm', 'audit', 'verify-chain', '--ledger', plain, '--json'])).json.backend).toBe('wasm+wasm');
  });

  it('exits 2 on an unknown --kernel, and on --kernel with --since', async () => {
    const unknown = await audit('--ledger', plain, '--kernel', 'gpu');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--kernel.*gpu.*native, node, wasm/s);
    const since = await audit('--ledger', plain, '--kernel', 'node', '--since', path.join(dir, 'checkpoint.json'));
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--kernel is for a full audit/);
  });
});
