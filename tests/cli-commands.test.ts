// The rest of the command set through the CLI: key lifecycle, ledger commands,
// init / status / doctor, and the refusals that keep state consistent.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';

let dir: string;
let config: string;
const cli = (args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}) => runCli(['--config-dir', config, ...args], options);

beforeEach(() => {
  dir = tempDir();
  config = path.join(dir, 'config');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}

describe('init, status, doctor', () => {
  it('init creates the folders; status reports them; doctor passes and changes nothing', async () => {
    const fresh = await cli(['doctor', '--json']);
    expect(fresh.code, fresh.stdout).toBe(0);
    expect(fs.existsSync(config)).toBe(false); // doctor only looks

    expect((await cli(['init'])).code).toBe(0);
    expect(fs.statSync(path.join(config, 'keys')).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(path.join(config, 'trust', 'tokens'))).toBe(true);
    expect((await cli(['keygen', '--name', 'a', '--no-passphrase'])).code).toBe(0);
    const status = await cli(['status', '--json']);
    expect(status.json).toMatchObject({ keys: 1, revoked_keys: 0, revoked_tokens: 0, backend: 'auto' });
    expect(status.json.ledger.head_hash).toMatch(/^[0-9a-f]{64}$/);

    const doctor = await cli(['doctor', '--json']);
    expect(doctor.code).toBe(0);
    expect(doctor.json.checks.map((c: { check: string }) => c.check)).toEqual(expect.arrayContaining(['backend native', 'backend js', 'native addon', 'private key a permissions']));
    expect(doctor.json.checks.find((c: { check: string }) => c.check === 'native addon')).toMatchObject({ ok: true, detail: expect.stringMatching(/blux_native\.node: ledger scan and sha256 ok .*hashing with (the CPU's SHA extensions|OpenSSL)/) });
    fs.chmodSync(path.join(config, 'keys', 'a.pem'), 0o644);
    const bad = await cli(['doctor', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.json.checks.find((c: { check: string }) => c.check === 'private key a permissions').ok).toBe(false);
  });

  it('audit verify-chain on a fresh config is an empty valid chain; a named missing ledger is exit 2', async () => {
    const r = await cli(['audit', 'verify-chain', '--json']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ status: 'valid', entries: 0 });
    expect((await cli(['audit', 'verify-chain', '--ledger', path.join(dir, 'none.jsonl')])).code).toBe(2);
  });
});

describe('ledger commands', () => {
  it('add-event, tail, verify-chain, and repair of a torn last line', async () => {
    for (const m of ['first', 'second ✓', 'third']) expect((await cli(['audit', 'add-event', m, '--actor', 'ci'])).code).toBe(0);
    const tail = await cli(['audit', 'tail', '-n', '2', '--json']);
    expect(tail.json.map((e: { payload_summary: string }) => e.payload_summary)).toEqual(['second ✓', 'third']);
    expect((await cli(['audit', 'verify-chain'])).code).toBe(0);

    const ledger = path.join(config, 'trust', 'ledger.jsonl');
    const intact = fs.readFileSync(ledger);
    fs.appendFileSync(ledger, '{"action":"event","actor":"x","payl');
    const torn = await cli(['audit', 'verify-chain', '--json']);
    expect(torn.json).toMatchObject({ status: 'invalid', reason: 'malformed-line', first_bad_line: 4, torn_last_line: true });
    const refused = await cli(['audit', 'add-event', 'after the crash']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('audit repair');

    const repair = await cli(['audit', 'repair', '--json']);
    expect(repair.json).toMatchObject({ status: 'ok', repaired: true });
    expect(fs.existsSync(repair.json.backup)).toBe(true);
    expect(fs.readFileSync(ledger)).toEqual(intact);
    expect((await cli(['audit', 'add-event', 'after the repair'])).code).toBe(0);
    expect((await cli(['audit', 'verify-chain', '--json'])).json).toMatchObject({ status: 'valid', entries: 4 });
  });
});

describe('revocations and the ledger stay in step', () => {
  it('a revocation the ledger cannot record is not made: exit 2, list unchanged; after repair it goes through', async () => {
    expect((await cli(['keygen', '--name', 'k', '--no-passphrase'])).code).toBe(0);
    const ledger = path.join(config, 'trust', 'ledger.jsonl');
    fs.appendFileSync(ledger, '{"torn":');
    const hash = 'c'.repeat(64);
    const refused = await cli(['revoke', hash, '--reason', 'r', '--revoker', 'ops']);
    expect(refused.code).toBe(2);
    expect(fs.existsSync(path.join(config, 'trust', 'token_revocations.jsonl'))).toBe(false);
    expect((await cli(['key', 'revoke', 'k', '--reason', 'r', '--revoker', 'ops'])).code).toBe(2);
    expect(fs.existsSync(path.join(config, 'trust', 'key_revocations.jsonl'))).toBe(false);

    expect((await cli(['audit', 'repair'])).code).toBe(0);
    expect((await cli(['revoke', hash, '--reason', 'r', '--revoker', 'ops'])).code).toBe(0);
    expect((await cli(['key', 'revoke', 'k', '--reason', 'r', '--revoker', 'ops'])).code).toBe(0);
    const actions = (await cli(['audit', 'tail', '-n', '2', '--json'])).json.map((e: { action: string }) => e.action);
    expect(actions).toEqual(['token-revoke', 'key-revoke']);
    expect((await cli(['status', '--json'])).json).toMatchObject({ revoked_tokens: 1, revoked_keys: 1 });
  });
});

describe('key lifecycle', () => {
  it('export, import (file and --stdin), change-passphrase, rotate', async () => {
    expect((await cli(['keygen', '--name', 'rel', '--no-passphrase'])).code).toBe(0);
    const pub = await cli(['key', 'export', '--name', 'rel', '--public']);
    expect(pub.stdout).toContain('BEGIN PUBLIC KEY');
    const exported = path.join(dir, 'rel-private.pem');
    expect((await cli(['key', 'export', '--name', 'rel', '--private', '--output', exported])).code).toBe(0);
    expect(fs.statSync(exported).mode & 0o777).toBe(0o600);
    const nowhere = await cli(['key', 'export', '--name', 'rel', '--public', '--output', path.join(dir, 'no', 'such', 'dir', 'k.pem')]);
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr.trim().split('\n')).toHaveLength(1);

    // Import elsewhere: a public key from a file, the private key from stdin (as a CI secret).
    const other = path.join(dir, 'other');
    const imp = (args: string[], input?: string) => runCli(['--config-dir', other, ...args], input === undefined ? {} : { input });
    fs.writeFileSync(path.join(dir, 'rel.pub.pem'), pub.stdout);
    expect((await imp(['key', 'import', path.join(dir, 'rel.pub.pem'), '--name', 'rel-public', '--json'])).json).toMatchObject({ has_private_key: false });
    const fromStdin = await imp(['key', 'import', '--stdin', '--name', 'ci', '--json'], fs.readFileSync(exported, 'utf8'));
    expect(fromStdin.json).toMatchObject({ name: 'ci', has_private_key: true, encrypted: false });
    expect(fromStdin.json.fingerprint).toBe((await cli(['key', 'list', '--json'])).json[0].fingerprint);

    // Encrypt, sign with the passphrase, decrypt again.
    const newPass = file('new.pass', 'n3w passphrase\n');
    expect((await cli(['key', 'change-passphrase', 'rel', '--new-passphrase-file', newPass])).code).toBe(0);
    expect(fs.readFileSync(path.join(config, 'keys', 'rel.pem'), 'utf8')).toContain('BLUX-REG ENCRYPTED PRIVATE KEY');
    const art = file('a.bin', 'x');
    expect((await cli(['sign', art, '-k', 'rel'], { env: { BLUX_REG_PASSPHRASE: 'wrong' } })).code).toBe(2);
    expect((await cli(['sign', art, '-k', 'rel', '--passphrase-file', newPass])).code).toBe(0);
    expect((await cli(['key', 'change-passphrase', 'rel', '--passphrase-file', newPass, '--remove'])).code).toBe(0);
    expect(fs.readFileSync(path.join(config, 'keys', 'rel.pem'), 'utf8')).toContain('BEGIN PRIVATE KEY');

    // Rotate: the old key is revoked (its signatures fail), the name has a new key, the ledger links both.
    const rotated = await cli(['key', 'rotate', 'rel', '--no-passphrase', '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.json.new_fingerprint).not.toBe(rotated.json.old_fingerprint);
    expect((await cli(['verify', `${art}.blux-manifest.json`, '--json'])).json.reason).toBe('key-revoked');
    const art2 = file('b.bin', 'y');
    expect((await cli(['sign', art2, '-k', 'rel'])).code).toBe(0);
    expect((await cli(['verify', `${art2}.blux-manifest.json`])).code).toBe(0);
    const tail = await cli(['audit', 'tail', '-n', '3', '--json']);
    expect(tail.json.map((e: { action: string }) => e.action)).toEqual(['key-revoke', 'key-rotate', 'sign']);
    expect(tail.json[1]).toMatchObject({ old_fingerprint: rotated.json.old_fingerprint, new_fingerprint: rotated.json.new_fingerprint });
    expect((await cli(['audit', 'verify-chain'])).code).toBe(0);
  });

  it('a revoked key can neither sign nor issue, and its tokens fail with key-revoked', async () => {
    expect((await cli(['keygen', '--name', 'old', '--no-passphrase'])).code).toBe(0);
    const token = path.join(dir, 't.json');
    expect((await cli(['issue', 'old', 'deploy', 'acme', '60', '--output', token])).code).toBe(0);
    expect((await cli(['key', 'revoke', 'old', '--reason', 'leaked', '--revoker', 'sec'])).code).toBe(0);
    expect((await cli(['verify', token, '--json'])).json.reason).toBe('key-revoked');
    const sign = await cli(['sign', file('c.bin', 'z'), '-k', 'old']);
    expect(sign.code).toBe(2);
    expect(sign.stderr).toContain('key-revoked');
    expect((await cli(['issue', 'old', 'deploy', 'acme', '60'])).code).toBe(2);
  });
});

describe('manifest safety', () => {
  it('refuses to co-sign a manifest whose body was edited after signing', async () => {
    for (const k of ['a', 'b']) expect((await cli(['keygen', '--name', k, '--no-passphrase'])).code).toBe(0);
    const art = file('app.bin', 'bytes');
    expect((await cli(['sign', art, '-k', 'a', '--metadata', '{"version":"1.0.0"}'])).code).toBe(0);
    const manifest = `${art}.blux-manifest.json`;
    fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('1.0.0', '9.9.9-evil'));
    const r = await cli(['sign', art, '-k', 'b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad-signature');
    expect(JSON.parse(fs.readFileSync(manifest, 'utf8')).signatures).toHaveLength(1);
  });

  it('concurrent co-signers all end up in the manifest', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    for (const k of keys) expect((await cli(['keygen', '--name', k, '--no-passphrase'])).code).toBe(0);
    const art = file('app.bin', 'bytes');
    expect((await cli(['sign', art, '-k', 'a'])).code).toBe(0);
    const results = await Promise.all(keys.slice(1).map((k) => cli(['sign', art, '-k', k])));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(fs.readFileSync(`${art}.blux-manifest.json`, 'utf8'));
    expect(doc.signatures).toHaveLength(keys.length);
    expect((await cli(['verify', `${art}.blux-manifest.json`, '--require-signers', String(keys.length)])).code).toBe(0);
  });

  it('a co-signed manifest with one revoked signer fails with key-revoked', async () => {
    for (const k of ['a', 'b']) expect((await cli(['keygen', '--name', k, '--no-passphrase'])).code).toBe(0);
    const art = file('app.bin', 'bytes');
    expect((await cli(['sign', art, '-k', 'a'])).code).toBe(0);
    expect((await cli(['sign', art, '-k', 'b'])).code).toBe(0);
    expect((await cli(['key', 'revoke', 'a', '--reason', 'x', '--revoker', 'y'])).code).toBe(0);
    expect((await cli(['verify', `${art}.blux-manifest.json`, '--json'])).json.reason).toBe('key-revoked');
  });

  it('does not overwrite a manifest for other content or format without --force', async () => {
    expect((await cli(['keygen', '--name', 'a', '--no-passphrase'])).code).toBe(0);
    const art = file('app.bin', 'v1');
    expect((await cli(['sign', art, '-k', 'a'])).code).toBe(0);
    fs.writeFileSync(art, 'v2');
    const refused = await cli(['sign', art, '-k', 'a']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force');
    expect((await cli(['sign', art, '-k', 'a', '--format', '1.0'])).code).toBe(2);
    expect((await cli(['sign', art, '-k', 'a', '--force'])).code).toBe(0);
    expect((await cli(['verify', `${art}.blux-manifest.json`])).code).toBe(0);
  });

  it('a 2.0 artifact of another size is artifact-size-mismatch; a name starting with .. is fine', async () => {
    expect((await cli(['keygen', '--name', 'a', '--no-passphrase'])).code).toBe(0);
    const art = file('app.bin', 'four');
    expect((await cli(['sign', art, '-k', 'a'])).code).toBe(0);
    fs.writeFileSync(art, 'five!');
    expect((await cli(['verify', `${art}.blux-manifest.json`, '--json'])).json.reason).toBe('artifact-size-mismatch');

    const dotted = file('rel/..hidden', 'legit');
    expect((await cli(['sign', dotted, '-k', 'a'])).code).toBe(0);
    expect((await cli(['verify', `${dotted}.blux-manifest.json`, '--json'])).json.reason).toBe('ok');
  });

  it('a manifest whose metadata RFC 8785 cannot express is invalid/malformed, naming the file', async () => {
    const m = file('weird.blux-manifest.json', JSON.stringify({
      schema_version: '2.0', artifact: { path: 'x', size: 1, sha256: 'a'.repeat(64) }, created_at: 'now',
      metadata: {}, signatures: [{ key_fingerprint: 'b'.repeat(64), signed_at: 'now', signature: `${'A'.repeat(86)}==` }],
    }).replace('"metadata":{}', '"metadata":{"n":90071992547409930}'));
    const r = await cli(['verify', m, '--json']);
    expect(r.json).toMatchObject({ status: 'invalid', reason: 'malformed', file: m });
    expect(r.code).toBe(1);
  });

  it('--at refuses impossible offsets and dates', async () => {
    const token = file('t.json', '{}');
    for (const at of ['2026-01-01T00:00:00+99:99', '2026-02-30T00:00:00Z', '2026-01-01T00:00:00']) {
      expect((await cli(['verify', token, '--at', at])).code, at).toBe(2);
    }
  });
});
