import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BluxError } from '../src/errors.js';
import { detectPemKind, encodePemBlock, parsePublicKeyPem } from '../src/formats/keys.js';
import {
  decryptSeed,
  encodeEncryptedKeyPem,
  encryptSeed,
  parseEncryptedKeyPem,
  type EncryptedKeyEnvelope,
} from '../src/store/key-encryption.js';
import {
  archiveKey,
  changePassphrase,
  exportKey,
  findKeyByFingerprint,
  generateKey,
  getKey,
  importKey,
  listKeys,
  loadSigner,
  validateKeyName,
} from '../src/store/keystore.js';
import { resolvePassphrase } from '../src/store/passphrase.js';
import { configPaths } from '../src/store/paths.js';
import { thrown, rejection } from './helpers/errors.js';

const SEED_KEYS = path.resolve(__dirname, 'fixtures/seed-v0.2/config/keys');
const ALICE_FP = 'a1deba34b08126c75ffa2b7158aeb11fe35498c8057880fb9f4e02e8f2b5f75d';
const BOB_FP = 'acf49cd95be6e16ce8eb998666d68965066ee1e1087bf9556f6839a207cee24b';
const fixture = (name: string): string => fs.readFileSync(path.join(SEED_KEYS, name), 'utf8');
const isPosix = process.platform !== 'win32';
const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;

let tmp: string;
let keysDir: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-keystore-'));
  keysDir = path.join(tmp, 'config', 'keys');
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});


function verifies(publicKeyPem: string, message: Uint8Array, signature: Uint8Array): boolean {
  return crypto.verify(null, message, crypto.createPublicKey(publicKeyPem), signature);
}

function copyFixtureKeys(...files: string[]): void {
  fs.mkdirSync(keysDir, { recursive: true });
  for (const f of files) fs.copyFileSync(path.join(SEED_KEYS, f), path.join(keysDir, f));
}

const never = async (): Promise<string> => {
  throw new Error('the passphrase must not be asked for');
};

describe('validateKeyName', () => {
  it.each(['alice', 'a', 'A1', 'release-2026.01_key', 'x'.repeat(64), 'a.pub.x'])('accepts %j', (name) => {
    expect(() => validateKeyName(name)).not.toThrow();
  });

  it.each(['../x', 'a/b', 'a\\b', '.hidden', '', 'x'.repeat(65), 'a..b', 'alice.pub', '-x', 'é', 'a b'])(
    'refuses %j',
    (name) => {
      expect(thrown(() => validateKeyName(name)).code).toBe('invalid-key-name');
    },
  );

  it('guards every entry point', async () => {
    expect(thrown(() => getKey(keysDir, '../keys/alice')).code).toBe('invalid-key-name');
    expect((await rejection(generateKey(keysDir, 'a/b'))).code).toBe('invalid-key-name');
    expect((await rejection(importKey(keysDir, fixture('alice.pub.pem'), { name: '..' }))).code).toBe(
      'invalid-key-name',
    );
    expect(fs.existsSync(keysDir)).toBe(false);
  });
});

