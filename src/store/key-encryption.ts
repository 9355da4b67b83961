/**
 * Passphrase protection for an Ed25519 seed: Argon2id derives a 32-byte key,
 * XChaCha20-Poly1305 seals the seed.
 *
 * File format: a PEM block labelled `BLUX-REG ENCRYPTED PRIVATE KEY` whose body
 * is the UTF-8 JSON envelope
 *
 *   { format: "blux-reg-encrypted-key", version: 1,
 *     kdf: { name: "argon2id", memory_kib, iterations, parallelism, salt },
 *     cipher: { name: "xchacha20-poly1305", nonce },
 *     public_key, ciphertext }                       (binary fields: base64)
 *
 * The public key sits in the clear so keys can be listed and trusted without
 * the passphrase. Everything but the ciphertext is the AEAD's additional data,
 * so nobody can weaken the KDF parameters or swap the public key without the
 * decryption failing.
 *
 * Parameters are always read from the file, so the defaults can be raised later
 * without breaking old keys; values no honest writer produces are refused before
 * any work is done, so a crafted file cannot make us allocate gigabytes.
 */
import { createRequire } from 'node:module';
import { BluxError } from '../errors.js';
import { decodeBase64Strict, encodeBase64 } from '../formats/base64.js';
import {
  decodePemBlock,
  encodePemBlock,
  ENCRYPTED_PRIVATE_KEY_PEM_LABEL,
  ED25519_PUBLIC_KEY_LENGTH,
  ED25519_SEED_LENGTH,
} from '../formats/keys.js';

/** The part of sodium-native we use (the package ships no type declarations). */
interface SodiumAead {
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    ciphertext: Uint8Array,
    message: Uint8Array,
    additionalData: Uint8Array | null,
    secretNonce: null,
    publicNonce: Uint8Array,
    key: Uint8Array,
  ): number;
  /** Throws when the tag does not verify. */
  crypto_aead_xchacha20poly1305_ietf_decrypt(
    message: Uint8Array,
    secretNonce: null,
    ciphertext: Uint8Array,
    additionalData: Uint8Array | null,
    publicNonce: Uint8Array,
    key: Uint8Array,
  ): number;
  randombytes_buf(buffer: Uint8Array): void;
  sodium_memzero(buffer: Uint8Array): void;
}
/**
 * Loaded on first use: every command that reads the keystore imports this
 * module, and most (verify, verify-batch) never touch a private key.
 */
let sodiumModule: SodiumAead | undefined;
function sodium(): SodiumAead {
  sodiumModule ??= createRequire(import.meta.url)('sodium-native') as SodiumAead;
  return sodiumModule;
}

export const ENVELOPE_FORMAT = 'blux-reg-encrypted-key';
export const ENVELOPE_VERSION = 1;
const KDF_NAME = 'argon2id';
const CIPHER_NAME = 'xchacha20-poly1305';

const KEY_LENGTH = 32;
const NONCE_LENGTH = 24;
const TAG_LENGTH = 16;
const SALT_LENGTH = 16;

export interface KdfParams {
  memoryKib: number;
  iterations: number;
  parallelism: number;
}

/** About 150 ms and 64 MiB per derivation on a laptop. */
export const DEFAULT_KDF_PARAMS: Readonly<KdfParams> = Object.freeze({
  memoryKib: 65536,
  iterations: 3,
  parallelism: 4,
});

/** Bounds outside which a file is refused as malformed (Argon2 itself needs memory >= 8 KiB per lane). */
const LIMITS = {
  maxMemoryKib: 4 * 1024 * 1024, // 4 GiB
  maxIterations: 100,
  maxParallelism: 255,
  minSaltLength: 8,
  maxSaltLength: 64,
} as const;

export interface EncryptedKeyEnvelope {
  kdf: KdfParams & { salt: Uint8Array };
  nonce: Uint8Array;
  publicKey: Uint8Array;
  ciphertext: Uint8Array;
}

/** Who the key is, for error messages. */
export interface KeyLabel {
  name: string;
  file?: string;
}

