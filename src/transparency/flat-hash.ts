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
 * with one call: no view object, no native write per hash. Interior nodes,
 * all 65 bytes long, go a level at a time through the four-lane SIMD kernel
 * (sha256x4.ts), which costs about half of a node:crypto call per node.
 */
import { hash } from 'node:crypto';

import { getBackend } from '../engine/index.js';
import type { BackendName } from '../engine/types.js';
import type { SpanBatch } from './leaf-reader.js';
import { allocFlatLevel, FLAT_LEAD, HASH_SIZE, LEAF_HASH_PREFIX, NODE_HASH_PREFIX, NODE_INPUT_BYTES, plainBytes, writeDigests, type NodePairHasher, type Sha256Latin1 } from './merkle.js';
import { sha256x4 } from './sha256x4.js';

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
 * Leaf hashes SHA-256(0x00 || line) of a batch, written into `out` from
 * byte `at` (32 bytes each). The 0x00 goes into the byte before each line
 * (the previous "\n", or the reader's spare byte) for the one call and is
 * put back: no line is copied.
 */
export function writeLeafHashes(batch: SpanBatch, sha256: Sha256Latin1, out: Buffer, at: number): void {
  const { starts, ends, count } = batch;
  const buffer = plainBytes(batch.buffer);
  const { buffer: memory, byteOffset } = buffer;
  const digests: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const prefixAt = starts[i]! - 1;
    const saved = buffer[prefixAt]!;
    buffer[prefixAt] = LEAF_HASH_PREFIX;
    // A view made by the constructor: ~17 ns, where subarray() takes ~33 (and Buffer#subarray more).
    digests[i] = sha256(new Uint8Array(memory, byteOffset + prefixAt, ends[i]! - prefixAt));
    buffer[prefixAt] = saved;
  }
  writeDigests(out, digests, at);
}

/** The leaf hashes of a batch as a new flat level. */
export function hashLeafSpans(batch: SpanBatch, sha256: Sha256Latin1): Buffer {
  const out = allocFlatLevel(batch.count);
  writeLeafHashes(batch, sha256, out, FLAT_LEAD);
  return out;
}

/** The pairs of a flat level through the SIMD kernel: the pairs are 64-byte messages after the 0x01 byte. */
const kernelNodePairs: NodePairHasher = (level, first, pairCount) => {
  const parents = allocFlatLevel(pairCount);
  const pairsAt = FLAT_LEAD + first * HASH_SIZE;
  sha256x4(level.subarray(pairsAt, pairsAt + pairCount * 2 * HASH_SIZE), 2 * HASH_SIZE, pairCount, { prefix: NODE_HASH_PREFIX, out: parents, outOffset: FLAT_LEAD });
  return parents;
};

/**
 * The pairs of a flat level one call each: the byte before each left child
 * (the last byte of the hash before it, or the spare byte) holds 0x01 for
 * the call, so 0x01 || left || right is hashed in place, and is put back.
 */
function perPairNodeHasher(sha256: Sha256Latin1): NodePairHasher {
  return (level, first, pairCount) => {
    const run = plainBytes(level);
    const digests: string[] = new Array(pairCount);
    for (let p = 0; p < pairCount; p++) {
      const prefixAt = FLAT_LEAD + (first + 2 * p) * HASH_SIZE - 1;
      const saved = run[prefixAt]!;
      run[prefixAt] = NODE_HASH_PREFIX;
      digests[p] = sha256(run.subarray(prefixAt, prefixAt + NODE_INPUT_BYTES));
      run[prefixAt] = saved;
    }
    const parents = allocFlatLevel(pairCount);
    writeDigests(parents, digests, FLAT_LEAD);
    return parents;
  };
}

/**
 * How the backend hashes a level's node pairs: the native and auto backends
 * (node:crypto for everything else) and the wasm backend use the SIMD
 * kernel; the js backend stays pure JavaScript, one call per pair.
 */
export function nodePairHasherFor(backendName: BackendName): NodePairHasher {
  if (backendName === 'js') return perPairNodeHasher(sha256Latin1For(backendName));
  return kernelNodePairs;
}
