/**
 * The set of public keys a verifier trusts, looked up by fingerprint.
 *
 * Sources, in order (the first key seen for a fingerprint wins):
 *   - the keystore folder, through keystore.ts `listPublicKeys`: each key's
 *     `.pub.pem`; only a key without one is read from its private file (the
 *     `public_key` of an encrypted key, or derived from a plain one). No
 *     passphrase needed, and no secret is decoded when a `.pub.pem` exists;
 *   - `extra` paths given explicitly: a file holding one SPKI public key PEM,
 *     or a folder whose `*.pub.pem` / public `*.pem` files are read (not
 *     recursively).
 *
 * An explicit path the user named must work: missing or unparsable is an
 * error naming it. A missing keystore folder just contributes nothing, and a
 * stray `.pem` that is not a key (in the keystore, or beside the public keys
 * of a named folder) is skipped and listed in `skipped`: one odd file must
 * not make every verify fail.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BluxError } from '../errors.js';
import { detectPemKind, encodePublicKeyPem, fingerprintOf, parsePublicKeyPem } from '../formats/keys.js';
import { listPublicKeys, type SkippedKeyFile } from '../store/keystore.js';

export interface TrustedKey {
  fingerprint: string;
  publicKey: Uint8Array;
  publicKeyPem: string;
  name: string;
  /** The file the key was read from. */
  source: string;
}

export interface TrustedKeys extends Iterable<TrustedKey> {
  get(fingerprint: string): TrustedKey | undefined;
  readonly size: number;
  /** Files that looked like keys by name but gave none (reported, not fatal). */
  readonly skipped: readonly SkippedKeyFile[];
}

export interface LoadTrustedKeysOptions {
  keysDir?: string | null;
  extra?: readonly string[];
}

export function loadTrustedKeys(options: LoadTrustedKeysOptions = {}): TrustedKeys {
  const byFingerprint = new Map<string, TrustedKey>();
  const add = (key: TrustedKey): void => {
    if (!byFingerprint.has(key.fingerprint)) byFingerprint.set(key.fingerprint, key);
  };

  const skipped: SkippedKeyFile[] = [];

  if (options.keysDir !== undefined && options.keysDir !== null) {
    const listing = listPublicKeys(options.keysDir);
    for (const key of listing.keys) add(key);
    skipped.push(...listing.skipped);
  }
  for (const extra of options.extra ?? []) {
    for (const key of keysAtPath(extra, skipped)) add(key);
  }

  return {
    get: (fingerprint) => byFingerprint.get(fingerprint.toLowerCase()),
    get size() {
      return byFingerprint.size;
    },
    skipped,
    [Symbol.iterator]: () => byFingerprint.values(),
  };
}

function keysAtPath(target: string, skipped: SkippedKeyFile[]): TrustedKey[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BluxError('file-not-found', 'trusted key file or folder not found', { file: target, cause: e });
    }
    throw new BluxError('file-unreadable', `cannot read: ${(e as Error).message}`, { file: target, cause: e });
  }
  return stat.isDirectory() ? keysInFolder(target, skipped) : [trustedKeyFromFile(target)];
}

/**
 * `*.pub.pem` files must be public keys; other `*.pem` files count only when
 * they are public keys (a folder may well hold private keys beside them). A
 * `.pem` with a `.pub.pem` of the same name is the private half of that key
 * and is not opened at all; one that cannot be read is skipped, since only a
 * public key would have counted.
 */
function keysInFolder(folder: string, skipped: SkippedKeyFile[]): TrustedKey[] {
  let names: string[];
  try {
    names = fs.readdirSync(folder).sort();
  } catch (e) {
    throw new BluxError('file-unreadable', `cannot read folder: ${(e as Error).message}`, { file: folder, cause: e });
  }
  const present = new Set(names);
  const keys: TrustedKey[] = [];
  for (const name of names) {
    if (!name.endsWith('.pem')) continue;
    const file = path.join(folder, name);
    if (!isFile(file)) continue;
    if (name.endsWith('.pub.pem')) {
      keys.push(trustedKeyFromFile(file));
      continue;
    }
    if (present.has(name.slice(0, -'.pem'.length) + '.pub.pem')) continue;
    let text: string;
    try {
      text = readText(file);
    } catch (e) {
      if (!(e instanceof BluxError)) throw e;
      skipped.push({ file, error: e });
      continue;
    }
    if (detectPemKind(text) === 'public') keys.push(trustedKeyFromPem(text, file));
  }
  return keys;
}

function trustedKeyFromFile(file: string): TrustedKey {
  return trustedKeyFromPem(readText(file), file);
}

function trustedKeyFromPem(text: string, file: string): TrustedKey {
  const publicKey = parsePublicKeyPem(text, file);
  return {
    fingerprint: fingerprintOf(publicKey),
    publicKey,
    publicKeyPem: encodePublicKeyPem(publicKey),
    name: keyNameFromFile(file),
    source: file,
  };
}

function keyNameFromFile(file: string): string {
  const base = path.basename(file);
  for (const suffix of ['.pub.pem', '.pem']) if (base.endsWith(suffix)) return base.slice(0, -suffix.length);
  return base;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BluxError('file-not-found', 'key file not found', { file, cause: e });
    throw new BluxError('file-unreadable', `cannot read: ${(e as Error).message}`, { file, cause: e });
  }
}
