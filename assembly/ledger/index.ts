/**
 * The ledger audit's WebAssembly module: the line scanner (scan.ts, JS side
 * src/audit/wasm-scanner.ts) and the wasm entry-hash kernel (`scan_check`,
 * JS side src/audit/kernels.ts): batch SHA-256 of the messages the scanner
 * packed (the canonical entries without entry_hash), each compared with the
 * hex digest its line claims, in one call per chunk of lines.
 *
 * SHA-256 as FIPS 180-4 section 6.2 reads: message schedule W[0..63], 64
 * rounds, padding with 0x80, zeros and the 64-bit bit length.
 */

import { H0, K } from '../common/sha256-constants';
import { claimedHexAt, messageAt, messageLength, setMatched } from './scan';


const BLOCK_BYTES: usize = 64;
const DIGEST_WORDS: i32 = 8;

const W = new StaticArray<u32>(64);
const H = new StaticArray<u32>(8);
/** The last one or two blocks, padded. */
const TAIL = new StaticArray<u8>(128);

// ---------------------------------------------------------------------------
// SHA-256
// ---------------------------------------------------------------------------

@inline function rotr(x: u32, n: u32): u32 {
  return (x >>> n) | (x << (32 - n));
}

function compress(block: usize): void {
  for (let t = 0; t < 16; t++) unchecked(W[t] = bswap<u32>(load<u32>(block + (<usize>t << 2))));
  for (let t = 16; t < 64; t++) {
    const w15 = unchecked(W[t - 15]);
    const w2 = unchecked(W[t - 2]);
    const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
    unchecked(W[t] = unchecked(W[t - 16]) + s0 + unchecked(W[t - 7]) + s1);
  }
  let a = unchecked(H[0]), b = unchecked(H[1]), c = unchecked(H[2]), d = unchecked(H[3]);
  let e = unchecked(H[4]), f = unchecked(H[5]), g = unchecked(H[6]), h = unchecked(H[7]);
  for (let t = 0; t < 64; t++) {
    const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = h + S1 + ch + unchecked(K[t]) + unchecked(W[t]);
    const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = S0 + maj;
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  unchecked(H[0] += a); unchecked(H[1] += b); unchecked(H[2] += c); unchecked(H[3] += d);
  unchecked(H[4] += e); unchecked(H[5] += f); unchecked(H[6] += g); unchecked(H[7] += h);
}

function sha256(message: usize, length: usize): void {
  // FIPS 180-4, 5.3.3: the initial hash value.
  memory.copy(changetype<usize>(H), changetype<usize>(H0), DIGEST_WORDS << 2);
  const whole = length & ~(BLOCK_BYTES - 1);
  for (let at: usize = 0; at < whole; at += BLOCK_BYTES) compress(message + at);
  // 5.1.1: the rest, 0x80, zeros, then the length in bits as a 64-bit big-endian number.
  const rest = length - whole;
  const tail = changetype<usize>(TAIL);
  memory.fill(tail, 0, 128);
  memory.copy(tail, message + whole, rest);
  store<u8>(tail + rest, 0x80);
  const tailBytes: usize = rest + 9 > BLOCK_BYTES ? 2 * BLOCK_BYTES : BLOCK_BYTES;
  store<u64>(tail + tailBytes - 8, bswap<u64>(<u64>length << 3));
  compress(tail);
  if (tailBytes > BLOCK_BYTES) compress(tail + BLOCK_BYTES);
}

@inline function hexValue(c: u32): u32 {
  return c <= 0x39 ? c - 0x30 : c - 0x61 + 10;
}

/** The digest in H equals the 64 lowercase hex digits at `hex`. */
function digestEqualsHex(hex: usize): bool {
  for (let i = 0; i < DIGEST_WORDS; i++) {
    let word: u32 = 0;
    for (let k: usize = 0; k < 8; k++) word = (word << 4) | hexValue(<u32>load<u8>(hex + (<usize>i << 3) + k));
    if (word != unchecked(H[i])) return false;
  }
  return true;
}

/**
 * The wasm kernel over the last scan of this instance (scan.ts): hashes each
 * fast line's message where the scanner packed it and compares the digest
 * with the hex the line claims, into the `matched` column. No copy in or out.
 */
export function scan_check(count: i32): void {
  for (let i = 0; i < count; i++) {
    sha256(messageAt(i), messageLength(i));
    setMatched(i, digestEqualsHex(claimedHexAt(i)));
  }
}

export { scan_region, scan_pack, scan_columns, scan_claimed, scan_lines, scan_consumed, scan_fast_rows, scan_last_terminated, scan_layout, name_count, name_arena, name_length } from './scan';
