/**
 * SHA-256 from node:crypto (OpenSSL, SHA-NI where the CPU has it: ~1.7 GB/s
 * per core here), shared by the backends that hash with it (native, and wasm
 * until hash-wasm takes its place). Loads no addon.
 */
import { createHash, hash } from 'node:crypto';
import type { Sha256Hasher } from '../types.js';
import { SingleUseHasher } from './single-use-hasher.js';

/**
 * A Buffer is a Uint8Array already; returning a plain Uint8Array view of it
 * (no copy) keeps every backend's results of one type, so deep equality in
 * callers and tests does not depend on the backend.
 */
function asPlainBytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** An incremental node:crypto SHA-256 (node:crypto consumes each chunk before returning). */
export function createNodeSha256Hasher(): Sha256Hasher {
  const hash = createHash('sha256');
  return new SingleUseHasher({ update: (chunk) => hash.update(chunk), digest: () => asPlainBytes(hash.digest()) });
}

const SHA256_BYTES = 32;

/** One-shot `crypto.hash` (Node >= 20.12): no Hash object per call, about half createHash's per-call cost. */
export function nodeSha256(data: Uint8Array): Uint8Array {
  return asPlainBytes(hash('sha256', data, 'buffer'));
}

/**
 * The batch form: the digests go, as latin1 strings (the cheapest digest
 * node:crypto hands out), into one buffer for the whole batch, and come back
 * as views of it: one allocation per batch, not one per digest. Per-call
 * overhead is what short inputs (65-byte Merkle nodes, ~300-byte ledger
 * lines) cost, not their bytes.
 */
export function nodeSha256Many(items: readonly Uint8Array[]): Uint8Array[] {
  const out = Buffer.allocUnsafeSlow(items.length * SHA256_BYTES);
  const digests: Uint8Array[] = new Array(items.length);
  const plain = asPlainBytes(out);
  for (let i = 0; i < items.length; i++) {
    out.write(hash('sha256', items[i]!, 'binary'), i * SHA256_BYTES, SHA256_BYTES, 'latin1');
    digests[i] = plain.subarray(i * SHA256_BYTES, (i + 1) * SHA256_BYTES);
  }
  return digests;
}