describe('generateKey (unencrypted)', () => {
  it('writes a 0600 private key and a 0644 public key in a 0700 folder, and signs', async () => {
    const info = await generateKey(configPaths(path.join(tmp, 'config')), 'alice');
    expect(info.name).toBe('alice');
    expect(info.encrypted).toBe(false);
    expect(info.privatePath).toBe(path.join(keysDir, 'alice.pem'));
    expect(info.publicPath).toBe(path.join(keysDir, 'alice.pub.pem'));
    expect(info.fingerprint).toBe(crypto.createHash('sha256').update(info.publicKey).digest('hex'));
    expect(fs.readFileSync(info.publicPath, 'utf8')).toBe(info.publicKeyPem);
    expect(detectPemKind(fs.readFileSync(info.privatePath!, 'utf8'))).toBe('private');
    if (isPosix) {
      expect(modeOf(info.privatePath!)).toBe(0o600);
      expect(modeOf(info.publicPath)).toBe(0o644);
      expect(modeOf(keysDir)).toBe(0o700);
    }
    expect(fs.readdirSync(keysDir).sort()).toEqual(['alice.pem', 'alice.pub.pem']); // no temp files left

    const signer = await loadSigner(keysDir, 'alice', never);
    expect(signer.fingerprint).toBe(info.fingerprint);
    const message = new TextEncoder().encode('hello');
    const signature = signer.sign(message);
    expect(signature).toHaveLength(64);
    expect(verifies(info.publicKeyPem, message, signature)).toBe(true);
    expect(verifies(info.publicKeyPem, new TextEncoder().encode('hellO'), signature)).toBe(false);
  });

  it('refuses to overwrite without force, replaces with force', async () => {
    const first = await generateKey(keysDir, 'k');
    const e = await rejection(generateKey(keysDir, 'k'));
    expect(e.code).toBe('key-exists');
    expect(e.message).toContain('k.pem');
    expect(getKey(keysDir, 'k').fingerprint).toBe(first.fingerprint);

    const second = await generateKey(keysDir, 'k', { force: true });
    expect(second.fingerprint).not.toBe(first.fingerprint);
    expect(getKey(keysDir, 'k').fingerprint).toBe(second.fingerprint);
    if (isPosix) expect(modeOf(second.privatePath!)).toBe(0o600);
  });

  it('refuses when only the public half of the name exists', async () => {
    copyFixtureKeys('bob.pub.pem');
    fs.renameSync(path.join(keysDir, 'bob.pub.pem'), path.join(keysDir, 'k.pub.pem'));
    expect((await rejection(generateKey(keysDir, 'k'))).code).toBe('key-exists');
  });

  it('refuses an empty passphrase rather than silently not encrypting', async () => {
    expect((await rejection(generateKey(keysDir, 'k', { passphrase: '' }))).code).toBe('invalid-argument');
  });
});

describe('reading the original config folder', () => {
  it('lists alice and bob with their fingerprints', () => {
    copyFixtureKeys('alice.pem', 'alice.pub.pem', 'bob.pem', 'bob.pub.pem');
    fs.writeFileSync(path.join(keysDir, 'notes.txt'), 'not a key');
    fs.writeFileSync(path.join(keysDir, '.alice.pem.123.tmp'), 'leftover');
    const keys = listKeys(keysDir);
    expect(keys.map((k) => [k.name, k.fingerprint, k.encrypted])).toEqual([
      ['alice', ALICE_FP, false],
      ['bob', BOB_FP, false],
    ]);
    expect(keys[0]!.publicKeyPem).toBe(fixture('alice.pub.pem'));
    expect(findKeyByFingerprint(keysDir, BOB_FP)?.name).toBe('bob');
    expect(findKeyByFingerprint(keysDir, ALICE_FP.toUpperCase())?.name).toBe('alice');
    expect(findKeyByFingerprint(keysDir, '00'.repeat(32))).toBeUndefined();
  });

  it('signs with the original key', async () => {
    copyFixtureKeys('alice.pem', 'alice.pub.pem');
    const signer = await loadSigner(keysDir, 'alice', never);
    const message = new TextEncoder().encode('{"a":1}');
    expect(verifies(fixture('alice.pub.pem'), message, signer.sign(message))).toBe(true);
  });

  it('a missing folder holds no keys; a missing key is key-not-found', () => {
    expect(listKeys(keysDir)).toEqual([]);
    expect(thrown(() => getKey(keysDir, 'nobody')).code).toBe('key-not-found');
  });

  it('counts a private key without its .pub.pem', async () => {
    copyFixtureKeys('alice.pem');
    const [alice] = listKeys(keysDir);
    expect(alice?.fingerprint).toBe(ALICE_FP);
    expect(alice?.privatePath).toBe(path.join(keysDir, 'alice.pem'));
    expect((await loadSigner(keysDir, 'alice', never)).fingerprint).toBe(ALICE_FP);
  });

  it('refuses a mismatched pair', async () => {
    fs.mkdirSync(keysDir, { recursive: true });
    fs.copyFileSync(path.join(SEED_KEYS, 'alice.pem'), path.join(keysDir, 'mixed.pem'));
    fs.copyFileSync(path.join(SEED_KEYS, 'bob.pub.pem'), path.join(keysDir, 'mixed.pub.pem'));
    const e = thrown(() => getKey(keysDir, 'mixed'));
    expect(e.code).toBe('malformed');
    expect(e.message).toContain('mixed.pem');
    expect((await rejection(loadSigner(keysDir, 'mixed', never))).code).toBe('malformed');
  });

  it('names the file when a key file is garbage', () => {
    fs.mkdirSync(keysDir, { recursive: true });
    fs.writeFileSync(path.join(keysDir, 'bad.pub.pem'), 'nope');
    const e = thrown(() => listKeys(keysDir));
    expect(e.code).toBe('malformed');
    expect(e.message).toContain('bad.pub.pem');
  });
});

