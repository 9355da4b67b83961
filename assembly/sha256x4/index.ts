/**
 * Four-lane SHA-256 in WebAssembly SIMD: hashes N messages of one length in
 * one call, four at a time, lane l of every v128 holding message l's word.
 * Per-call overhead is what a 65-byte Merkle node costs through node:crypto;
 * here a call hashes a whole level of a tree.
 *
 * SHA-256 as FIPS 180-4 section 6.2 reads (schedule W[0..63], 64 rounds,
 * padding 0x80, zeros, 64-bit big-endian bit length), with every 32-bit
 * operation applied to four lanes at once. WebAssembly SIMD has no rotate:
 * ROTR^n(x) = (x >>> n) | (x << (32 - n)).
 *
 * The JS side is src/transparency/sha256x4.ts.
 */

import { H0, K } from '../common/sha256-constants';

const LANES: i32 = 4;
const BLOCK_BYTES: i32 = 64;
const DIGEST_BYTES: i32 = 32;
const LENGTH_FIELD_BYTES: i32 = 8;
const V128_BYTES: i32 = 16;
/** No prefix byte before each message (hash_lanes's `prefix`). */
const NO_PREFIX: i32 = -1;

/** K[t] in all four lanes, and the schedule W[t] of the four lanes' current block. */
const KV: usize = memory.data(64 * V128_BYTES, V128_BYTES);
const WV: usize = memory.data(64 * V128_BYTES, V128_BYTES);
for (let t = 0; t < 64; t++) v128.store(KV + (<usize>t << 4), i32x4.splat(unchecked(K[t])));

// ---------------------------------------------------------------------------
// Memory for a call: one region from the (stub) allocator, reused; it grows
// by doubling, so what the stub never frees stays under twice the largest call
// ---------------------------------------------------------------------------

let region: usize = 0;
let regionSize: usize = 0;
/** The four lanes' padded messages (laneBytes each), in a buffer that only grows. */
let lanes: usize = 0;
let laneBytes: i32 = 0;
let laneCapacity: i32 = 0;

/** Start of a region of `size` bytes the caller fills; valid until the next call of `input`. */
export function input(size: usize): usize {
  if (size > regionSize) {
    regionSize = max(size, regionSize << 1);
    region = heap.alloc(regionSize);
  }
  return region;
}

// ---------------------------------------------------------------------------
// SHA-256, four lanes
// ---------------------------------------------------------------------------

@inline function rotr(x: v128, n: i32): v128 {
  return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n));
}

