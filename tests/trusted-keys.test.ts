import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BluxError } from '../src/errors.js';
import { parsePrivateKeyPem, parsePublicKeyPem } from '../src/formats/keys.js';
import { encodeEncryptedKeyPem, encryptSeed } from '../src/store/key-encryption.js';
import { loadTrustedKeys } from '../src/trust/trusted-keys.js';
import { thrown } from './helpers/errors.js';

const SEED = path.resolve(__dirname, 'fixtures/seed-v0.2');
const CONFIG_KEYS = path.join(SEED, 'config/keys');
const UNTRUSTED = path.join(SEED, 'untrusted');
const ALICE_FP = 'a1deba34b08126c75ffa2b7158aeb11fe35498c8057880fb9f4e02e8f2b5f75d';
const BOB_FP = 'acf49cd95be6e16ce8eb998666d68965066ee1e1087bf9556f6839a207cee24b';
const MALLORY_FP = '7c81ca2775e70d06d65e626cf07ffff52b32f50beff84bf61607a059e4e7c6ce';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'blux-trusted-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A keys folder holding copies of the fixture files named. */
function keysFolderWith(...files: string[]): string {
  const keysDir = path.join(tmp, 'keys');
  fs.mkdirSync(keysDir, { recursive: true });
  for (const f of files) fs.copyFileSync(path.join(CONFIG_KEYS, f), path.join(keysDir, f));
  return keysDir;
}

/** Every file readFileSync is asked for while `fn` runs. */
function filesReadDuring(fn: () => void): string[] {
  const spy = vi.spyOn(fs, 'readFileSync');
  try {
    fn();
    return spy.mock.calls.map(([file]) => String(file));
  } finally {
    spy.mockRestore();
  }
}

const isPrivateKeyFile = (file: string): boolean => file.endsWith('.pem') && !file.endsWith('.pub.pem');
const canDenyReading = process.platform !== 'win32' && process.getuid?.() !== 0; // root reads anything


