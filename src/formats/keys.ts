/**
 * Ed25519 key encodings, byte for byte as the Python original writes them:
 * public keys as SubjectPublicKeyInfo PEM, private keys as PKCS#8 v1 PEM.
 *
 * Pure: no file system, no key generation. Ed25519 keys have exactly one DER
 * shape each, so instead of a general ASN.1 parser we compare a fixed prefix
 * and length; anything else (another algorithm, PKCS#8 v2 with an embedded
 * public key, trailing bytes) is refused rather than half-understood.
 */
import { BluxError } from '../errors.js';
import { sha256Hex } from '../engine/index.js';
import { decodeBase64Strict, encodeBase64 } from './base64.js';

export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SEED_LENGTH = 32;

/** SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) <32 bytes> } */
const SPKI_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);
/** SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING <32 bytes> } } */
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

export const PUBLIC_KEY_PEM_LABEL = 'PUBLIC KEY';
export const PRIVATE_KEY_PEM_LABEL = 'PRIVATE KEY';
export const ENCRYPTED_PRIVATE_KEY_PEM_LABEL = 'BLUX-REG ENCRYPTED PRIVATE KEY';

export type PemKind = 'public' | 'private' | 'encrypted-private';

/** PEM body line length used by the original (and by OpenSSL). */
const PEM_LINE_LENGTH = 64;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 -]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Wrap `bytes` in a PEM block: base64 in 64-character lines, trailing newline. */
export function encodePemBlock(label: string, bytes: Uint8Array): string {
  const body = encodeBase64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < body.length; i += PEM_LINE_LENGTH) lines.push(body.slice(i, i + PEM_LINE_LENGTH));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * The bytes of the one PEM block labelled `label` in `text`. Text around the
 * block (RFC 7468 "explanatory text") is ignored; two blocks with the same
 * label are refused because we could not tell which one was meant.
 */
export function decodePemBlock(text: string, label: string, file?: string): Uint8Array {
  const bodies = [...text.matchAll(PEM_BLOCK)].filter((m) => m[1] === label).map((m) => m[2] ?? '');
  if (bodies.length === 0) throw malformed(`no "${label}" PEM block found`, file);
  if (bodies.length > 1) throw malformed(`more than one "${label}" PEM block`, file);
  const base64 = (bodies[0] ?? '').replace(/[ \t\r\n]/g, '');
  const bytes = decodeBase64Strict(base64);
  if (bytes === null) throw malformed(`"${label}" PEM block is not valid base64`, file);
  return bytes;
}

/** Which kind of key PEM `text` holds, judged by its first recognised block label. */
export function detectPemKind(text: string): PemKind | null {
  for (const match of text.matchAll(PEM_BLOCK)) {
    switch (match[1]) {
      case PUBLIC_KEY_PEM_LABEL:
        return 'public';
      case PRIVATE_KEY_PEM_LABEL:
        return 'private';
      case ENCRYPTED_PRIVATE_KEY_PEM_LABEL:
        return 'encrypted-private';
    }
  }
  return null;
}

/** The raw 32-byte Ed25519 public key in an SPKI PEM. */
export function parsePublicKeyPem(pem: string, file?: string): Uint8Array {
  const der = decodePemBlock(pem, PUBLIC_KEY_PEM_LABEL, file);
  const raw = stripPrefix(der, SPKI_ED25519_PREFIX, ED25519_PUBLIC_KEY_LENGTH);
  if (raw === null) throw malformed('not an Ed25519 SubjectPublicKeyInfo public key', file);
  return raw;
}

export function encodePublicKeyPem(raw: Uint8Array): string {
  assertLength(raw, ED25519_PUBLIC_KEY_LENGTH, 'Ed25519 public key');
  return encodePemBlock(PUBLIC_KEY_PEM_LABEL, concat(SPKI_ED25519_PREFIX, raw));
}

/** The 32-byte Ed25519 seed (the private key proper) in a PKCS#8 v1 PEM. */
export function parsePrivateKeyPem(pem: string, file?: string): Uint8Array {
  const der = decodePemBlock(pem, PRIVATE_KEY_PEM_LABEL, file);
  try {
    const seed = stripPrefix(der, PKCS8_ED25519_PREFIX, ED25519_SEED_LENGTH);
    if (seed === null) throw malformed('not an Ed25519 PKCS#8 (v1) private key', file);
    return seed;
  } finally {
    der.fill(0);
  }
}

export function encodePrivateKeyPem(seed: Uint8Array): string {
  const der = privateKeyDer(seed);
  try {
    return encodePemBlock(PRIVATE_KEY_PEM_LABEL, der);
  } finally {
    der.fill(0);
  }
}

/** PKCS#8 v1 DER for `seed`; the caller owns (and should zero) the result. */
export function privateKeyDer(seed: Uint8Array): Uint8Array {
  assertLength(seed, ED25519_SEED_LENGTH, 'Ed25519 seed');
  return concat(PKCS8_ED25519_PREFIX, seed);
}

/** SPKI DER for a raw public key (what node:crypto's `createPublicKey` takes). */
export function publicKeyDer(raw: Uint8Array): Uint8Array {
  assertLength(raw, ED25519_PUBLIC_KEY_LENGTH, 'Ed25519 public key');
  return concat(SPKI_ED25519_PREFIX, raw);
}

/** The raw public key inside SPKI DER, or null if it is not Ed25519 SPKI. */
export function rawPublicKeyFromDer(der: Uint8Array): Uint8Array | null {
  return stripPrefix(der, SPKI_ED25519_PREFIX, ED25519_PUBLIC_KEY_LENGTH);
}

/** The seed inside PKCS#8 v1 DER, or null if it is not Ed25519 PKCS#8 v1. */
export function seedFromPrivateKeyDer(der: Uint8Array): Uint8Array | null {
  return stripPrefix(der, PKCS8_ED25519_PREFIX, ED25519_SEED_LENGTH);
}

/** Key fingerprint: SHA-256 of the raw 32-byte public key, lowercase hex. */
export function fingerprintOf(raw: Uint8Array): string {
  assertLength(raw, ED25519_PUBLIC_KEY_LENGTH, 'Ed25519 public key');
  return sha256Hex(raw);
}

function stripPrefix(der: Uint8Array, prefix: Uint8Array, payloadLength: number): Uint8Array | null {
  if (der.length !== prefix.length + payloadLength) return null;
  for (let i = 0; i < prefix.length; i++) if (der[i] !== prefix[i]) return null;
  // A copy, not a view: callers zero the DER (and Buffer#slice would share its memory).
  return new Uint8Array(der.subarray(prefix.length));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** A wrong length here is a programming error, not bad input: inputs are parsed before they get here. */
function assertLength(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length !== length) {
    throw new BluxError('invalid-argument', `${what} must be ${length} bytes, got ${bytes.length}`);
  }
}

function malformed(message: string, file: string | undefined): BluxError {
  return new BluxError('malformed', message, file !== undefined ? { file } : {});
}
