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

import { claimedHexAt, messageAt, messageLength, setMatched } from './scan';

// FIPS 180-4, 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes.
const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

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
  unchecked(H[0] = 0x6a09e667); unchecked(H[1] = 0xbb67ae85); unchecked(H[2] = 0x3c6ef372); unchecked(H[3] = 0xa54ff53a);
  unchecked(H[4] = 0x510e527f); unchecked(H[5] = 0x9b05688c); unchecked(H[6] = 0x1f83d9ab); unchecked(H[7] = 0x5be0cd19);
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

export { scan_region, scan_pack, scan_columns, scan_claimed, scan_lines, scan_consumed, scan_fast_rows, scan_last_terminated, name_count, name_arena, name_length } from './scan';
