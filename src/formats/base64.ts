/**
 * Strict base64 (RFC 4648 §4, standard alphabet, padded) and lowercase hex.
 *
 * Decoders in the wild accept many spellings of the same bytes (whitespace,
 * missing padding, the URL alphabet, stray bits in the last character). A
 * signature field must have exactly one spelling, or a "different" document
 * can carry the same signature; so we accept a text only if it is exactly
 * what we would have written for the bytes it decodes to.
 */

const BASE64_SHAPE = /^[A-Za-z0-9+/]*={0,2}$/;

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * The decoded bytes, or null unless `text` is the canonical encoding (and,
 * when given, decodes to `expectedLength` bytes).
 */
export function decodeBase64Strict(text: string, expectedLength?: number): Uint8Array | null {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !BASE64_SHAPE.test(text)) return null;
  // Buffer's decoder is lenient; the re-encoding comparison is what makes this strict
  // (it rejects non-zero pad bits, e.g. "AB==" which decodes like "AA==").
  const decoded = Buffer.from(text, 'base64');
  if (decoded.toString('base64') !== text) return null;
  if (expectedLength !== undefined && decoded.length !== expectedLength) return null;
  return new Uint8Array(decoded);
}

export function encodeHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const LOWERCASE_HEX = /^(?:[0-9a-f]{2})*$/;

/** The bytes, or null unless `hex` is an even-length run of lowercase hex digits. */
export function decodeHex(hex: string): Uint8Array | null {
  if (typeof hex !== 'string' || !LOWERCASE_HEX.test(hex)) return null;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
