/**
 * Signed ledger entries, writer side (issue 5): every use-case that appends
 * as a local key signs its entry; `sig` verifies over `ledgerSignedBytes`
 * under the actor's public key; the chain stays valid for our audit and for
 * the Python 0.2 rule (entry_hash over the entry including sig); concurrent
 * signed appends from many processes keep a valid chain; a wrong passphrase
 * writes nothing.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { addLedgerEvent } from '../src/audit/add-event.js';
import { verifyLedgerChain } from '../src/audit/verify-chain.js';
import { decodeBase64Strict } from '../src/formats/base64.js';
import { parseJson, type JsonObject } from '../src/formats/canonical/json-value.js';
import { fingerprintOf, privateKeyDer, publicKeyDer, rawPublicKeyFromDer } from '../src/formats/keys.js';
import { buildLedgerEntry, LEDGER_SIG_KEY, ledgerSignedBytes, serializeLedgerLine } from '../src/formats/ledger-entry.js';
import { createKey, revokeKey, rotateKey } from '../src/keys/lifecycle.js';
import { signArtifact } from '../src/sign/sign-artifact.js';
import { appendLedgerEntry } from '../src/store/ledger-file.js';
import { listPublicKeys } from '../src/store/keystore.js';
import { configPaths, type ConfigPaths } from '../src/store/paths.js';
import { issueToken } from '../src/tokens/issue.js';
import { revokeToken } from '../src/tokens/revoke.js';
import { runCli, tempDir } from './helpers/cli.js';
import { rejection } from './helpers/errors.js';
import { assertFreshBuild, startNode } from './helpers/processes.js';

const APPENDER = fileURLToPath(new URL('./helpers/ledger-appender.mjs', import.meta.url));

let dir: string;
let paths: ConfigPaths;
beforeEach(() => {
  dir = tempDir('blux-ledger-signing-');
  paths = configPaths(path.join(dir, 'config'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const noPassphrase = async (): Promise<string> => {
  throw new Error('an unencrypted key must not ask for a passphrase');
};

/** A deterministic test key (seed = SHA-256 of `label`). */
function keyFromSeed(label: string): { seedHex: string; publicRaw: Uint8Array; fingerprint: string; sign: (bytes: Uint8Array) => Uint8Array } {
  const seed = crypto.createHash('sha256').update(label).digest();
  const privateKey = crypto.createPrivateKey({ key: Buffer.from(privateKeyDer(seed)), format: 'der', type: 'pkcs8' });
  const publicRaw = rawPublicKeyFromDer(crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' }))!;
  return {
    seedHex: seed.toString('hex'),
    publicRaw,
    fingerprint: fingerprintOf(publicRaw),
    sign: (bytes) => new Uint8Array(crypto.sign(null, bytes, privateKey)),
  };
}

function ledgerEntries(ledger: string): JsonObject[] {
  return fs.readFileSync(ledger, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => parseJson(l) as JsonObject);
}

/** Public keys of every local key (archived ones too), by fingerprint. */
function publicKeysByFingerprint(p: ConfigPaths): Map<string, Uint8Array> {
  return new Map(listPublicKeys(p).keys.map((k) => [k.fingerprint, k.publicKey]));
}

/** True when the entry's sig is a valid Ed25519 signature over ledgerSignedBytes by `publicKey`. */
function sigVerifies(entry: JsonObject, publicKey: Uint8Array): boolean {
  const sig = entry.get(LEDGER_SIG_KEY);
  if (typeof sig !== 'string') return false;
  const signature = decodeBase64Strict(sig, 64);
  if (signature === null) return false;
  const key = crypto.createPublicKey({ key: Buffer.from(publicKeyDer(publicKey)), format: 'der', type: 'spki' });
  return crypto.verify(null, ledgerSignedBytes(entry), key, signature);
}

/**
 * blux-reg 0.2's chain rule, written independently of src/: entry_hash =
 * sha256(json.dumps(entry minus entry_hash, sort_keys=True, separators=(",", ":"))),
 * ensure_ascii on; prev_hash = the previous entry_hash. (Enough for entries
 * holding strings and null, which is all these tests write.)
 */
function pythonDumps(value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().map((k) => `${pythonDumps(k)}:${pythonDumps(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function expectPythonChainValid(ledger: string): void {
  let prev: string | null = null;
  for (const line of fs.readFileSync(ledger, 'utf8').split('\n').filter((l) => l.trim() !== '')) {
    const { entry_hash: claimed, ...rest } = JSON.parse(line) as Record<string, unknown>;
    expect(rest['prev_hash']).toBe(prev);
    expect(crypto.createHash('sha256').update(pythonDumps(rest)).digest('hex')).toBe(claimed);
    prev = claimed as string;
  }
}

async function expectEverySignatureValid(ledger: string, keys: Map<string, Uint8Array>): Promise<number> {
  let signed = 0;
  for (const entry of ledgerEntries(ledger)) {
    if (!entry.has(LEDGER_SIG_KEY)) continue;
    const publicKey = keys.get(entry.get('actor') as string);
    expect(publicKey, `no local key for actor ${String(entry.get('actor'))}`).toBeDefined();
    expect(sigVerifies(entry, publicKey!), `sig of the ${String(entry.get('action'))} entry`).toBe(true);
    signed++;
  }
  return signed;
}

describe('buildLedgerEntry with a signer', () => {
  const { publicRaw, sign } = keyFromSeed('ledger-signing test key');

  it('signs the entry without entry_hash and sig, and entry_hash covers the sig', () => {
    const entry = buildLedgerEntry({ action: 'event', actor: 'fp', payload_summary: 'x', extra: { n: 1 } }, 'a'.repeat(64), 'T', sign);
    const parsed = parseJson(serializeLedgerLine(entry)) as JsonObject;
    expect(sigVerifies(parsed, publicRaw)).toBe(true);
    const { entry_hash: claimed, ...rest } = entry;
    expect(crypto.createHash('sha256').update(pythonDumps(rest)).digest('hex')).toBe(claimed);
    // Changing anything signed breaks the signature, not only the hash.
    const edited = new Map(parsed).set('payload_summary', 'y');
    expect(sigVerifies(edited, publicRaw)).toBe(false);
  });

  it('without a signer writes no sig (the 0.2 format, unchanged)', () => {
    expect(buildLedgerEntry({ action: 'event', actor: 'me', payload_summary: 'x' }, null, 'T')).not.toHaveProperty(LEDGER_SIG_KEY);
  });

  it('refuses sig as an extra, and a signer that does not return 64 bytes', () => {
    const fields = { action: 'event', actor: 'me', payload_summary: 'x', extra: { sig: 'forged' } };
    expect(() => buildLedgerEntry(fields, null, 'T')).toThrow(expect.objectContaining({ code: 'invalid-argument', message: expect.stringContaining('sig') }));
    expect(() => buildLedgerEntry({ ...fields, extra: {} }, null, 'T', () => new Uint8Array(10))).toThrow(expect.objectContaining({ code: 'internal' }));
  });
});

describe('use-cases sign what they append as a local key', () => {
  it('keygen, sign, issue, add-event --key and rotate are signed by their actor; free-text revokers are not', async () => {
    const alice = await createKey(paths, 'alice', { passphrase: null });
    const artifact = path.join(dir, 'app.bin');
    fs.writeFileSync(artifact, 'release bytes');
    await signArtifact(artifact, { paths, keyName: 'alice', getPassphrase: noPassphrase });
    const issued = await issueToken({ paths, keyName: 'alice', getPassphrase: noPassphrase, capability: 'deploy', audience: 'acme', ttlSeconds: 60 });
    await addLedgerEvent({ ledger: paths.ledger, message: 'deployed', signAs: { paths, keyName: 'alice', getPassphrase: noPassphrase } });
    await addLedgerEvent({ ledger: paths.ledger, message: 'free text', actor: 'ops-bot' });
    await revokeToken({ paths, tokenHash: issued.tokenHash, reason: 'test', revoker: 'security-team' });
    await createKey(paths, 'bob', { passphrase: null });
    await revokeKey(paths, 'bob', { reason: 'left', revoker: 'security-team' });
    const rotated = await rotateKey(paths, 'alice', { reason: 'yearly', revoker: 'blux-reg', passphrase: null });

    const entries = ledgerEntries(paths.ledger);
    const summary = entries.map((e) => [e.get('action'), e.has(LEDGER_SIG_KEY)]);
    expect(summary).toEqual([
      ['keygen', true], ['sign', true], ['token-issue', true], ['event', true], ['event', false],
      ['token-revoke', false], ['keygen', true], ['key-revoke', false], ['key-revoke', false], ['key-rotate', true],
    ]);
    expect(entries[0]!.get('actor')).toBe(alice.fingerprint);
    expect(entries[3]!.get('actor')).toBe(alice.fingerprint);
    // Rotation is vouched for by the new key (the old one is revoked by then).
    expect(entries[9]!.get('actor')).toBe(rotated.newKey.fingerprint);
    expect(entries[9]!.get('old_fingerprint')).toBe(rotated.oldKey.fingerprint);

    expect(await expectEverySignatureValid(paths.ledger, publicKeysByFingerprint(paths))).toBe(6);
    expect(await verifyLedgerChain(paths.ledger)).toMatchObject({ status: 'valid', entries: 10 });
    expectPythonChainValid(paths.ledger);
  });

  it('an encrypted key signs its keygen entry with the passphrase it was just given', async () => {
    const key = await createKey(paths, 'sec', { passphrase: 'correct horse' });
    const [entry] = ledgerEntries(paths.ledger);
    expect(entry!.get('actor')).toBe(key.fingerprint);
    expect(sigVerifies(entry!, key.publicKey)).toBe(true);
  });

  it('add-event --key refuses a revoked key and --actor beside --key, writing nothing', async () => {
    await createKey(paths, 'gone', { passphrase: null });
    await revokeKey(paths, 'gone', { reason: 'leaked', revoker: 'sec' });
    const before = fs.readFileSync(paths.ledger);
    const signAs = { paths, keyName: 'gone', getPassphrase: noPassphrase };
    expect((await rejection(addLedgerEvent({ ledger: paths.ledger, message: 'm', signAs }))).code).toBe('key-revoked');
    expect((await rejection(addLedgerEvent({ ledger: paths.ledger, message: 'm', actor: 'x', signAs }))).code).toBe('invalid-argument');
    expect(fs.readFileSync(paths.ledger).equals(before)).toBe(true);
  });
});

describe('audit add-event --key and tail (CLI)', () => {
  it('signs with the key, shows signed entries in tail, and a wrong passphrase writes nothing (exit 2)', async () => {
    const config = path.join(dir, 'cli-config');
    const pass = path.join(dir, 'pass');
    const wrong = path.join(dir, 'wrong');
    fs.writeFileSync(pass, 'right one\n');
    fs.writeFileSync(wrong, 'wrong one\n');
    const cli = (...args: string[]) => runCli(['--config-dir', config, ...args]);
    expect((await cli('keygen', '--name', 'k', '--passphrase-file', pass)).code).toBe(0);
    const ledger = path.join(config, 'trust', 'ledger.jsonl');

    const added = await cli('audit', 'add-event', 'shipped 1.2', '--key', 'k', '--passphrase-file', pass, '--json');
    expect(added.code, added.stderr).toBe(0);
    const fingerprint = (await cli('key', 'list', '--json')).json[0].fingerprint as string;
    expect(added.json).toMatchObject({ action: 'event', actor: fingerprint, payload_summary: 'shipped 1.2' });
    expect(sigVerifies(parseJson(JSON.stringify(added.json)) as JsonObject, publicKeysByFingerprint(configPaths(config)).get(fingerprint)!)).toBe(true);
    expect((await cli('audit', 'add-event', 'by hand', '--actor', 'ops')).code).toBe(0);

    const before = fs.readFileSync(ledger);
    const refused = await cli('audit', 'add-event', 'forged?', '--key', 'k', '--passphrase-file', wrong);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('wrong-passphrase');
    expect((await cli('audit', 'add-event', 'both', '--key', 'k', '--actor', 'x', '--passphrase-file', pass)).code).toBe(2);
    expect(fs.readFileSync(ledger).equals(before)).toBe(true);

    const tail = await cli('audit', 'tail', '-n', '3');
    expect(tail.code).toBe(0);
    const lines = tail.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => /\bsigned\b/.test(l) ? 'signed' : /\bunsigned\b/.test(l) ? 'unsigned' : '?')).toEqual(['signed', 'signed', 'unsigned']);
    expect((await cli('audit', 'verify-chain')).code).toBe(0);
  }, 30_000);
});

describe('concurrent signed appends', () => {
  // The children run dist/.
  beforeAll(() => assertFreshBuild(['src/store/ledger-file.ts', 'src/formats/ledger-entry.ts', 'src/formats/keys.ts']));

  it('8 processes (6 signing with their own key, 2 unsigned) x 40 appends: one valid chain, every sig valid', async () => {
    const ledger = path.join(dir, 'concurrent', 'ledger.jsonl');
    const signers = Array.from({ length: 6 }, (_, i) => keyFromSeed(`appender key ${i}`));
    const specs = [...signers.map((k) => `seed:${k.seedHex}`), 'plain-0', 'plain-1'];
    const children = specs.map((spec) => startNode([APPENDER, ledger, '40', spec], 'ready\n', { stdio: ['ignore', 'pipe', 'pipe'] }).closed);
    for (const r of await Promise.all(children)) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });

    const keys = new Map(signers.map((k) => [k.fingerprint, k.publicRaw]));
    expect(await expectEverySignatureValid(ledger, keys)).toBe(240);
    expect(await verifyLedgerChain(ledger)).toMatchObject({ status: 'valid', entries: 320, torn_last_line: false });
    expectPythonChainValid(ledger);
    // Each signing process wrote under its own fingerprint.
    const actors = new Set(ledgerEntries(ledger).filter((e) => e.has(LEDGER_SIG_KEY)).map((e) => e.get('actor')));
    expect([...actors].sort()).toEqual([...keys.keys()].sort());
  }, 55_000);
});

it('appendLedgerEntry signs inside the lock: a failing signer writes nothing', async () => {
  const ledger = path.join(dir, 'fail', 'ledger.jsonl');
  await appendLedgerEntry(ledger, { action: 'event', actor: 'a', payload_summary: null });
  const before = fs.readFileSync(ledger);
  await expect(appendLedgerEntry(ledger, { action: 'event', actor: 'a', payload_summary: null }, {
    sign: () => {
      throw new Error('key went away');
    },
  })).rejects.toThrow('key went away');
  expect(fs.readFileSync(ledger).equals(before)).toBe(true);
});
