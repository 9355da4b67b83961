/**
 * The keystore: the only code that reads or writes `<config>/keys/`.
 *
 *   <name>.pem      private key: PKCS#8 PEM (as the original writes it) or our
 *                   passphrase-encrypted format (see key-encryption.ts); mode 0600
 *   <name>.pub.pem  public key, SPKI PEM; mode 0644
 *
 * A key may be public-only (it can verify, not sign) or, for files left by
 * older tools, private-only (the public key is derived). When both files exist
 * they must belong together: a mismatched pair is refused, never guessed at.
 *
 * Verifiers need only public keys: `listPublicKeys` gives them without
 * decoding a private key that has a `.pub.pem` beside it, and skips (rather
 * than fails on) a stray `.pem` that is not a key.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BluxError } from '../errors.js';
import { moveWithoutReplacingSync, syncDirectorySync, writeFileAtomicSync } from '../io/atomic-write.js';
import {
  detectPemKind,
  encodePrivateKeyPem,
  encodePublicKeyPem,
  fingerprintOf,
  parsePrivateKeyPem,
  parsePublicKeyPem,
  privateKeyDer,
  rawPublicKeyFromDer,
} from '../formats/keys.js';
import {
  decryptSeed,
  encodeEncryptedKeyPem,
  encryptSeed,
  parseEncryptedKeyPem,
  type EncryptedKeyEnvelope,
} from './key-encryption.js';
import type { ConfigPaths } from './paths.js';

export interface KeyInfo {
  name: string;
  /** SHA-256 of the raw public key, lowercase hex. */
  fingerprint: string;
  publicKey: Uint8Array;
  publicKeyPem: string;
  /** Null for a public-only key. */
  privatePath: string | null;
  /** Where the public key lives; for a private-only key this file does not exist (yet). */
  publicPath: string;
  encrypted: boolean;
}