/** Seal `seed` under `passphrase`; returns the envelope (see `encodeEncryptedKeyPem`). */
export async function encryptSeed(
  seed: Uint8Array,
  publicKey: Uint8Array,
  passphrase: string,
  kdfParams: KdfParams = DEFAULT_KDF_PARAMS,
): Promise<EncryptedKeyEnvelope> {
  if (seed.length !== ED25519_SEED_LENGTH) throw new BluxError('invalid-argument', 'Ed25519 seed must be 32 bytes');
  if (publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new BluxError('invalid-argument', 'Ed25519 public key must be 32 bytes');
  }
  if (passphrase === '') throw new BluxError('invalid-argument', 'the passphrase must not be empty');
  const paramProblem = kdfParamsProblem(kdfParams);
  if (paramProblem !== null) throw new BluxError('invalid-argument', paramProblem);

  const salt = randomBytes(SALT_LENGTH);
  const nonce = randomBytes(NONCE_LENGTH);
  const header = { kdf: { ...kdfParams, salt }, nonce, publicKey: Uint8Array.from(publicKey) };
  const key = await deriveKey(passphrase, header.kdf);
  try {
    const ciphertext = new Uint8Array(seed.length + TAG_LENGTH);
    sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(ciphertext, seed, additionalData(header), null, nonce, key);
    return { ...header, ciphertext };
  } finally {
    sodium().sodium_memzero(key);
  }
}

/**
 * The seed sealed in `envelope`. A wrong passphrase and an altered envelope are
 * indistinguishable by design (both fail the AEAD tag), so both are reported as
 * 'wrong-passphrase'. The caller owns (and should zero) the returned seed.
 */
export async function decryptSeed(
  envelope: EncryptedKeyEnvelope,
  passphrase: string,
  label: KeyLabel,
): Promise<Uint8Array> {
  const key = await deriveKey(passphrase, envelope.kdf);
  const seed = new Uint8Array(ED25519_SEED_LENGTH);
  try {
    sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
      seed,
      null,
      envelope.ciphertext,
      additionalData(envelope),
      envelope.nonce,
      key,
    );
    return seed;
  } catch (cause) {
    sodium().sodium_memzero(seed);
    throw new BluxError('wrong-passphrase', `wrong passphrase for key "${label.name}" (or the key file was altered)`, {
      file: label.file,
      cause,
    });
  } finally {
    sodium().sodium_memzero(key);
  }
}

export function encodeEncryptedKeyPem(envelope: EncryptedKeyEnvelope): string {
  const json = deterministicJson({ ...headerFields(envelope), ciphertext: encodeBase64(envelope.ciphertext) });
  return encodePemBlock(ENCRYPTED_PRIVATE_KEY_PEM_LABEL, new TextEncoder().encode(json));
}

/** Parse and validate an encrypted key file; nothing is decrypted. */
export function parseEncryptedKeyPem(text: string, file?: string): EncryptedKeyEnvelope {
  const body = decodePemBlock(text, ENCRYPTED_PRIVATE_KEY_PEM_LABEL, file);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw malformed('encrypted key envelope is not UTF-8 JSON', file);
  }
  return envelopeFromJson(json, file);
}

function envelopeFromJson(json: unknown, file: string | undefined): EncryptedKeyEnvelope {
  // Format and version first: a later version may well have other fields.
  const probe = (json ?? {}) as Record<string, unknown>;
  if (typeof json !== 'object' || probe['format'] !== ENVELOPE_FORMAT) {
    throw malformed(`envelope format is not "${ENVELOPE_FORMAT}"`, file);
  }
  if (probe['version'] !== ENVELOPE_VERSION) {
    throw new BluxError('unsupported-version', `encrypted key version ${JSON.stringify(probe['version'])} is not supported`, {
      file,
    });
  }
  const top = expectObject(json, 'envelope', ['format', 'version', 'kdf', 'cipher', 'public_key', 'ciphertext'], file);

  const kdf = expectObject(top['kdf'], 'kdf', ['name', 'memory_kib', 'iterations', 'parallelism', 'salt'], file);
  if (kdf['name'] !== KDF_NAME) throw malformed(`kdf.name must be "${KDF_NAME}"`, file);
  const params: KdfParams = {
    memoryKib: expectInteger(kdf['memory_kib'], 'kdf.memory_kib', file),
    iterations: expectInteger(kdf['iterations'], 'kdf.iterations', file),
    parallelism: expectInteger(kdf['parallelism'], 'kdf.parallelism', file),
  };
  const paramProblem = kdfParamsProblem(params);
  if (paramProblem !== null) throw malformed(paramProblem, file);
  const salt = expectBase64(kdf['salt'], 'kdf.salt', null, file);
  if (salt.length < LIMITS.minSaltLength || salt.length > LIMITS.maxSaltLength) {
    throw malformed(`kdf.salt must be ${LIMITS.minSaltLength}..${LIMITS.maxSaltLength} bytes`, file);
  }

  const cipher = expectObject(top['cipher'], 'cipher', ['name', 'nonce'], file);
  if (cipher['name'] !== CIPHER_NAME) throw malformed(`cipher.name must be "${CIPHER_NAME}"`, file);

  return {
    kdf: { ...params, salt },
    nonce: expectBase64(cipher['nonce'], 'cipher.nonce', NONCE_LENGTH, file),
    publicKey: expectBase64(top['public_key'], 'public_key', ED25519_PUBLIC_KEY_LENGTH, file),
    ciphertext: expectBase64(top['ciphertext'], 'ciphertext', ED25519_SEED_LENGTH + TAG_LENGTH, file),
  };
}

