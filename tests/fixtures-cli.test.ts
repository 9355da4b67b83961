// Acceptance: every case of blux-reg 0.2's fixture set gets the expected
// verdict and reason through the CLI, on every backend, against a temp copy
// of the fixture's config/ (trusting only its keys).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixtures, FIXTURE_DIR, runCli } from './helpers/cli.js';

interface Case { file: string; expected: 'valid' | 'invalid'; reason: string; first_bad_line?: number | null; entries?: number; last_hash?: string }
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, 'expected.json'), 'utf8')) as {
  verify_now: string; manifests: Case[]; tokens: Case[]; ledgers: Case[];
};

const BACKENDS = ['native', 'js'] as const;

describe.each(BACKENDS)('seed-v0.2 fixtures through the CLI, backend %s', (backend) => {
  let dir: string;
  beforeAll(() => {
    dir = copyFixtures();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const base = () => ['--config-dir', path.join(dir, 'config'), '--backend', backend];

  it.each(expected.manifests.map((c) => [c.file, c] as const))('manifest %s', async (_name, c) => {
    const r = await runCli([...base(), 'verify', path.join(dir, c.file), '--json']);
    expect(r.json, r.stderr).toBeDefined();
    expect({ status: r.json.status, reason: r.json.reason }).toEqual({ status: c.expected, reason: c.reason });
    expect(r.code).toBe(c.expected === 'valid' ? 0 : 1);
    if (c.expected !== 'valid') expect(r.stderr).toContain(c.reason);
  });

  it.each(expected.tokens.map((c) => [c.file, c] as const))('token %s', async (_name, c) => {
    const r = await runCli([...base(), 'verify', path.join(dir, c.file), '--json', '--at', expected.verify_now]);
    expect(r.json, r.stderr).toBeDefined();
    expect({ status: r.json.status, reason: r.json.reason }).toEqual({ status: c.expected, reason: c.reason });
    expect(r.code).toBe(c.expected === 'valid' ? 0 : 1);
  });

  it.each(expected.ledgers.map((c) => [c.file, c] as const))('ledger %s', async (_name, c) => {
    const r = await runCli([...base(), 'audit', 'verify-chain', '--ledger', path.join(dir, c.file), '--json']);
    expect(r.json, r.stderr).toBeDefined();
    expect({ status: r.json.status, reason: r.json.reason, first_bad_line: r.json.first_bad_line })
      .toEqual({ status: c.expected, reason: c.reason, first_bad_line: c.first_bad_line ?? null });
    if (c.expected === 'valid') {
      expect(r.json.entries).toBe(c.entries);
      expect(r.json.last_hash).toBe(c.last_hash);
    }
    expect(r.code).toBe(c.expected === 'valid' ? 0 : 1);
  });
});

describe('what the fixture verdicts depend on', () => {
  it('without the keystore, a manifest by a fixture key is unknown-key: trust comes only from trusted keys', async () => {
    const dir = copyFixtures();
    try {
      const r = await runCli(['--config-dir', path.join(dir, 'config'), 'verify', '--no-keystore', path.join(dir, 'artifacts/notes.txt.blux-manifest.json'), '--json']);
      expect(r.json.reason).toBe('unknown-key');
      const trusted = await runCli(['--config-dir', path.join(dir, 'config'), 'verify', '--no-keystore',
        '--trusted-keys', path.join(dir, 'config/keys/bob.pub.pem'), path.join(dir, 'artifacts/notes.txt.blux-manifest.json'), '--json']);
      expect(trusted.json.reason).toBe('ok');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mallory becomes trusted only when explicitly given with --trusted-keys', async () => {
    const dir = copyFixtures();
    try {
      const args = ['--config-dir', path.join(dir, 'config'), 'verify', path.join(dir, 'tokens/untrusted-issuer.json'), '--json', '--at', expected.verify_now];
      expect((await runCli(args)).json.reason).toBe('untrusted-issuer');
      expect((await runCli([...args, '--trusted-keys', path.join(dir, 'untrusted/mallory.pub.pem')])).json.reason).toBe('ok');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tokens are judged at --at: the expired one was valid at its expires_at and expired one second later', async () => {
    const dir = copyFixtures();
    try {
      const token = expected.tokens.find((t) => t.file === 'tokens/deploy-expired.json')! as Case & { expires_at: string };
      const args = ['--config-dir', path.join(dir, 'config'), 'verify', path.join(dir, token.file), '--json'];
      expect((await runCli([...args, '--at', token.expires_at])).json.reason).toBe('ok');
      const oneLater = new Date(Date.parse(token.expires_at) + 1000).toISOString().replace('.000Z', '+00:00');
      expect((await runCli([...args, '--at', oneLater])).json.reason).toBe('expired');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