describe('encrypted keys', () => {
  it('generates, lists without a passphrase, signs with it, refuses a wrong one', async () => {
    const info = await generateKey(keysDir, 'sec', { passphrase: 'correct horse' });
    expect(info.encrypted).toBe(true);
    const text = fs.readFileSync(info.privatePath!, 'utf8');
    expect(detectPemKind(text)).toBe('encrypted-private');
    expect(text).toContain('-----BEGIN BLUX-REG ENCRYPTED PRIVATE KEY-----');
    if (isPosix) expect(modeOf(info.privatePath!)).toBe(0o600);

    const envelope = JSON.parse(Buffer.from(text.split('\n').slice(1, -2).join(''), 'base64').toString('utf8'));
    expect(envelope).toMatchObject({
      format: 'blux-reg-encrypted-key',
      version: 1,
      kdf: { name: 'argon2id', memory_kib: 65536, iterations: 3, parallelism: 4 },
      cipher: { name: 'xchacha20-poly1305' },
      public_key: Buffer.from(info.publicKey).toString('base64'),
    });
    expect(Buffer.from(envelope.kdf.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(envelope.cipher.nonce, 'base64')).toHaveLength(24);

    const [listed] = listKeys(keysDir);
    expect(listed).toMatchObject({ name: 'sec', fingerprint: info.fingerprint, encrypted: true });

    const ask = vi.fn(async () => 'correct horse');
    const signer = await loadSigner(keysDir, 'sec', ask);
    expect(ask).toHaveBeenCalledTimes(1);
    const message = new Uint8Array([1, 2, 3]);
    expect(verifies(info.publicKeyPem, message, signer.sign(message))).toBe(true);

    const e = await rejection(loadSigner(keysDir, 'sec', async () => 'wrong horse'));
    expect(e.code).toBe('wrong-passphrase');
    expect(e.message).toContain('wrong passphrase for key "sec"');
    expect(e.file).toBe(info.privatePath);
  });

  it('changes the passphrase: encrypt, re-encrypt, decrypt back to the original bytes', async () => {
    copyFixtureKeys('alice.pem', 'alice.pub.pem');
    const file = path.join(keysDir, 'alice.pem');

    expect((await changePassphrase(keysDir, 'alice', null, 'one')).encrypted).toBe(true);
    expect(detectPemKind(fs.readFileSync(file, 'utf8'))).toBe('encrypted-private');
    if (isPosix) expect(modeOf(file)).toBe(0o600);
    expect((await rejection(changePassphrase(keysDir, 'alice', null, 'two'))).code).toBe('passphrase-required');

    const first = fs.readFileSync(file, 'utf8');
    await changePassphrase(keysDir, 'alice', 'one', 'two');
    expect(fs.readFileSync(file, 'utf8')).not.toBe(first); // fresh salt and nonce
    expect((await rejection(changePassphrase(keysDir, 'alice', 'one', null))).code).toBe('wrong-passphrase');

    const plain = await changePassphrase(keysDir, 'alice', 'two', null);
    expect(plain.encrypted).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe(fixture('alice.pem'));
    expect(fs.readdirSync(keysDir).sort()).toEqual(['alice.pem', 'alice.pub.pem']);
  });
});

describe('key-encryption envelope', () => {
  // Low KDF cost: these tests are about the envelope, not Argon2's strength.
  const cheap = { memoryKib: 64, iterations: 1, parallelism: 1 };
  const seed = new Uint8Array(32).fill(9);
  const publicKey = new Uint8Array(32).fill(7);
  const label = { name: 'k', file: 'k.pem' };
  const roundTrip = (e: EncryptedKeyEnvelope): EncryptedKeyEnvelope => parseEncryptedKeyPem(encodeEncryptedKeyPem(e));
  const bodyOf = (e: EncryptedKeyEnvelope): Record<string, any> => {
    const text = encodeEncryptedKeyPem(e);
    return JSON.parse(Buffer.from(text.split('\n').slice(1, -2).join(''), 'base64').toString('utf8'));
  };
  const pemOf = (body: unknown): string =>
    encodePemBlock('BLUX-REG ENCRYPTED PRIVATE KEY', new TextEncoder().encode(JSON.stringify(body)));

  it('round-trips and reads its parameters from the file', async () => {
    const envelope = roundTrip(await encryptSeed(seed, publicKey, 'pw', cheap));
    expect(envelope.kdf).toMatchObject(cheap);
    expect(await decryptSeed(envelope, 'pw', label)).toEqual(seed);
  });

  it('refuses a changed kdf parameter, a swapped public key and a flipped ciphertext byte', async () => {
    const good = await encryptSeed(seed, publicKey, 'pw', cheap);
    const tampered: EncryptedKeyEnvelope[] = [
      { ...good, kdf: { ...good.kdf, iterations: 2 } },
      { ...good, kdf: { ...good.kdf, memoryKib: 128 } },
      { ...good, publicKey: new Uint8Array(32).fill(8) },
      { ...good, ciphertext: good.ciphertext.map((b, i) => (i === 5 ? b ^ 1 : b)) },
      { ...good, nonce: good.nonce.map((b, i) => (i === 0 ? b ^ 1 : b)) },
    ];
    for (const envelope of tampered) {
      const e = await rejection(decryptSeed(roundTrip(envelope), 'pw', label));
      expect(e.code).toBe('wrong-passphrase');
      expect(e.message).toContain('k.pem');
    }
  });

  it('refuses absurd parameters before doing any work', async () => {
    const body = bodyOf(await encryptSeed(seed, publicKey, 'pw', cheap));
    const variants: Array<[string, (b: Record<string, any>) => void, string]> = [
      ['memory > 4 GiB', (b) => (b.kdf.memory_kib = 8 * 1024 * 1024), 'malformed'],
      ['iterations > 100', (b) => (b.kdf.iterations = 1000), 'malformed'],
      ['iterations 0', (b) => (b.kdf.iterations = 0), 'malformed'],
      ['fractional memory', (b) => (b.kdf.memory_kib = 64.5), 'malformed'],
      ['parallelism 0', (b) => (b.kdf.parallelism = 0), 'malformed'],
      ['another kdf', (b) => (b.kdf.name = 'scrypt'), 'malformed'],
      ['another cipher', (b) => (b.cipher.name = 'aes-256-gcm'), 'malformed'],
      ['short nonce', (b) => (b.cipher.nonce = 'AAAA'), 'malformed'],
      ['short public key', (b) => (b.public_key = 'AAAA'), 'malformed'],
      ['unknown field', (b) => (b.comment = 'hi'), 'malformed'],
      ['missing ciphertext', (b) => delete b.ciphertext, 'malformed'],
      ['version 2', (b) => (b.version = 2), 'unsupported-version'],
      ['version 2 with new fields', (b) => ((b.version = 2), (b.aad = 'x')), 'unsupported-version'],
      ['another format', (b) => (b.format = 'age'), 'malformed'],
    ];
    for (const [what, mutate, code] of variants) {
      const copy = structuredClone(body);
      mutate(copy);
      const e = thrown(() => parseEncryptedKeyPem(pemOf(copy), 'x.pem'));
      expect([what, e.code]).toEqual([what, code]);
      expect(e.message).toContain('x.pem');
    }
    expect(thrown(() => parseEncryptedKeyPem(encodePemBlock('BLUX-REG ENCRYPTED PRIVATE KEY', new Uint8Array([0xff])))).code).toBe(
      'malformed',
    );
  });
});

describe('import and export', () => {
  it('imports a public key as verify-only', async () => {
    const info = await importKey(keysDir, fixture('alice.pub.pem'));
    expect(info).toMatchObject({ name: 'imported-a1deba34b081', fingerprint: ALICE_FP, privatePath: null, encrypted: false });
    expect(exportKey(keysDir, info.name, 'public')).toBe(fixture('alice.pub.pem'));
    expect(thrown(() => exportKey(keysDir, info.name, 'private')).code).toBe('key-not-found');
    expect((await rejection(loadSigner(keysDir, info.name, never))).code).toBe('key-not-found');
    expect((await rejection(importKey(keysDir, fixture('alice.pub.pem')))).code).toBe('key-exists');
  });

  it('imports a PKCS#8 private key and exports it byte for byte', async () => {
    const info = await importKey(keysDir, fixture('bob.pem'), { name: 'bob' });
    expect(info).toMatchObject({ name: 'bob', fingerprint: BOB_FP, encrypted: false });
    if (isPosix) {
      expect(modeOf(info.privatePath!)).toBe(0o600);
      expect(modeOf(info.publicPath)).toBe(0o644);
    }
    expect(exportKey(keysDir, 'bob', 'private')).toBe(fixture('bob.pem'));
    expect(exportKey(keysDir, 'bob', 'public')).toBe(fixture('bob.pub.pem'));
  });

  it('encrypts a PKCS#8 key on import, and imports/exports the encrypted form as is', async () => {
    const info = await importKey(keysDir, fixture('alice.pem'), { name: 'alice', passphrase: 'pw' });
    expect(info.encrypted).toBe(true);
    const encrypted = exportKey(keysDir, 'alice', 'private');
    expect(detectPemKind(encrypted)).toBe('encrypted-private');

    const otherDir = path.join(tmp, 'other');
    const again = await importKey(otherDir, encrypted, { name: 'a2' });
    expect(again).toMatchObject({ fingerprint: ALICE_FP, encrypted: true });
    expect(exportKey(otherDir, 'a2', 'private')).toBe(encrypted);
    expect((await rejection(importKey(otherDir, encrypted, { name: 'a3', passphrase: 'x' }))).code).toBe(
      'invalid-argument',
    );
    const signer = await loadSigner(otherDir, 'a2', async () => 'pw');
    const message = new Uint8Array([42]);
    expect(verifies(fixture('alice.pub.pem'), message, signer.sign(message))).toBe(true);
  });

  it('replacing a key with a public-only one drops the old private file', async () => {
    await importKey(keysDir, fixture('alice.pem'), { name: 'k' });
    const info = await importKey(keysDir, fixture('bob.pub.pem'), { name: 'k', force: true });
    expect(info).toMatchObject({ fingerprint: BOB_FP, privatePath: null });
    expect(fs.existsSync(path.join(keysDir, 'k.pem'))).toBe(false);
  });

  it('refuses what it cannot import', async () => {
    expect((await rejection(importKey(keysDir, 'hello'))).code).toBe('malformed');
    const pkcs8Encrypted = crypto
      .generateKeyPairSync('ed25519')
      .privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' })
      .toString();
    expect((await rejection(importKey(keysDir, pkcs8Encrypted))).message).toContain('not supported');
    expect(fs.existsSync(keysDir)).toBe(false);
  });
});

describe('resolvePassphrase', () => {
  const noTty = { input: Object.assign(new PassThrough(), { isTTY: false }), output: new PassThrough() };

  it('reads the first line of a passphrase file, CRLF or LF', async () => {
    const file = path.join(tmp, 'pass.txt');
    fs.writeFileSync(file, 's3cret pass\r\nsecond line\r\n');
    expect(await resolvePassphrase({ passphraseFile: file, interactive: false, prompt: '' })).toBe('s3cret pass');
    fs.writeFileSync(file, 'lf only\n');
    expect(await resolvePassphrase({ passphraseFile: file, interactive: false, prompt: '' })).toBe('lf only');
    fs.writeFileSync(file, 'no newline');
    const env = { BLUX_REG_PASSPHRASE: 'from env' };
    expect(await resolvePassphrase({ passphraseFile: file, env, interactive: false, prompt: '' })).toBe('no newline');
  });

  it('names an unreadable or empty passphrase file', async () => {
    const missing = path.join(tmp, 'missing.txt');
    const e = await rejection(resolvePassphrase({ passphraseFile: missing, interactive: false, prompt: '' }));
    expect(e.code).toBe('file-not-found');
    expect(e.message).toContain(missing);
    const empty = path.join(tmp, 'empty.txt');
    fs.writeFileSync(empty, '\r\n');
    expect((await rejection(resolvePassphrase({ passphraseFile: empty, interactive: false, prompt: '' }))).message).toContain(
      empty,
    );
  });

  it('falls back to the environment, then to null without a TTY', async () => {
    const env = { BLUX_REG_PASSPHRASE: 'from env' };
    expect(await resolvePassphrase({ env, interactive: true, prompt: '', streams: noTty })).toBe('from env');
    expect(await resolvePassphrase({ env: {}, interactive: true, prompt: '', streams: noTty })).toBeNull();
    expect(await resolvePassphrase({ env: { BLUX_REG_PASSPHRASE: '' }, interactive: false, prompt: '' })).toBeNull();
  });

  function fakeTty(): { input: PassThrough & { isTTY: boolean; isRaw: boolean; setRawMode(m: boolean): void }; output: PassThrough; shown: () => string } {
    const input = Object.assign(new PassThrough(), {
      isTTY: true,
      isRaw: false,
      setRawMode(mode: boolean) {
        input.isRaw = mode;
      },
    });
    const output = new PassThrough();
    let shown = '';
    output.on('data', (d: Buffer) => (shown += d.toString()));
    return { input, output, shown: () => shown };
  }

  it('prompts without echo, handles backspace, restores the terminal', async () => {
    const tty = fakeTty();
    const result = resolvePassphrase({ env: {}, interactive: true, prompt: 'Passphrase: ', streams: tty });
    tty.input.write('hunX\u007fter');
    tty.input.write('2\r');
    expect(await result).toBe('hunter2');
    expect(tty.input.isRaw).toBe(false);
    expect(tty.shown()).toBe('Passphrase: \n');
  });

  it('asks twice with confirm and refuses a mismatch; Ctrl-C aborts', async () => {
    const tty = fakeTty();
    const ok = resolvePassphrase({ env: {}, interactive: true, prompt: 'New: ', confirm: true, streams: tty });
    tty.input.write('same\r');
    await new Promise((r) => setImmediate(r));
    tty.input.write('same\r');
    expect(await ok).toBe('same');

    const tty2 = fakeTty();
    const bad = resolvePassphrase({ env: {}, interactive: true, prompt: 'New: ', confirm: true, streams: tty2 });
    tty2.input.write('one\r');
    await new Promise((r) => setImmediate(r));
    tty2.input.write('two\r');
    expect((await rejection(bad)).code).toBe('invalid-argument');

    const tty3 = fakeTty();
    const aborted = resolvePassphrase({ env: {}, interactive: true, prompt: 'P: ', streams: tty3 });
    tty3.input.write('abc\u0003');
    expect((await rejection(aborted)).code).toBe('passphrase-required');
    expect(tty3.input.isRaw).toBe(false);
  });

  it('does not prompt when not interactive', async () => {
    const tty = fakeTty();
    expect(await resolvePassphrase({ env: {}, interactive: false, prompt: 'P: ', streams: tty })).toBeNull();
    expect(tty.shown()).toBe('');
  });
});

describe('public key of an encrypted key without a .pub.pem', () => {
  it('comes from the envelope', async () => {
    fs.mkdirSync(keysDir, { recursive: true });
    const publicKey = parsePublicKeyPem(fixture('alice.pub.pem'));
    const seed = new Uint8Array(crypto.createPrivateKey(fixture('alice.pem')).export({ format: 'der', type: 'pkcs8' }).subarray(16));
    const envelope = await encryptSeed(seed, publicKey, 'pw', { memoryKib: 64, iterations: 1, parallelism: 1 });
    fs.writeFileSync(path.join(keysDir, 'enc.pem'), encodeEncryptedKeyPem(envelope), { mode: 0o600 });
    expect(listKeys(keysDir)).toMatchObject([{ name: 'enc', fingerprint: ALICE_FP, encrypted: true }]);
    const signer = await loadSigner(keysDir, 'enc', async () => 'pw');
    expect(signer.fingerprint).toBe(ALICE_FP);
  });
});

describe('archiveKey', () => {
  it('moves both files to the archive name and frees the old one', async () => {
    copyFixtureKeys('alice.pem', 'alice.pub.pem', 'bob.pub.pem');
    expect(archiveKey(keysDir, 'alice', 'alice.revoked-a1deba34b081')).toBe('alice.revoked-a1deba34b081');
    expect(thrown(() => getKey(keysDir, 'alice')).code).toBe('key-not-found');
    expect(getKey(keysDir, 'alice.revoked-a1deba34b081')).toMatchObject({ fingerprint: ALICE_FP, encrypted: false });
    expect((await generateKey(keysDir, 'alice')).fingerprint).not.toBe(ALICE_FP);

    expect(thrown(() => archiveKey(keysDir, 'alice', 'bob')).code).toBe('key-exists');
    expect(thrown(() => archiveKey(keysDir, 'alice', '../x')).code).toBe('invalid-key-name');
    expect(thrown(() => archiveKey(keysDir, 'nobody', 'x')).code).toBe('key-not-found');
    // public-only keys move too
    expect(archiveKey(keysDir, 'bob', 'bob-old')).toBe('bob-old');
    expect(getKey(keysDir, 'bob-old')).toMatchObject({ fingerprint: BOB_FP, privatePath: null });
  });
});
