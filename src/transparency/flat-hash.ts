/**
 * The tree's hot path: SHA-256 of many short inputs, written into flat
 * buffers. Per-call overhead, not the bytes, is what a 65-byte node hash or
 * a 300-byte leaf hash costs, so this avoids what the generic path pays per
 * hash: a createHash object, a digest Buffer, a copied input, a view object
 * per result. node:crypto's one-shot `hash()` with a 'binary' (latin1) string digest
 * was the cheapest call measured on Node 20 (~2.5x createHash().digest(),
 * bench notes in docs/TRANSPARENCY.md).
 *
 * Results go into flat levels (merkle.ts): no view object per hash.
 */
import { hash } from 'node:crypto';

import { getBackend } from '../engine/index.js';
import type { BackendName } from '../engine/types.js';
import type { SpanBatch } from './leaf-reader.js';
import { allocFlatLevel, FLAT_LEAD, plainBytes, HASH_SIZE, LEAF_HASH_PREFIX, type HashInto } from './merkle.js';

/**
 * Buffer#latin1Write: what Buffer#write(s, at, n, 'latin1') ends in, without
 * its argument normalization (a tenth of the hot path's time in a profile).
 * Node's own code uses it; when a runtime lacks it, write() does the same.
 */
type Latin1Writer = (this: Buffer, text: string, at: number, length: number) => number;
const latin1Write: Latin1Writer =
  (Buffer.prototype as unknown as { latin1Write?: Latin1Writer }).latin1Write ??
  function (this: Buffer, text, at, length) {
    return this.write(text, at, length, 'latin1');
  };

/** node:crypto one-shot, the digest as a latin1 string (no Buffer per hash) written straight into `out`. */
const nodeCryptoHashInto: HashInto = (input, out, at) => {
  latin1Write.call(out, hash('sha256', input, 'binary'), at, HASH_SIZE);
};

/**
 * The backend's SHA-256 as a HashInto. The native and auto backends hash
 * with node:crypto (OpenSSL), so they get the one-shot call; the others keep
 * their own implementation (same digests, which the engine tests pin).
 */
export function hashIntoFor(backendName: BackendName): HashInto {
  if (backendName === 'native' || backendName === 'auto') return nodeCryptoHashInto;
  const backend = getBackend(backendName);
  return (input, out, at) => out.set(backend.sha256(input), at);
}

/**
 * Leaf hashes SHA-256(0x00 || line) of a batch, as a flat level. The 0x00
 * goes into the byte before each line (the previous "\n", or the reader's
 * spare byte) for the one call and is put back: no line is copied.
 */
export function hashLeafSpans(batch: SpanBatch, hashInto: HashInto): Buffer {
  const { starts, ends, count } = batch;
  // Views of a plain Uint8Array: Buffer#subarray builds a Buffer per call (measurably slower).
  const buffer = plainBytes(batch.buffer);
  const out = allocFlatLevel(count);
  for (let i = 0; i < count; i++) {
    const prefixAt = starts[i]! - 1;
    const saved = buffer[prefixAt]!;
    buffer[prefixAt] = LEAF_HASH_PREFIX;
    hashInto(buffer.subarray(prefixAt, ends[i]), out, FLAT_LEAD + i * HASH_SIZE);
    buffer[prefixAt] = saved;
  }
  return out;
}
