/**
 * C2SP tlog-cosignature v1, Ed25519 (c2sp.org/tlog-cosignature): a note
 * signature line on a checkpoint whose key ID uses signature type 0x04 and
 * whose signature bytes are a `timestamped_signature`:
 *
 *   u64 timestamp (big-endian, POSIX seconds) || Ed25519 signature (64 bytes)
 *
 * over the message
 *
 *   cosignature/v1\n
 *   time <timestamp>\n
 *   <the whole checkpoint text, extension lines included>
 */
import { ED25519_SIG_LENGTH } from './note.js';

export const COSIGNATURE_HEADER = 'cosignature/v1';
const TIMESTAMP_BYTES = 8;
/** The spec's bound: a timestamp must not exceed 2^63 - 1. */
const MAX_TIMESTAMP = 2n ** 63n - 1n;

export function cosignedMessage(checkpointText: string, timestamp: number): Uint8Array {
  return new TextEncoder().encode(`${COSIGNATURE_HEADER}\ntime ${timestamp}\n${checkpointText}`);
}

export function encodeTimestampedSignature(timestamp: number, signature: Uint8Array): Uint8Array {
  const out = new Uint8Array(TIMESTAMP_BYTES + signature.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(timestamp), false);
  out.set(signature, TIMESTAMP_BYTES);
  return out;
}

/** Null unless exactly 8 + 64 bytes with a timestamp within the spec's bound and JavaScript's safe integers. */
export function decodeTimestampedSignature(bytes: Uint8Array): { timestamp: number; signature: Uint8Array } | null {
  if (bytes.length !== TIMESTAMP_BYTES + ED25519_SIG_LENGTH) return null;
  const raw = new DataView(bytes.buffer, bytes.byteOffset, TIMESTAMP_BYTES).getBigUint64(0, false);
  if (raw > MAX_TIMESTAMP || raw > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return { timestamp: Number(raw), signature: bytes.subarray(TIMESTAMP_BYTES) };
}
