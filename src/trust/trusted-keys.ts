/**
 * The set of public keys a verifier trusts, looked up by fingerprint.
 *
 * Sources, in order (the first key seen for a fingerprint wins):
 *   - the keystore folder, through keystore.ts (public, private-only and
 *     encrypted keys all contribute their public key; no passphrase needed);
 *   - `extra` paths given explicitly: a file holding one SPKI public key PEM,
 *     or a folder whose `*.pub.pem` / public `*.pem` files are read (not
 *     recursively).
 *
 * An explicit path the user named must work: missing or unparsable is an
 * error naming it. A missing keystore folder just contributes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BluxError } from '../errors.js';
import { detectPemKind, encodePublicKeyPem, fingerprintOf, parsePublicKeyPem } from '../formats/keys.js';
import { listKeys } from '../store/keystore.js';

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

  if (options.keysDir !== undefined && options.keysDir !== null) {
    for (const key of listKeys(options.keysDir)) {
      add({
        fingerprint: key.fingerprint,
        publicKey: key.publicKey,
        publicKeyPem: key.publicKeyPem,
        name: key.name,
        source: fs.existsSync(key.publicPath) ? key.publicPath : (key.privatePath ?? key.publicPath),
      });
    }
  }
  for (const extra of options.extra ?? []) {
    for (const key of keysAtPath(extra)) add(key);
  }

  return {
    get: (fingerprint) => byFingerprint.get(fingerprint.toLowerCase()),
    get size() {
      return byFingerprint.size;
    },
    [Symbol.iterator]: () => byFingerprint.values(),
  };
}

function keysAtPath(target: string): TrustedKey[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BluxError('file-not-found', 'trusted key file or folder not found', { file: target, cause: e });
    }
    throw new BluxError('file-unreadable', `cannot read: ${(e as Error).message}`, { file: target, cause: e });
  }
  return stat.isDirectory() ? keysInFolder(target) : [trustedKeyFromFile(target)];
}

/**
 * `*.pub.pem` files must be public keys; other `*.pem` files count only when
 * they are public keys (a folder may well hold private keys beside them).
 */
function keysInFolder(folder: string): TrustedKey[] {
  let names: string[];
  try {
    names = fs.readdirSync(folder).sort();
  } catch (e) {
    throw new BluxError('file-unreadable', `cannot read folder: ${(e as Error).message}`, { file: folder, cause: e });
  }
  const keys: TrustedKey[] = [];
  for (const name of names) {
    if (!name.endsWith('.pem')) continue;
    const file = path.join(folder, name);
    if (!isFile(file)) continue;
    if (name.endsWith('.pub.pem') || detectPemKind(readText(file)) === 'public') keys.push(trustedKeyFromFile(file));
  }
  return keys;
}

function trustedKeyFromFile(file: string): TrustedKey {
  const publicKey = parsePublicKeyPem(readText(file), file);
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