describe('loadTrustedKeys', () => {
  it('trusts the keys in the config folder, not mallory', () => {
    const trusted = loadTrustedKeys({ keysDir: CONFIG_KEYS });
    expect(trusted.size).toBe(2);
    expect(trusted.get(ALICE_FP)).toMatchObject({
      name: 'alice',
      source: path.join(CONFIG_KEYS, 'alice.pub.pem'),
      publicKeyPem: fs.readFileSync(path.join(CONFIG_KEYS, 'alice.pub.pem'), 'utf8'),
    });
    expect(trusted.get(BOB_FP.toUpperCase())?.name).toBe('bob');
    expect(trusted.get(MALLORY_FP)).toBeUndefined();
    expect([...trusted].map((k) => k.name)).toEqual(['alice', 'bob']);
  });

  it('adds explicit files and folders', () => {
    const byFile = loadTrustedKeys({ keysDir: CONFIG_KEYS, extra: [path.join(UNTRUSTED, 'mallory.pub.pem')] });
    expect(byFile.size).toBe(3);
    expect(byFile.get(MALLORY_FP)).toMatchObject({ name: 'mallory', source: path.join(UNTRUSTED, 'mallory.pub.pem') });

    const byFolder = loadTrustedKeys({ extra: [UNTRUSTED] });
    expect([...byFolder].map((k) => k.fingerprint)).toEqual([MALLORY_FP]);
  });

  it('reads public keys from a folder and skips private ones there', () => {
    const folder = path.join(tmp, 'trust');
    fs.mkdirSync(folder);
    fs.copyFileSync(path.join(CONFIG_KEYS, 'alice.pub.pem'), path.join(folder, 'a.pem'));
    fs.copyFileSync(path.join(CONFIG_KEYS, 'bob.pem'), path.join(folder, 'bob.pem'));
    fs.writeFileSync(path.join(folder, 'readme.txt'), 'hi');
    fs.mkdirSync(path.join(folder, 'sub.pem'));
    const trusted = loadTrustedKeys({ extra: [folder] });
    expect([...trusted].map((k) => [k.name, k.fingerprint])).toEqual([['a', ALICE_FP]]);

    fs.writeFileSync(path.join(folder, 'broken.pub.pem'), 'garbage');
    const e = thrown(() => loadTrustedKeys({ extra: [folder] }));
    expect(e.code).toBe('malformed');
    expect(e.message).toContain('broken.pub.pem');
  });

  it('names an explicit path that is missing or not a public key', () => {
    const missing = path.join(tmp, 'nope.pub.pem');
    const e = thrown(() => loadTrustedKeys({ extra: [missing] }));
    expect(e.code).toBe('file-not-found');
    expect(e.message).toContain(missing);

    const privateFile = path.join(CONFIG_KEYS, 'alice.pem');
    const e2 = thrown(() => loadTrustedKeys({ extra: [privateFile] }));
    expect(e2.code).toBe('malformed');
    expect(e2.message).toContain(privateFile);
  });

  it('a missing or absent keys folder contributes nothing', () => {
    expect(loadTrustedKeys({ keysDir: path.join(tmp, 'none') }).size).toBe(0);
    expect(loadTrustedKeys({ keysDir: null }).size).toBe(0);
    expect(loadTrustedKeys().size).toBe(0);
  });

  it('takes encrypted and private-only keys by their public key, without a passphrase', async () => {
    const keysDir = path.join(tmp, 'keys');
    fs.mkdirSync(keysDir);
    fs.copyFileSync(path.join(CONFIG_KEYS, 'bob.pem'), path.join(keysDir, 'bob.pem'));
    const seed = parsePrivateKeyPem(fs.readFileSync(path.join(CONFIG_KEYS, 'alice.pem'), 'utf8'));
    const publicKey = parsePublicKeyPem(fs.readFileSync(path.join(CONFIG_KEYS, 'alice.pub.pem'), 'utf8'));
    const envelope = await encryptSeed(seed, publicKey, 'pw', { memoryKib: 64, iterations: 1, parallelism: 1 });
    fs.writeFileSync(path.join(keysDir, 'alice.pem'), encodeEncryptedKeyPem(envelope));

    const trusted = loadTrustedKeys({ keysDir });
    expect(trusted.get(ALICE_FP)).toMatchObject({ name: 'alice', source: path.join(keysDir, 'alice.pem') });
    expect(trusted.get(BOB_FP)).toMatchObject({ name: 'bob', source: path.join(keysDir, 'bob.pem') });
    expect(crypto.createHash('sha256').update(trusted.get(BOB_FP)!.publicKey).digest('hex')).toBe(BOB_FP);
  });

  it('keeps the first source of a fingerprint', () => {
    const trusted = loadTrustedKeys({ keysDir: CONFIG_KEYS, extra: [path.join(CONFIG_KEYS, 'alice.pub.pem')] });
    expect(trusted.size).toBe(2);
    expect(trusted.get(ALICE_FP)?.name).toBe('alice');
  });

  it('skips a stray .pem in the keystore that is not a key, and reports it', () => {
    const keysDir = keysFolderWith('alice.pem', 'alice.pub.pem', 'bob.pem', 'bob.pub.pem');
    fs.writeFileSync(path.join(keysDir, 'notes.pem'), 'meeting notes, not a key');
    fs.writeFileSync(path.join(keysDir, 'half.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    const trusted = loadTrustedKeys({ keysDir });
    expect([...trusted].map((k) => k.name)).toEqual(['alice', 'bob']);
    expect(trusted.skipped.map((s) => [path.basename(s.file), s.error.code])).toEqual([
      ['half.pem', 'malformed'],
      ['notes.pem', 'malformed'],
    ]);
    expect(trusted.skipped[1]?.error.message).toContain(path.join(keysDir, 'notes.pem'));
  });

  it('still refuses a broken .pub.pem in the keystore: that file claims to be a public key', () => {
    const keysDir = keysFolderWith('alice.pub.pem');
    fs.writeFileSync(path.join(keysDir, 'bad.pub.pem'), 'garbage');
    const e = thrown(() => loadTrustedKeys({ keysDir }));
    expect(e.code).toBe('malformed');
    expect(e.message).toContain(path.join(keysDir, 'bad.pub.pem'));
  });

  it('does not read a private key that has a .pub.pem', () => {
    const keysDir = keysFolderWith('alice.pem', 'alice.pub.pem', 'bob.pem', 'bob.pub.pem');
    let trusted: ReturnType<typeof loadTrustedKeys> | undefined;
    const read = filesReadDuring(() => {
      trusted = loadTrustedKeys({ keysDir, extra: [keysDir] });
    });
    expect(read.filter(isPrivateKeyFile)).toEqual([]);
    expect(read).toContain(path.join(keysDir, 'alice.pub.pem'));
    expect(trusted?.size).toBe(2);
    expect(trusted?.skipped).toEqual([]);

    if (canDenyReading) {
      // The same through the file system: unreadable secrets do not matter.
      for (const f of ['alice.pem', 'bob.pem']) fs.chmodSync(path.join(keysDir, f), 0o000);
      expect(loadTrustedKeys({ keysDir, extra: [keysDir] }).size).toBe(2);
    }
  });

  it('reads a private file only for a key without .pub.pem', () => {
    const keysDir = keysFolderWith('alice.pem', 'alice.pub.pem', 'bob.pem');
    const read = filesReadDuring(() => expect(loadTrustedKeys({ keysDir }).get(BOB_FP)?.name).toBe('bob'));
    expect(read.filter(isPrivateKeyFile)).toEqual([path.join(keysDir, 'bob.pem')]);
  });

  it('an explicitly named file that does not parse stays an error naming it', () => {
    const garbage = path.join(tmp, 'notes.pem');
    fs.writeFileSync(garbage, 'not a key');
    const e = thrown(() => loadTrustedKeys({ keysDir: CONFIG_KEYS, extra: [garbage] }));
    expect(e.code).toBe('malformed');
    expect(e.file).toBe(garbage);
  });
});
