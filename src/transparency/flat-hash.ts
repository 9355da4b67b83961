/**
 * The tree's hot path: SHA-256 of many short inputs, written into flat
 * buffers. Per-call overhead, not the bytes, is what a 65-byte node hash or
 * a 300-byte leaf hash costs, so this avoids what the generic path pays per
 * hash: a createHash object, a digest Buffer, a copied input, a view object
 * per result. node:crypto's one-shot `hash()` with a 'binary' (latin1) string digest
 * was the cheapest call measured on Node 20 (~2.5x createHash().digest(),
 * bench notes in docs/TRANSPARENCY.md).
 *
 * A batch's digests are joined and written into a flat level (merkle.ts)
 * with one call: no view object, no native write per hash.
 */
import { hash } from 'node:crypto';

import { getBackend } from '../engine/index.js';
import type { BackendName } from '../engine/types.js';
import type { SpanBatch } from './leaf-reader.js';
import { allocFlatLevel, FLAT_LEAD, LEAF_HASH_PREFIX, plainBytes, writeDigests, type Sha256Latin1 } from './merkle.js';

/** node:crypto's one-shot hash, digest as a latin1 string: no Hash object, no Buffer per call. */
const nodeCryptoSha256Latin1: Sha256Latin1 = (input) => hash('sha256', input, 'binary');

/**
 * The backend's SHA-256 for the hot path. The native and auto backends hash
 * with node:crypto (OpenSSL), so they get the one-shot call; the others keep
 * their own implementation (same digests, which the engine tests pin).
 */
export function sha256Latin1For(backendName: BackendName): Sha256Latin1 {
  if (backendName === 'native' || backendName === 'auto') return nodeCryptoSha256Latin1;
  const backend = getBackend(backendName);
  return (input) => Buffer.from(backend.sha256(input)).toString('latin1');
}

/**
 * Leaf hashes SHA-256(0x00 || line) of a batch, as a flat level. The 0x00
 * goes into the byte before each line (the previous "\n", or the reader's
 * spare byte) for the one call and is put back: no line is copied.
 */
export function hashLeafSpans(batch: SpanBatch, sha256: Sha256Latin1): Buffer {
  const { starts, ends, count } = batch;
  // Views of a plain Uint8Array: Buffer#subarray builds a Buffer per call (measurably slower).
  const buffer = plainBytes(batch.buffer);
  const digests: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const prefixAt = starts[i]! - 1;
    const saved = buffer[prefixAt]!;
    buffer[prefixAt] = LEAF_HASH_PREFIX;
    digests[i] = sha256(buffer.subarray(prefixAt, ends[i]));
    buffer[prefixAt] = saved;
  }
  const out = allocFlatLevel(count);
  writeDigests(out, digests, FLAT_LEAD);
  return out;
}