function kdfParamsProblem(p: KdfParams): string | null {
  if (!Number.isSafeInteger(p.parallelism) || p.parallelism < 1 || p.parallelism > LIMITS.maxParallelism) {
    return `kdf parallelism must be 1..${LIMITS.maxParallelism}`;
  }
  if (!Number.isSafeInteger(p.iterations) || p.iterations < 1 || p.iterations > LIMITS.maxIterations) {
    return `kdf iterations must be 1..${LIMITS.maxIterations}`;
  }
  const minMemory = 8 * p.parallelism;
  if (!Number.isSafeInteger(p.memoryKib) || p.memoryKib < minMemory || p.memoryKib > LIMITS.maxMemoryKib) {
    return `kdf memory_kib must be ${minMemory}..${LIMITS.maxMemoryKib}`;
  }
  return null;
}

async function deriveKey(passphrase: string, kdf: EncryptedKeyEnvelope['kdf']): Promise<Uint8Array> {
  // NFC so the same passphrase typed on systems that compose characters
  // differently (e.g. macOS vs Linux input methods) derives the same key.
  const password = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  // Loaded on first use: commands that never touch a private key skip it.
  const argon2 = await import('argon2');
  try {
    return await argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: kdf.memoryKib,
      timeCost: kdf.iterations,
      parallelism: kdf.parallelism,
      salt: Buffer.from(kdf.salt),
      hashLength: KEY_LENGTH,
      raw: true,
    });
  } finally {
    sodium().sodium_memzero(password);
  }
}

type EnvelopeHeader = Omit<EncryptedKeyEnvelope, 'ciphertext'>;

/** The envelope minus the ciphertext, in its JSON shape. */
function headerFields(h: EnvelopeHeader): Record<string, unknown> {
  return {
    format: ENVELOPE_FORMAT,
    version: ENVELOPE_VERSION,
    kdf: {
      name: KDF_NAME,
      memory_kib: h.kdf.memoryKib,
      iterations: h.kdf.iterations,
      parallelism: h.kdf.parallelism,
      salt: encodeBase64(h.kdf.salt),
    },
    cipher: { name: CIPHER_NAME, nonce: encodeBase64(h.nonce) },
    public_key: encodeBase64(h.publicKey),
  };
}

/**
 * Rebuilt from the parsed values rather than taken from the file text, so the
 * bytes bound by the tag do not depend on how the file happens to be formatted.
 */
function additionalData(h: EnvelopeHeader): Uint8Array {
  return new TextEncoder().encode(deterministicJson(headerFields(h)));
}

/** JSON with object keys sorted at every depth. Only ASCII strings and integers reach it. */
function deterministicJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(deterministicJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${deterministicJson(v)}`).join(',')}}`;
}

function randomBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  sodium().randombytes_buf(bytes);
  return bytes;
}

/** An object with exactly `keys`: unknown fields are refused because the tag would not cover them. */
function expectObject(
  value: unknown,
  what: string,
  keys: readonly string[],
  file: string | undefined,
): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed(`${what} must be an object`, file);
  const record = value as Record<string, unknown>;
  for (const key of keys) if (!(key in record)) throw malformed(`${what} lacks "${key}"`, file);
  for (const key of Object.keys(record)) if (!keys.includes(key)) throw malformed(`${what} has unknown field "${key}"`, file);
  return record;
}

function expectInteger(value: unknown, what: string, file: string | undefined): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw malformed(`${what} must be an integer`, file);
  return value;
}

function expectBase64(value: unknown, what: string, length: number | null, file: string | undefined): Uint8Array {
  const bytes = typeof value === 'string' ? decodeBase64Strict(value, length ?? undefined) : null;
  if (bytes === null || (length !== null && bytes.length !== length)) {
    throw malformed(`${what} must be base64${length !== null ? ` of ${length} bytes` : ''}`, file);
  }
  return bytes;
}

function malformed(message: string, file: string | undefined): BluxError {
  return new BluxError('malformed', message, { file });
}
