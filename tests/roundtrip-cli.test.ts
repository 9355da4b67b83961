// Acceptance: keygen -> sign -> verify round trips through the CLI, and every
// kind of tampering ends in exit 1 with the right reason.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers/cli.js';

let dir: string;
let config: string;
let release: string;
const cli = (...args: string[]) => runCli(['--config-dir', config, ...args]);

beforeAll(async () => {
  dir = tempDir();
  config = path.join(dir, 'config');
  release = path.join(dir, 'release');
  fs.mkdirSync(release);
  for (const name of ['alice', 'bob']) {
    const r = await cli('keygen', '--name', name, '--no-passphrase');
    expect(r.code, r.stderr).toBe(0);
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function artifact(name: string, content: string | Buffer): string {
  const file = path.join(release, name);
  fs.writeFileSync(file, content);
  return file;
}

async function verifyJson(manifest: string, ...extra: string[]) {
  const r = await cli('verify', manifest, '--json', ...extra);
  return { code: r.code, status: r.json?.status, reason: r.json?.reason, json: r.json, stderr: r.stderr };
}

describe.each(['2.0', '1.0'])('manifest %s', (format) => {
  it('signs and verifies; tampering with the artifact, a field or the signature fails with exit 1', async () => {
    const file = artifact(`app-${format}.bin`, Buffer.alloc(200_000, 7));
    const signed = await cli('sign', file, '--key-name', 'alice', '--format', format, '--json');
    expect(signed.code, signed.stderr).toBe(0);
    const manifest = `${file}.blux-manifest.json`;
    expect(await verifyJson(manifest)).toMatchObject({ code: 0, status: 'valid', reason: 'ok' });

    // One artifact byte flipped.
    const original = fs.readFileSync(file);
    const flipped = Buffer.from(original);
    flipped[12345] = flipped[12345]! ^ 1;
    fs.writeFileSync(file, flipped);
    expect(await verifyJson(manifest)).toMatchObject({ code: 1, status: 'invalid', reason: 'artifact-hash-mismatch' });
    fs.writeFileSync(file, original);

    // A signed field edited (created_at), hashes still right: the signature no longer covers it.
    const text = fs.readFileSync(manifest, 'utf8');
    fs.writeFileSync(manifest, text.replace(/"created_at": "(\d{4})/, (_m, y: string) => `"created_at": "${Number(y) - 1}`));
    expect(await verifyJson(manifest)).toMatchObject({ code: 1, reason: 'bad-signature' });

    // A different, well-formed signature (first character changed within the base64 alphabet).
    const doc = JSON.parse(text);
    const sigHolder = format === '1.0' ? doc : doc.signatures[0];
    sigHolder.signature = (sigHolder.signature[0] === 'A' ? 'B' : 'A') + sigHolder.signature.slice(1);
    fs.writeFileSync(manifest, JSON.stringify(doc, null, 2));
    expect(await verifyJson(manifest)).toMatchObject({ code: 1, reason: 'bad-signature' });

    // A re-encoded (non-canonical) signature is malformed, not "still valid".
    sigHolder.signature = JSON.parse(text).signature ?? JSON.parse(text).signatures[0].signature;
    sigHolder.signature = sigHolder.signature.replace(/=+$/, '');
    fs.writeFileSync(manifest, JSON.stringify(doc, null, 2));
    expect(await verifyJson(manifest)).toMatchObject({ code: 1, reason: 'malformed-signature' });

    fs.writeFileSync(manifest, text);
    expect(await verifyJson(manifest)).toMatchObject({ code: 0, reason: 'ok' });
  });
});

describe('co-signing (2.0)', () => {
  it('two keys sign the same body; --require-signers counts distinct trusted keys', async () => {
    const file = artifact('cosigned.tar', 'release bytes\n');
    const manifest = `${file}.blux-manifest.json`;
    expect((await cli('sign', file, '--key-name', 'alice', '--metadata', '{"version":"1.2.3","n":1.0}')).code).toBe(0);
    expect(await verifyJson(manifest, '--require-signers', '2')).toMatchObject({ code: 1, reason: 'insufficient-signers' });

    const cosign = await cli('sign', file, '--key-name', 'bob', '--json');
    expect(cosign.json.action).toBe('co-signed');
    const doc = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    expect(doc.signatures).toHaveLength(2);
    expect(doc.metadata).toEqual({ version: '1.2.3', n: 1 });
    expect(fs.readFileSync(manifest, 'utf8')).toContain('"n": 1.0'); // the float stays a float

    const both = await verifyJson(manifest, '--require-signers', '2');
    expect(both).toMatchObject({ code: 0, reason: 'ok' });
    expect(both.json.signers.map((s: { status: string }) => s.status)).toEqual(['ok', 'ok']);

    // Signing again with the same key adds nothing: one key is one signer.
    expect((await cli('sign', file, '--key-name', 'alice', '--json')).json.action).toBe('already-signed');
    expect(JSON.parse(fs.readFileSync(manifest, 'utf8')).signatures).toHaveLength(2);

    // Different metadata on a co-signature would change the signed body: refused.
    const refused = await cli('sign', file, '--key-name', 'bob', '--metadata', '{"version":"6.6.6"}');
    expect(refused.code).toBe(2);
  });

  it('a revoked key no longer counts, and its signatures fail with key-revoked', async () => {
    const local = tempDir();
    try {
      const c = (...args: string[]) => runCli(['--config-dir', path.join(local, 'config'), ...args]);
      expect((await c('keygen', '--name', 'carol', '--no-passphrase')).code).toBe(0);
      const file = path.join(local, 'a.bin');
      fs.writeFileSync(file, 'x');
      expect((await c('sign', file, '--key-name', 'carol')).code).toBe(0);
      expect((await c('verify', `${file}.blux-manifest.json`)).code).toBe(0);
      expect((await c('key', 'revoke', 'carol', '--reason', 'lost laptop', '--revoker', 'ops')).code).toBe(0);
      const r = await c('verify', `${file}.blux-manifest.json`, '--json');
      expect(r.json).toMatchObject({ status: 'invalid', reason: 'key-revoked' });
      const list = await c('key', 'list', '--json');
      expect(list.json).toEqual([]);
      expect((await c('key', 'list', '--json', '--show-revoked')).json[0]).toMatchObject({ name: 'carol', revoked: true });
    } finally {
      fs.rmSync(local, { recursive: true, force: true });
    }
  });
});

describe('encrypted keys', () => {
  it('signs with the right passphrase; a wrong one is exit 2 and writes nothing', async () => {
    const local = tempDir();
    try {
      const c = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['--config-dir', path.join(local, 'config'), ...args], { env });
      const pass = path.join(local, 'pass');
      fs.writeFileSync(pass, 'right passphrase\n');
      expect((await c(['keygen', '--name', 'sec', '--passphrase-file', pass])).code).toBe(0);
      expect(fs.readFileSync(path.join(local, 'config/keys/sec.pem'), 'utf8')).toContain('BLUX-REG ENCRYPTED PRIVATE KEY');
      const file = path.join(local, 'a.bin');
      fs.writeFileSync(file, 'payload');

      const wrong = await c(['sign', file, '--key-name', 'sec'], { BLUX_REG_PASSPHRASE: 'wrong passphrase' });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('wrong passphrase');
      expect(wrong.stderr).toContain('sec.pem');
      expect(fs.existsSync(`${file}.blux-manifest.json`)).toBe(false);

      const missing = await c(['sign', file, '--key-name', 'sec']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('passphrase-required');

      expect((await c(['sign', file, '--key-name', 'sec'], { BLUX_REG_PASSPHRASE: 'right passphrase' })).code).toBe(0);
      expect((await c(['verify', `${file}.blux-manifest.json`])).code).toBe(0);
    } finally {
      fs.rmSync(local, { recursive: true, force: true });
    }
  });
});

describe('capability tokens', () => {
  it('issue, verify, revoke, verify again: revoked', async () => {
    const token = path.join(dir, 'deploy.token.json');
    const issued = await cli('issue', 'alice', 'deploy', 'acme/prod', '600', '--constraints', '{"region":"eu","max":2.5}', '--output', token, '--json');
    expect(issued.code, issued.stderr).toBe(0);
    expect(await verifyJson(token)).toMatchObject({ code: 0, reason: 'ok' });
    expect(await verifyJson(token, '--audience', 'acme/prod')).toMatchObject({ code: 0, reason: 'ok' });
    expect(await verifyJson(token, '--audience', 'acme/staging')).toMatchObject({ code: 1, reason: 'audience-mismatch' });

    const hash = (await cli('hash', token)).stdout.trim();
    expect(hash).toBe(issued.json.token_hash);
    expect((await cli('token', 'revoke', hash, '--reason', 'rotated', '--revoker', 'ops')).code).toBe(0);
    expect(await verifyJson(token)).toMatchObject({ code: 1, reason: 'revoked' });
    // Revoking twice is harmless.
    expect((await cli('revoke', hash, '--reason', 'again', '--revoker', 'ops', '--json')).json.added).toBe(false);
  });

  it('expired after its TTL, not yet valid before its issue time', async () => {
    const token = path.join(dir, 'short.token.json');
    expect((await cli('token', 'issue', 'alice', 'build', 'acme/ci', '60', '--output', token)).code).toBe(0);
    const doc = JSON.parse(fs.readFileSync(token, 'utf8'));
    const after = new Date(Date.parse(doc.expires_at) + 1000).toISOString().replace('.000Z', '+00:00');
    expect(await verifyJson(token, '--at', after)).toMatchObject({ code: 1, reason: 'expired' });
    const before = new Date(Date.parse(doc.issued_at) - 3600_000).toISOString().replace('.000Z', '+00:00');
    expect(await verifyJson(token, '--at', before)).toMatchObject({ code: 1, reason: 'not-yet-valid' });
  });

  it('a forged issuer (trusted fingerprint, another key embedded and signing) is issuer-key-mismatch', async () => {
    const token = path.join(dir, 'forge.token.json');
    expect((await cli('token', 'issue', 'bob', 'admin', 'acme/prod', '600', '--output', token)).code).toBe(0);
    const forged = JSON.parse(fs.readFileSync(token, 'utf8'));
    const alice = (await cli('key', 'list', '--json')).json.find((k: { name: string }) => k.name === 'alice');
    forged.issuer.fingerprint = alice.fingerprint;
    forged.issuer.key_name = 'alice';
    const forgedFile = path.join(dir, 'forged.token.json');
    fs.writeFileSync(forgedFile, JSON.stringify(forged, null, 2));
    expect(await verifyJson(forgedFile)).toMatchObject({ code: 1, reason: 'issuer-key-mismatch' });
  });

  it('token show prints the fields and the hash without verifying', async () => {
    const token = path.join(dir, 'show.token.json');
    expect((await cli('issue', 'alice', 'read', 'acme/docs', '60', '--output', token)).code).toBe(0);
    const shown = await cli('token', 'show', token, '--json');
    expect(shown.json.token.capability).toBe('read');
    expect(shown.json.token_hash).toBe((await cli('hash', token)).stdout.trim());
  });
});

describe('input errors are exit 2 with one line naming the file', () => {
  it.each([
    ['a missing file', (d: string) => path.join(d, 'nope.json'), 'file-not-found'],
    ['malformed JSON', (d: string) => { const f = path.join(d, 'bad.json'); fs.writeFileSync(f, '{"artifact_path": '); return f; }, 'malformed'],
    ['a directory', (d: string) => d, 'file-unreadable'],
  ])('%s', async (_what, make, reason) => {
    const file = make(dir);
    const r = await cli('verify', file, '--json');
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ status: 'error', reason });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(file);
  });

  it('usage errors exit 2; --help exits 0', async () => {
    expect((await cli('verify')).code).toBe(2);
    expect((await cli('no-such-command')).code).toBe(2);
    expect((await cli('--backend', 'quantum', 'status')).code).toBe(2);
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('verify-manifest');
  });

  it('a manifest whose artifact path leaves its folder is path-traversal, also through a symlink', async () => {
    const outside = artifact('outside.bin', 'secret');
    const inner = path.join(release, 'inner');
    fs.mkdirSync(inner, { recursive: true });
    fs.symlinkSync(outside, path.join(inner, 'link.bin'));
    const signed = await cli('sign', path.join(inner, 'link.bin'), '--key-name', 'alice');
    expect(signed.code, signed.stderr).toBe(0);
    expect(await verifyJson(path.join(inner, 'link.bin.blux-manifest.json'))).toMatchObject({ code: 1, reason: 'path-traversal' });
  });
});