export interface Signer {
  name: string;
  fingerprint: string;
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** Either the keys folder itself or the config layout holding it. */
export type KeysLocation = string | Pick<ConfigPaths, 'keysDir'>;

const PUBLIC_SUFFIX = '.pub.pem';
const PRIVATE_SUFFIX = '.pem';
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PRIVATE_MODE = 0o600;
const PUBLIC_MODE = 0o644;
const DIR_MODE = 0o700;

// ---------------------------------------------------------------------------
// Names and paths

/** Key names become file names, so they must not be able to reach outside the folder. */
export function validateKeyName(name: string): void {
  const problem = !KEY_NAME.test(name)
    ? 'use 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'
    : name.includes('..')
      ? 'must not contain ".."'
      : name.endsWith('.pub')
        ? 'must not end in ".pub" (it would clash with the public key file)'
        : null;
  if (problem !== null) throw new BluxError('invalid-key-name', `invalid key name ${JSON.stringify(name)}: ${problem}`);
}

function keysDirOf(location: KeysLocation): string {
  return typeof location === 'string' ? location : location.keysDir;
}

function privatePathOf(keysDir: string, name: string): string {
  return path.join(keysDir, name + PRIVATE_SUFFIX);
}

function publicPathOf(keysDir: string, name: string): string {
  return path.join(keysDir, name + PUBLIC_SUFFIX);
}

// ---------------------------------------------------------------------------
// Reading

/** Every key in the folder, sorted by name. A missing folder holds no keys. */
export function listKeys(location: KeysLocation): KeyInfo[] {
  const keysDir = keysDirOf(location);
  return keyNamesIn(keysDir).map((name) => readKey(keysDir, name));
}

export function getKey(location: KeysLocation, name: string): KeyInfo {
  validateKeyName(name);
  return readKey(keysDirOf(location), name);
}

export function findKeyByFingerprint(location: KeysLocation, fingerprint: string): KeyInfo | undefined {
  const wanted = fingerprint.toLowerCase();
  return listKeys(location).find((key) => key.fingerprint === wanted);
}

/** A key's public half, as a verifier needs it. */
export interface PublicKeyEntry {
  name: string;
  fingerprint: string;
  publicKey: Uint8Array;
  publicKeyPem: string;
  /** The file the public key was read from: the `.pub.pem`, or the private file when there is none. */
  source: string;
}

/** A file in the keys folder that looked like a key by its name but gave none. */
export interface SkippedKeyFile {
  file: string;
  /** Why it gave no key; its message names the file. */
  error: BluxError;
}

/**
 * The public key of every key in the folder, sorted by name, for verifiers.
 * Unlike `listKeys` this never decodes a private key that has a `.pub.pem`
 * beside it (a verify has no business holding secrets in memory), and a
 * `.pem` without one that yields no public key (unreadable, not a key,
 * corrupt) is skipped and reported instead of failing every verify. A broken
 * `.pub.pem` still throws: that file claims to be a public key. Private/public
 * pairs are not cross-checked here; signing does that (loadSigner).
 */
export function listPublicKeys(location: KeysLocation): { keys: PublicKeyEntry[]; skipped: SkippedKeyFile[] } {
  const keysDir = keysDirOf(location);
  const keys: PublicKeyEntry[] = [];
  const skipped: SkippedKeyFile[] = [];
  for (const name of keyNamesIn(keysDir)) {
    const publicPath = publicPathOf(keysDir, name);
    const publicText = readTextIfExists(publicPath);
    if (publicText !== null) {
      keys.push(publicKeyEntry(name, parsePublicKeyPem(publicText, publicPath), publicPath));
      continue;
    }
    const privatePath = privatePathOf(keysDir, name);
    try {
      const privateText = readTextIfExists(privatePath);
      if (privateText === null) continue; // removed since the folder was listed
      keys.push(publicKeyEntry(name, storedPublicKey(parseStoredPrivate(privateText, privatePath)), privatePath));
    } catch (e) {
      if (!(e instanceof BluxError)) throw e;
      skipped.push({ file: privatePath, error: e });
    }
  }
  return { keys, skipped };
}

function publicKeyEntry(name: string, publicKey: Uint8Array, source: string): PublicKeyEntry {
  return { name, fingerprint: fingerprintOf(publicKey), publicKey, publicKeyPem: encodePublicKeyPem(publicKey), source };
}

/**
 * The PEM text to hand to someone else. A private key is exported exactly as
 * stored: an encrypted key stays encrypted.
 */
export function exportKey(location: KeysLocation, name: string, which: 'public' | 'private'): string {
  const key = getKey(location, name);
  if (which === 'public') return key.publicKeyPem;
  const text = key.privatePath !== null ? readTextIfExists(key.privatePath) : null;
  if (text === null) throw noPrivateKey(key);
  return text;
}

/**
 * A signer for `name`. The passphrase is asked for only when the key is
 * encrypted, and the private key must match the stored public key, so a
 * swapped file cannot make us sign under a fingerprint we do not hold.
 */
export async function loadSigner(
  location: KeysLocation,
  name: string,
  getPassphrase: () => Promise<string>,
): Promise<Signer> {
  const key = getKey(location, name);
  if (key.privatePath === null) throw noPrivateKey(key);
  const stored = readStoredPrivate(key.privatePath);
  const seed = await unsealSeed(stored, key, async () => getPassphrase());
  try {
    const privateKey = privateKeyObject(seed);
    const actual = publicKeyOf(privateKey);
    if (!bytesEqual(actual, key.publicKey)) throw mismatchedPair(key.name, key.privatePath);
    return {
      name: key.name,
      fingerprint: key.fingerprint,
      publicKey: key.publicKey,
      sign: (message) => new Uint8Array(crypto.sign(null, message, privateKey)),
    };
  } finally {
    seed.fill(0);
  }
}

function keyNamesIn(keysDir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(keysDir, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw unreadable(keysDir, e);
  }
  const names = new Set<string>();
  for (const entry of entries) {
    if (!entry.name.endsWith(PRIVATE_SUFFIX)) continue;
    if (!isFileOrLinkToFile(path.join(keysDir, entry.name), entry)) continue;
    const name = entry.name.endsWith(PUBLIC_SUFFIX)
      ? entry.name.slice(0, -PUBLIC_SUFFIX.length)
      : entry.name.slice(0, -PRIVATE_SUFFIX.length);
    // A file whose name is not a valid key name (a dotfile, an editor backup)
    // could never be addressed by name, so it is not a key.
    if (isValidKeyName(name)) names.add(name);
  }
  return [...names].sort(compareCodeUnits);
}

function readKey(keysDir: string, name: string): KeyInfo {
  const privatePath = privatePathOf(keysDir, name);
  const publicPath = publicPathOf(keysDir, name);
  const publicText = readTextIfExists(publicPath);
  const privateText = readTextIfExists(privatePath);
  if (publicText === null && privateText === null) {
    throw new BluxError('key-not-found', `no key named "${name}" in ${keysDir}`);
  }

  const fromPublicFile = publicText !== null ? parsePublicKeyPem(publicText, publicPath) : null;
  const stored = privateText !== null ? parseStoredPrivate(privateText, privatePath) : null;
  const fromPrivateFile = stored !== null ? storedPublicKey(stored) : null;
  if (fromPublicFile !== null && fromPrivateFile !== null && !bytesEqual(fromPublicFile, fromPrivateFile)) {
    throw mismatchedPair(name, privatePath);
  }
  const publicKey = fromPublicFile ?? fromPrivateFile;
  if (publicKey === null) throw new BluxError('internal', `key "${name}" has no public key`);
  return {
    name,
    fingerprint: fingerprintOf(publicKey),
    publicKey,
    publicKeyPem: encodePublicKeyPem(publicKey),
    privatePath: stored !== null ? privatePath : null,
    publicPath,
    encrypted: stored?.kind === 'encrypted',
  };
}

// ---------------------------------------------------------------------------
// Private key material

type StoredPrivate = { kind: 'plain'; seed: Uint8Array } | { kind: 'encrypted'; envelope: EncryptedKeyEnvelope };

function readStoredPrivate(file: string): StoredPrivate {
  const text = readTextIfExists(file);
  if (text === null) throw new BluxError('file-not-found', 'private key file not found', { file });
  return parseStoredPrivate(text, file);
}

function parseStoredPrivate(text: string, file: string): StoredPrivate {
  const kind = detectPemKind(text);
  if (kind === 'private') return { kind: 'plain', seed: parsePrivateKeyPem(text, file) };
  if (kind === 'encrypted-private') return { kind: 'encrypted', envelope: parseEncryptedKeyPem(text, file) };
  throw new BluxError('malformed', 'not an Ed25519 private key (PKCS#8 or blux-reg encrypted PEM)', { file });
}

/** The public key a private key file vouches for, without needing a passphrase. */
function storedPublicKey(stored: StoredPrivate): Uint8Array {
  if (stored.kind === 'encrypted') return stored.envelope.publicKey;
  try {
    return publicKeyOf(privateKeyObject(stored.seed));
  } finally {
    stored.seed.fill(0);
  }
}

/** The seed of a stored private key, asking for the passphrase only if it is encrypted. Caller zeroes it. */
async function unsealSeed(
  stored: StoredPrivate,
  key: { name: string; privatePath: string | null },
  getPassphrase: () => Promise<string | null>,
): Promise<Uint8Array> {
  if (stored.kind === 'plain') return stored.seed;
  const file = key.privatePath ?? undefined;
  const passphrase = await getPassphrase();
  if (passphrase === null) {
    throw new BluxError('passphrase-required', `key "${key.name}" is encrypted: a passphrase is needed`, { file });
  }
  const seed = await decryptSeed(stored.envelope, passphrase, { name: key.name, file });
  // The tag covers the stored public key, but check the pair anyway: it is
  // cheap, and it is what makes a signer trustworthy.
  if (!bytesEqual(publicKeyOf(privateKeyObject(seed)), stored.envelope.publicKey)) {
    seed.fill(0);
    throw mismatchedPair(key.name, key.privatePath ?? '');
  }
  return seed;
}

/** The private file text for `seed`: plain PKCS#8 (as the original) or encrypted. */
async function privateFileText(seed: Uint8Array, publicKey: Uint8Array, passphrase: string | null): Promise<string> {
  if (passphrase === null) return encodePrivateKeyPem(seed);
  if (passphrase === '') {
    throw new BluxError('invalid-argument', 'empty passphrase: pass no passphrase to store the key unencrypted');
  }
  return encodeEncryptedKeyPem(await encryptSeed(seed, publicKey, passphrase));
}

function privateKeyObject(seed: Uint8Array): crypto.KeyObject {
  const der = privateKeyDer(seed);
  try {
    return crypto.createPrivateKey({ key: Buffer.from(der.buffer, der.byteOffset, der.length), format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

function publicKeyOf(privateKey: crypto.KeyObject): Uint8Array {
  const raw = rawPublicKeyFromDer(crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  if (raw === null) throw new BluxError('internal', 'node:crypto returned a non-Ed25519 public key');
  return raw;
}

// ---------------------------------------------------------------------------
// Writing

export interface GenerateKeyOptions {
  force?: boolean;
  /** Null or absent: store the private key unencrypted, as the original did. */
  passphrase?: string | null;
}

export async function generateKey(location: KeysLocation, name: string, options: GenerateKeyOptions = {}): Promise<KeyInfo> {
  validateKeyName(name);
  const keysDir = keysDirOf(location);
  const force = options.force ?? false;
  if (!force) refuseExisting(keysDir, name);

  // An Ed25519 private key is 32 random bytes (RFC 8032 5.1.5). Drawn here rather than through
  // generateKeyPairSync: Node 20 can deadlock when the garbage collector destroys a finished
  // key-generation job (seen in a process that made a thousand keys: ~KeyGenJob -> mutex).
  const seed = new Uint8Array(crypto.randomBytes(32));
  try {
    const publicKey = publicKeyOf(privateKeyObject(seed));
    const privateText = await privateFileText(seed, publicKey, options.passphrase ?? null);
    writeKeyPair(keysDir, name, { privateText, publicKey }, force);
    return readKey(keysDir, name);
  } finally {
    seed.fill(0);
  }
}

export interface ImportKeyOptions {
  /** Default: `imported-<first 12 hex digits of the fingerprint>`. */
  name?: string;
  force?: boolean;
  /** Encrypt a plain PKCS#8 private key under this passphrase while importing it. */
  passphrase?: string | null;
}

/**
 * Import an SPKI public key (verify-only), a PKCS#8 private key, or a key in
 * our encrypted format (stored as is: importing needs no passphrase).
 */
export async function importKey(location: KeysLocation, pemText: string, options: ImportKeyOptions = {}): Promise<KeyInfo> {
  const keysDir = keysDirOf(location);
  const force = options.force ?? false;
  const passphrase = options.passphrase ?? null;
  const kind = detectPemKind(pemText);
  if (kind === null) {
    const hint = pemText.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')
      ? ' (PKCS#8 encrypted keys are not supported: decrypt it first, e.g. with `openssl pkey`)'
      : '';
    throw new BluxError(
      'malformed',
      `not an Ed25519 key: expected a PUBLIC KEY, PRIVATE KEY or BLUX-REG ENCRYPTED PRIVATE KEY PEM block${hint}`,
    );
  }
  if (kind === 'public' && passphrase !== null) {
    throw new BluxError('invalid-argument', 'a public key has nothing to encrypt: no passphrase expected');
  }
  if (kind === 'encrypted-private' && passphrase !== null) {
    throw new BluxError('invalid-argument', 'the key is already encrypted: import it, then change its passphrase');
  }

  let publicKey: Uint8Array;
  let privateText: string | null;
  if (kind === 'public') {
    publicKey = parsePublicKeyPem(pemText);
    privateText = null;
  } else if (kind === 'encrypted-private') {
    const envelope = parseEncryptedKeyPem(pemText);
    publicKey = envelope.publicKey;
    privateText = encodeEncryptedKeyPem(envelope);
  } else {
    const seed = parsePrivateKeyPem(pemText);
    try {
      publicKey = publicKeyOf(privateKeyObject(seed));
      privateText = await privateFileText(seed, publicKey, passphrase);
    } finally {
      seed.fill(0);
    }
  }

  const name = options.name ?? `imported-${fingerprintOf(publicKey).slice(0, 12)}`;
  validateKeyName(name);
  if (!force) refuseExisting(keysDir, name);
  writeKeyPair(keysDir, name, { privateText, publicKey }, force);
  return readKey(keysDir, name);
}

/**
 * Re-encrypt (or decrypt, or encrypt) a private key in place. `null` means
 * unencrypted on either side; the old passphrase is ignored for a plain key.
 */
export async function changePassphrase(
  location: KeysLocation,
  name: string,
  oldPassphrase: string | null,
  newPassphrase: string | null,
): Promise<KeyInfo> {
  const key = getKey(location, name);
  if (key.privatePath === null) throw noPrivateKey(key);
  const stored = readStoredPrivate(key.privatePath);
  const seed = await unsealSeed(stored, key, async () => oldPassphrase);
  try {
    const text = await privateFileText(seed, key.publicKey, newPassphrase);
    writeKeyFile(key.privatePath, text, PRIVATE_MODE, true);
  } finally {
    seed.fill(0);
  }
  return getKey(location, name);
}

/**
 * Move a key's files to another name; rotation keeps the old key (revoked)
 * under an archive name, so old signatures still resolve to a key and a
 * reason. Never replaces an existing key. Returns the archive name.
 */
export function archiveKey(location: KeysLocation, name: string, archiveName: string): string {
  validateKeyName(archiveName);
  const key = getKey(location, name);
  const keysDir = keysDirOf(location);
  refuseExisting(keysDir, archiveName);
  try {
    // The secret first: a crash in between leaves both names usable (each derives the same public key).
    if (key.privatePath !== null) moveKeyFile(key.privatePath, privatePathOf(keysDir, archiveName));
    if (fs.existsSync(key.publicPath)) moveKeyFile(key.publicPath, publicPathOf(keysDir, archiveName));
  } catch (e) {
    if (e instanceof BluxError) throw e;
    throw unwritable(key.privatePath ?? key.publicPath, e);
  }
  syncDirectorySync(keysDir); // make the new names durable
  return archiveName;
}

function refuseExisting(keysDir: string, name: string): void {
  for (const file of [privatePathOf(keysDir, name), publicPathOf(keysDir, name)]) {
    if (fs.existsSync(file)) {
      throw new BluxError('key-exists', `key "${name}" already exists (use --force to replace it)`, { file });
    }
  }
}

/**
 * Private first, so a crash in between leaves a private-only key (still
 * usable: the public key is derived) rather than a public key with no secret.
 */
function writeKeyPair(
  keysDir: string,
  name: string,
  pair: { privateText: string | null; publicKey: Uint8Array },
  overwrite: boolean,
): void {
  ensureKeysDir(keysDir);
  const privatePath = privatePathOf(keysDir, name);
  if (pair.privateText !== null) {
    writeKeyFile(privatePath, pair.privateText, PRIVATE_MODE, overwrite);
  } else if (overwrite) {
    // Replacing a key with a public-only one: a leftover private file would
    // pair the name with a different secret.
    removeIfExists(privatePath);
  }
  writeKeyFile(publicPathOf(keysDir, name), encodePublicKeyPem(pair.publicKey), PUBLIC_MODE, overwrite);
}

function ensureKeysDir(keysDir: string): void {
  try {
    fs.mkdirSync(keysDir, { recursive: true, mode: DIR_MODE });
  } catch (e) {
    throw unwritable(keysDir, e);
  }
}

/**
 * Through the shared atomic writer: temp file with `mode` from the first byte
 * (a secret is never readable by others, not even for a moment), fsync,
 * move, fsync the folder. Without `overwrite` the move fails instead of
 * replacing a file created meanwhile. The exact mode is forced because the
 * umask must not make a public key private (other users verify with it).
 */
function writeKeyFile(dest: string, text: string, mode: number, overwrite: boolean): void {
  try {
    writeFileAtomicSync(dest, text, mode, { overwrite, ignoreUmask: true });
  } catch (e) {
    throw keyExistsInstead(e, dest);
  }
}

/** Moves an existing key file (archiving) without ever replacing another key's file. */
function moveKeyFile(source: string, dest: string): void {
  try {
    moveWithoutReplacingSync(source, dest);
  } catch (e) {
    throw keyExistsInstead(e, dest);
  }
}

/** In the keystore a file in the way is another key: say so in the keystore's words. */
function keyExistsInstead(e: unknown, dest: string): unknown {
  if (e instanceof BluxError && e.code === 'file-exists') {
    return new BluxError('key-exists', 'key file already exists', { file: dest, cause: e });
  }
  return e;
}

function removeIfExists(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw unwritable(file, e);
  }
}

// ---------------------------------------------------------------------------
// Small helpers

function readTextIfExists(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return null;
    throw unreadable(file, e);
  }
}

function isFileOrLinkToFile(full: string, entry: fs.Dirent): boolean {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return fs.statSync(full).isFile();
  } catch {
    return false;
  }
}

function isValidKeyName(name: string): boolean {
  try {
    validateKeyName(name);
    return true;
  } catch {
    return false;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function noPrivateKey(key: KeyInfo): BluxError {
  return new BluxError('key-not-found', `key "${key.name}" is public-only: it can verify but not sign`, {
    file: key.publicPath,
  });
}

function mismatchedPair(name: string, file: string): BluxError {
  return new BluxError('malformed', `private key "${name}" does not match its public key`, { file });
}

function unreadable(file: string, cause: unknown): BluxError {
  return new BluxError('file-unreadable', `cannot read: ${(cause as Error).message ?? String(cause)}`, { file, cause });
}

function unwritable(file: string, cause: unknown): BluxError {
  return new BluxError('file-unwritable', `cannot write: ${(cause as Error).message ?? String(cause)}`, { file, cause });
}
