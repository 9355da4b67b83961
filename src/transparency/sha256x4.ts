/**
 * Many SHA-256 hashes of one length in one call: the four-lane WebAssembly
 * SIMD kernel of assembly/sha256x4 (built to dist/wasm/sha256x4.wasm).
 *
 * What a Merkle node costs through node:crypto is the call (~0.33 us of CPU
 * for a 65-byte input, two blocks); the kernel hashes a whole level of a
 * tree per call, four nodes side by side, at ~0.17 us per node (both printed
 * by bench/merkle.mjs). It costs ~85 ns per 64-byte block and message, so
 * longer messages are cheaper through OpenSSL's SHA extensions: a 300-byte
 * ledger line (5 blocks) is ~0.43 us here, ~0.37 us through node:crypto.
 */

import { BluxError } from '../errors.js';
import { readBuiltFile } from '../io/package-files.js';

export const SHA256_DIGEST_BYTES = 32;
/** hash_lanes's `prefix` when there is no prefix byte. */
const NO_PREFIX = -1;
/** One call's messages and digests, with room under WebAssembly's 4 GiB for the module's own data. */
const MAX_CALL_BYTES = 2 ** 31;

/** The WebAssembly JS API we use (lib ES2022, no DOM types; @types/node 20 declares none). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: object };
};

/** The exports of assembly/sha256x4/index.ts. */
interface Sha256x4Exports {
  memory: { readonly buffer: ArrayBuffer };
  input(size: number): number;
  hash_lanes(prefix: number, src: number, stride: number, length: number, count: number, out: number): void;
}

let kernel: Sha256x4Exports | undefined;

function sha256x4Wasm(): Sha256x4Exports {
  if (kernel === undefined) {
    const bytes = readBuiltFile('dist/wasm/sha256x4.wasm', 'the SHA-256 kernel');
    kernel = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: {} }).exports as unknown as Sha256x4Exports;
  }
  return kernel;
}

export interface Sha256x4Options {
  /** A byte hashed before every message (RFC 6962's 0x00 / 0x01 domain bytes). */
  prefix?: number;
  /** Where the digests go (a new array unless given), from byte `outOffset`. */
  out?: Uint8Array;
  outOffset?: number;
}

/**
 * SHA-256([prefix] || message i) for the `count` messages of `length` bytes
 * packed in `messages` (message i at byte i * length): digest i at byte
 * 32 i of the result.
 */
export function sha256x4(messages: Uint8Array, length: number, count: number, opts: Sha256x4Options = {}): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw new BluxError('invalid-argument', `sha256x4: the length and count must be whole numbers >= 0, got ${length} and ${count}`);
  }
  // The module's memory is addressed with 32-bit offsets: a call's input and digests must fit well below 4 GiB.
  if (length * count + count * SHA256_DIGEST_BYTES > MAX_CALL_BYTES) {
    throw new BluxError('invalid-argument', `sha256x4: ${count} messages of ${length} bytes are too many for one call (at most ${MAX_CALL_BYTES} bytes with their digests)`);
  }
  if (length * count > messages.length) {
    throw new BluxError('invalid-argument', `sha256x4: ${count} messages of ${length} bytes do not fit in ${messages.length} bytes`);
  }
  // NO_PREFIX is the wasm call's encoding of "no prefix", not a value callers may pass.
  if (opts.prefix !== undefined && !(Number.isInteger(opts.prefix) && opts.prefix >= 0 && opts.prefix <= 0xff)) {
    throw new BluxError('invalid-argument', `sha256x4: the prefix must be a byte, got ${opts.prefix}`);
  }
  const prefix = opts.prefix ?? NO_PREFIX;
  const digestBytes = count * SHA256_DIGEST_BYTES;
  const out = opts.out ?? new Uint8Array(digestBytes);
  const outOffset = opts.outOffset ?? 0;
  if (!Number.isSafeInteger(outOffset) || outOffset < 0) throw new BluxError('invalid-argument', `sha256x4: outOffset must be a whole number >= 0, got ${outOffset}`);
  if (outOffset + digestBytes > out.length) throw new BluxError('invalid-argument', `sha256x4: ${count} digests do not fit in the output from byte ${outOffset}`);
  if (count === 0) return out;
  const wasm = sha256x4Wasm();
  const messageBytes = length * count;
  const base = wasm.input(messageBytes + digestBytes);
  // input() may grow the memory, which detaches older views: take the view after it.
  const memory = new Uint8Array(wasm.memory.buffer);
  memory.set(messages.subarray(0, messageBytes), base);
  const digestsAt = base + messageBytes;
  wasm.hash_lanes(prefix, base, length, length, count, digestsAt);
  out.set(memory.subarray(digestsAt, digestsAt + digestBytes), outOffset);
  return out;
}
