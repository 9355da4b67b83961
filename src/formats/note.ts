/**
 * C2SP signed-note (c2sp.org/signed-note): a UTF-8 text ending in "\n",
 * a blank line, then one or more signature lines
 *
 *   — <key name> base64(key ID (4 bytes) || signature)
 *
 * (U+2014 EM DASH, a space, the name, a space, the base64). The key ID is
 * the first 4 bytes of SHA-256(name || 0x0A || signature type || public key);
 * for Ed25519 note signatures the type is 0x01, for tlog cosignatures 0x04.
 * A verifier key ("vkey") is `<name>+<key ID hex>+base64(type || public key)`.
 *
 * Pure: parsing, serializing, key IDs. Which signatures count is the
 * caller's policy; lines from unknown keys are kept but never trusted.
 */
import { BluxError } from '../errors.js';
import { sha256 } from '../engine/index.js';
import { decodeBase64Strict, encodeBase64, encodeHex } from './base64.js';

export const SIGNATURE_LINE_PREFIX = '\u2014 ';
export const KEY_ID_LENGTH = 4;
/** Signature types of the signed-note registry. */
export const SignatureType = { ed25519: 0x01, cosignatureV1: 0x04 } as const;
export type SignatureTypeByte = (typeof SignatureType)[keyof typeof SignatureType];
export const ED25519_KEY_LENGTH = 32;
export const ED25519_SIG_LENGTH = 64;
/** The spec's bound on signature lines a verifier must process. */
export const MAX_SIGNATURE_LINES = 100;

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  /** The bytes after the key ID (the signature, or a cosignature's timestamp || signature). */
  signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, including its final "\n". */
  text: string;
  signatures: NoteSignature[];
}

/** A key name: non-empty, no whitespace, no "+" (the vkey separator). */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

function checkKeyName(name: string): void {
  if (!isValidKeyName(name)) {
    throw new BluxError('invalid-argument', `a signed-note key name must be non-empty without spaces or "+", got ${JSON.stringify(name)}`);
  }
}

/** SHA-256(name || "\n" || type || publicKey)[:4]. */
export function noteKeyId(name: string, type: SignatureTypeByte, publicKey: Uint8Array): Uint8Array {
  checkKeyName(name);
  const nameBytes = new TextEncoder().encode(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = type;
  input.set(publicKey, nameBytes.length + 2);
  return sha256(input).subarray(0, KEY_ID_LENGTH);
}

export interface VerifierKey {
  name: string;
  type: SignatureTypeByte;
  publicKey: Uint8Array;
  keyId: Uint8Array;
}

export function encodeVerifierKey(name: string, type: SignatureTypeByte, publicKey: Uint8Array): string {
  const material = new Uint8Array(1 + publicKey.length);
  material[0] = type;
  material.set(publicKey, 1);
  return `${name}+${encodeHex(noteKeyId(name, type, publicKey))}+${encodeBase64(material)}`;
}

/** Parses a vkey; null when it is not one (wrong shape, unknown type, key ID not matching). */
export function parseVerifierKey(text: string): VerifierKey | null {
  const parts = text.split('+');
  // The base64 may itself contain "+": the name and the ID are the first two fields.
  if (parts.length < 3) return null;
  const name = parts[0]!;
  const idHex = parts[1]!;
  const material = decodeBase64Strict(parts.slice(2).join('+'));
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(idHex) || material === null || material.length !== 1 + ED25519_KEY_LENGTH) return null;
  const type = material[0];
  if (type !== SignatureType.ed25519 && type !== SignatureType.cosignatureV1) return null;
  const publicKey = material.subarray(1);
  const keyId = noteKeyId(name, type, publicKey);
  if (encodeHex(keyId) !== idHex) return null;
  return { name, type, publicKey, keyId };
}

export type NoteParse = { ok: true; note: SignedNote } | { ok: false; problem: string };

/** Control characters other than "\n" are not allowed anywhere in a note. */
const FORBIDDEN_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/u;

/** Splits a signed note. Malformed signature lines make the whole note malformed (the spec's rule). */
export function parseSignedNote(input: string): NoteParse {
  if (FORBIDDEN_CONTROL.test(input)) return { ok: false, problem: 'contains a control character other than newline' };
  if (!input.endsWith('\n')) return { ok: false, problem: 'does not end with a newline' };
  const split = input.lastIndexOf('\n\n');
  if (split === -1) return { ok: false, problem: 'has no blank line between the text and the signatures' };
  const text = input.slice(0, split + 1);
  const lines = input.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURE_LINES) return { ok: false, problem: `has more than ${MAX_SIGNATURE_LINES} signature lines` };
  const signatures: NoteSignature[] = [];
  for (const [i, line] of lines.entries()) {
    const parsed = parseSignatureLine(line);
    if (parsed === null) return { ok: false, problem: `signature line ${i + 1} is not "— <name> <base64>": ${JSON.stringify(line.slice(0, 80))}` };
    signatures.push(parsed);
  }
  return { ok: true, note: { text, signatures } };
}

function parseSignatureLine(line: string): NoteSignature | null {
  if (!line.startsWith(SIGNATURE_LINE_PREFIX)) return null;
  const rest = line.slice(SIGNATURE_LINE_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space === -1) return null;
  const name = rest.slice(0, space);
  const blob = decodeBase64Strict(rest.slice(space + 1));
  if (!isValidKeyName(name) || blob === null || blob.length <= KEY_ID_LENGTH) return null;
  return { name, keyId: blob.subarray(0, KEY_ID_LENGTH), signature: blob.subarray(KEY_ID_LENGTH) };
}

export function signatureLine(signature: NoteSignature): string {
  const blob = new Uint8Array(KEY_ID_LENGTH + signature.signature.length);
  blob.set(signature.keyId, 0);
  blob.set(signature.signature, KEY_ID_LENGTH);
  return `${SIGNATURE_LINE_PREFIX}${signature.name} ${encodeBase64(blob)}\n`;
}

export function serializeSignedNote(note: SignedNote): string {
  if (!note.text.endsWith('\n')) throw new BluxError('internal', 'a signed-note text must end with a newline');
  if (note.signatures.length === 0) throw new BluxError('internal', 'a signed note needs at least one signature');
  return `${note.text}\n${note.signatures.map(signatureLine).join('')}`;
}

/** The signature lines whose name and key ID match the key (the others are ignored, as the spec requires). */
export function signaturesBy(note: SignedNote, name: string, keyId: Uint8Array): NoteSignature[] {
  const id = encodeHex(keyId);
  return note.signatures.filter((s) => s.name === name && encodeHex(s.keyId) === id);
}

/** Adds a signature line at the end, or replaces in place an earlier one of the same key (re-signing must not pile up lines). */
export function withSignature(note: SignedNote, signature: NoteSignature): SignedNote {
  const id = encodeHex(signature.keyId);
  const at = note.signatures.findIndex((s) => s.name === signature.name && encodeHex(s.keyId) === id);
  const signatures = [...note.signatures];
  if (at === -1) signatures.push(signature);
  else signatures[at] = signature;
  return { text: note.text, signatures };
}
