/**
 * The `auto` backend (the default): for each primitive and batch size, the
 * backend that measured fastest on this machine kind (bench/RESULTS.md,
 * "Which backend auto picks"). Every backend gives the same verdict on every
 * input (docs/VERIFICATION.md), so the choice changes speed only.
 *
 * - SHA-256: native (node:crypto uses SHA-NI: ~1.7 GB/s per core on a quiet
 *   machine; 6.1x and 8.7x hash-wasm, the wasm backend's SHA-256, in two
 *   runs of bench/wasm-ed25519.mjs --sections sha256, 1 MiB messages).
 * - Ed25519, small batches: native (libsodium verifies one signature at a
 *   time, ~15k/s per core; a multi-scalar multiplication only pays off with
 *   enough terms).
 * - Ed25519, large batches: wasm (one multi-scalar multiplication for the whole
 *   batch, terms of a repeated key merged): from 256 signatures it beats
 *   libsodium per core even with all keys distinct, and from 64 when keys
 *   repeat (release sets and ledgers repeat a few signers thousands of times).
 */
import type { Backend, Ed25519VerifyItem } from '../types.js';

/**
 * From this many signatures the batch verifier wins whatever the keys:
 * bench/wasm-ed25519.mjs, one thread, quiet machine (bench/RESULTS.md):
 * 1.08x libsodium at 64 distinct keys (0.79-0.95x under load), 1.33x at 256,
 * 1.52x at 1,024. 256 keeps a margin for a loaded machine.
 */
export const AUTO_WASM_MIN_BATCH = 256;
/** From this many it wins when keys repeat (at most one distinct key per REPEAT_FACTOR signatures): 1.82x at 64 with 16 keys. */
export const AUTO_WASM_MIN_REPEATED_BATCH = 64;
const REPEAT_FACTOR = 4;

/** Which Ed25519 backend `auto` uses for this batch. */
export function ed25519BackendFor(items: readonly Ed25519VerifyItem[]): 'native' | 'wasm' {
  if (items.length >= AUTO_WASM_MIN_BATCH) return 'wasm';
  if (items.length < AUTO_WASM_MIN_REPEATED_BATCH) return 'native';
  const distinct = new Set<string>();
  const limit = items.length / REPEAT_FACTOR;
  for (const item of items) {
    // The pre-check refuses anything but 32-byte keys later; here only distinctness matters.
    distinct.add(Buffer.from(item.publicKey.buffer, item.publicKey.byteOffset, item.publicKey.byteLength).toString('latin1'));
    if (distinct.size > limit) return 'native';
  }
  return 'wasm';
}

export function createAutoBackend(get: (name: 'native' | 'wasm') => Backend): Backend {
  // SHA-256 always native: resolved once.
  const native = get('native');
  return {
    name: 'auto',
    sha256: (data) => native.sha256(data),
    sha256Many: (items) => native.sha256Many(items),
    createSha256: () => native.createSha256(),
    verifyEd25519Batch: (items) => get(ed25519BackendFor(items)).verifyEd25519Batch(items),
  };
}