/** Big-endian words: the byte order within each 32-bit lane reversed. */
@inline function byteSwapWords(x: v128): v128 {
  return i8x16.shuffle(x, x, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
}

/**
 * W[0..15] of block `block` of each lane: four words of each lane are loaded,
 * then transposed so that vector w holds word w of lanes 0..3.
 */
function loadBlockWords(block: i32): void {
  const at = <usize>(block * BLOCK_BYTES);
  const stride = <usize>laneBytes;
  for (let w: usize = 0; w < 16; w += 4) {
    const r0 = byteSwapWords(v128.load(lanes + at + (w << 2)));
    const r1 = byteSwapWords(v128.load(lanes + stride + at + (w << 2)));
    const r2 = byteSwapWords(v128.load(lanes + 2 * stride + at + (w << 2)));
    const r3 = byteSwapWords(v128.load(lanes + 3 * stride + at + (w << 2)));
    const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
    const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
    const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
    v128.store(WV + (w << 4), i64x2.shuffle(t0, t2, 0, 2));
    v128.store(WV + ((w + 1) << 4), i64x2.shuffle(t0, t2, 1, 3));
    v128.store(WV + ((w + 2) << 4), i64x2.shuffle(t1, t3, 0, 2));
    v128.store(WV + ((w + 3) << 4), i64x2.shuffle(t1, t3, 1, 3));
  }
}

/** FIPS 180-4, 6.2.2 step 1: W[t] = sigma1(W[t-2]) + W[t-7] + sigma0(W[t-15]) + W[t-16]. */
function expandSchedule(): void {
  for (let t: usize = 16; t < 64; t++) {
    const w15 = v128.load(WV + ((t - 15) << 4));
    const w2 = v128.load(WV + ((t - 2) << 4));
    const s0 = v128.xor(v128.xor(rotr(w15, 7), rotr(w15, 18)), i32x4.shr_u(w15, 3));
    const s1 = v128.xor(v128.xor(rotr(w2, 17), rotr(w2, 19)), i32x4.shr_u(w2, 10));
    const sum = i32x4.add(i32x4.add(v128.load(WV + ((t - 16) << 4)), s0), i32x4.add(v128.load(WV + ((t - 7) << 4)), s1));
    v128.store(WV + (t << 4), sum);
  }
}

/** The working state, H[0..7] of the four lanes. */
let h0 = i32x4.splat(0), h1 = i32x4.splat(0), h2 = i32x4.splat(0), h3 = i32x4.splat(0);
let h4 = i32x4.splat(0), h5 = i32x4.splat(0), h6 = i32x4.splat(0), h7 = i32x4.splat(0);

@inline function bigSigma0(x: v128): v128 {
  return v128.xor(v128.xor(rotr(x, 2), rotr(x, 13)), rotr(x, 22));
}

@inline function bigSigma1(x: v128): v128 {
  return v128.xor(v128.xor(rotr(x, 6), rotr(x, 11)), rotr(x, 25));
}

/** Ch(x, y, z) = (x AND y) XOR (NOT x AND z). */
@inline function choose(x: v128, y: v128, z: v128): v128 {
  return v128.xor(v128.and(x, y), v128.andnot(z, x));
}

/** Maj(x, y, z) = (x AND y) XOR (x AND z) XOR (y AND z), written with one AND fewer. */
@inline function majority(x: v128, y: v128, z: v128): v128 {
  return v128.or(v128.and(x, y), v128.and(z, v128.or(x, y)));
}

/** FIPS 180-4, 6.2.2 steps 2-4: the 64 rounds over W, added into H. */
function compress(): void {
  let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
  for (let t: usize = 0; t < 64; t++) {
    const t1 = i32x4.add(i32x4.add(h, bigSigma1(e)), i32x4.add(choose(e, f, g), i32x4.add(v128.load(KV + (t << 4)), v128.load(WV + (t << 4)))));
    const t2 = i32x4.add(bigSigma0(a), majority(a, b, c));
    h = g; g = f; f = e; e = i32x4.add(d, t1);
    d = c; c = b; b = a; a = i32x4.add(t1, t2);
  }
  h0 = i32x4.add(h0, a); h1 = i32x4.add(h1, b); h2 = i32x4.add(h2, c); h3 = i32x4.add(h3, d);
  h4 = i32x4.add(h4, e); h5 = i32x4.add(h5, f); h6 = i32x4.add(h6, g); h7 = i32x4.add(h7, h);
}

/** Digests of lanes 0..lanesUsed-1 to out, out + 32, ...: H transposed back to lanes, big-endian. */
function storeDigests(out: usize, lanesUsed: i32): void {
  // Rows of four words: words 0-3 (h0..h3) and 4-7 (h4..h7), each transposed from word-major to lane-major.
  for (let half = 0; half < 2; half++) {
    const r0 = half === 0 ? h0 : h4, r1 = half === 0 ? h1 : h5, r2 = half === 0 ? h2 : h6, r3 = half === 0 ? h3 : h7;
    const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
    const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
    const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
    const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
    const at = out + <usize>(half * V128_BYTES);
    v128.store(at, byteSwapWords(i64x2.shuffle(t0, t2, 0, 2)));
    if (lanesUsed > 1) v128.store(at + DIGEST_BYTES, byteSwapWords(i64x2.shuffle(t0, t2, 1, 3)));
    if (lanesUsed > 2) v128.store(at + 2 * DIGEST_BYTES, byteSwapWords(i64x2.shuffle(t1, t3, 0, 2)));
    if (lanesUsed > 3) v128.store(at + 3 * DIGEST_BYTES, byteSwapWords(i64x2.shuffle(t1, t3, 1, 3)));
  }
}

/**
 * Lays out the four lanes' padded messages for messages of `length` bytes
 * after an optional prefix byte: the prefix, 0x80, the zeros and the bit
 * length are the same for every message of the call, so they are written
 * once here and only the message bytes are copied per group.
 */
function prepareLanes(prefixed: i32, prefix: i32, length: i32): i32 {
  const total = prefixed + length;
  const blocks = (total + 1 + LENGTH_FIELD_BYTES + BLOCK_BYTES - 1) / BLOCK_BYTES;
  const bytes = blocks * BLOCK_BYTES;
  if (bytes > laneCapacity) {
    laneCapacity = max(bytes, laneCapacity << 1);
    lanes = heap.alloc(<usize>(LANES * laneCapacity));
  }
  laneBytes = bytes;
  for (let l = 0; l < LANES; l++) {
    const lane = lanes + <usize>(l * bytes);
    memory.fill(lane, 0, <usize>bytes);
    if (prefixed) store<u8>(lane, <u8>prefix);
    store<u8>(lane + <usize>total, 0x80);
    store<u64>(lane + <usize>(bytes - LENGTH_FIELD_BYTES), bswap<u64>(<u64>total << 3));
  }
  return blocks;
}

/**
 * SHA-256(prefix || message_i) for i < count, message i being the `length`
 * bytes at src + i * stride, to out + 32 i. `prefix` is a byte, or -1 for
 * none (RFC 6962's 0x00 / 0x01 domain bytes go there). Digest i is written
 * after messages 0..4(i/4)+3 are read, so out may overlap src when
 * out + 32 i <= src + stride * 4 floor(i/4) (a tree level hashed in place: out = src, stride 64).
 */
export function hash_lanes(prefix: i32, src: usize, stride: i32, length: i32, count: i32, out: usize): void {
  const prefixed: i32 = prefix === NO_PREFIX ? 0 : 1;
  const blocks = prepareLanes(prefixed, prefix, length);
  for (let first = 0; first < count; first += LANES) {
    const used = min(LANES, count - first);
    for (let l = 0; l < used; l++) {
      memory.copy(lanes + <usize>(l * laneBytes + prefixed), src + <usize>(first + l) * <usize>stride, <usize>length);
    }
    h0 = i32x4.splat(unchecked(H0[0])); h1 = i32x4.splat(unchecked(H0[1])); h2 = i32x4.splat(unchecked(H0[2])); h3 = i32x4.splat(unchecked(H0[3]));
    h4 = i32x4.splat(unchecked(H0[4])); h5 = i32x4.splat(unchecked(H0[5])); h6 = i32x4.splat(unchecked(H0[6])); h7 = i32x4.splat(unchecked(H0[7]));
    for (let block = 0; block < blocks; block++) {
      loadBlockWords(block);
      expandSchedule();
      compress();
    }
    storeDigests(out + <usize>first * DIGEST_BYTES, used);
  }
}
