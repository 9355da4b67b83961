/**
 * Arithmetic in GF(p), p = 2^255 - 19 (RFC 8032 section 5.1).
 *
 * Representation: 10 signed limbs in radix 2^25.5, limb i weighing
 * 2^ceil(25.5 i) (offsets 0, 26, 51, 77, 102, 128, 153, 179, 204, 230), so even
 * limbs hold 26 bits and odd limbs 25. Each limb is kept in an i64 in linear
 * memory: a field element is 10 x 8 = 80 bytes at a pointer.
 *
 * Why this radix: WebAssembly has 64 x 64 -> 64 bit multiplies only.
 * - radix 2^51 (5 limbs, what 64-bit C code uses) needs 128-bit products; each
 *   would cost four 32 x 32 multiplies plus carries in WebAssembly;
 * - radix 2^16 (16 limbs, TweetNaCl) needs 256 products per multiplication;
 * - radix 2^25.5 needs 100 products, each fits an i64 with room for the sums.
 * Only the 2^25.5 variant is implemented; the other two were ruled out by
 * counting multiplies, not by measuring them. Measured with it (whole
 * verification, bench/wasm-ed25519.mjs, one thread): batches of 16,384 with
 * distinct keys ~22k signatures/s against ~17k/s for libsodium's single
 * verification on the same machine.
 *
 * Limbs are signed and "carried" means centred: |even limb| <= 2^25,
 * |odd limb| <= 2^24 (plus a little after the final wrap-around carry). fe_mul
 * and fe_sq accept inputs that are a signed sum of up to 4 carried elements
 * (even limbs < 2^27, odd < 2^26): the largest product term is then
 * 2^27 * 2^26.6 * 19 < 2^58, and a sum of 10 of them stays below 2^62, inside
 * an i64. add, sub and neg do not carry; callers keep to that budget (the
 * point formulas in point.ts never feed more than 4 terms into a multiply).
 */

export const FE_BYTES: usize = 80;

// Limb masks and the carry rounding constants.
const MASK26: i64 = (1 << 26) - 1;
const MASK25: i64 = (1 << 25) - 1;
const HALF26: i64 = 1 << 25;
const HALF25: i64 = 1 << 24;

/** d = -121665 / 121666, the curve constant (RFC 8032 section 5.1). */
export const FE_D: usize = memory.data<i64>([56195235, 13857412, 51736253, 6949390, 114729, 24766616, 60832955, 30306712, 48412415, 21499315]);
/** 2d, used by the addition formulas. */
export const FE_D2: usize = memory.data<i64>([45281625, 27714825, 36363642, 13898781, 229458, 15978800, 54557047, 27058993, 29715967, 9444199]);
/** sqrt(-1) = 2^((p-1)/4), used when decoding a point. */
export const FE_SQRT_M1: usize = memory.data<i64>([34513072, 25610706, 9377949, 3500415, 12389472, 33281959, 41962654, 31548777, 326685, 11406482]);
/** The base point B: y = 4/5, x the even root (RFC 8032 section 5.1). */
export const FE_BASE_X: usize = memory.data<i64>([52811034, 25909283, 16144682, 17082669, 27570973, 30858332, 40966398, 8378388, 20764389, 8758491]);
export const FE_BASE_Y: usize = memory.data<i64>([40265304, 26843545, 13421772, 20132659, 26843545, 6710886, 53687091, 13421772, 40265318, 26843545]);

// Scratch space of the chains below (inversion, square root): 4 elements.
const CHAIN_T0: usize = memory.data(80, 16);
const CHAIN_T1: usize = memory.data(80, 16);
const CHAIN_T2: usize = memory.data(80, 16);
const CHAIN_T3: usize = memory.data(80, 16);
const BYTES_SCRATCH: usize = memory.data(32, 16);

export function fe_zero(h: usize): void {
  memory.fill(h, 0, FE_BYTES);
}

export function fe_one(h: usize): void {
  memory.fill(h, 0, FE_BYTES);
  store<i64>(h, 1);
}

export function fe_copy(h: usize, f: usize): void {
  memory.copy(h, f, FE_BYTES);
}

/** h = f + g, limb by limb, no carry. */
export function fe_add(h: usize, f: usize, g: usize): void {
  store<i64>(h, load<i64>(f, 0) + load<i64>(g, 0), 0);
  store<i64>(h, load<i64>(f, 8) + load<i64>(g, 8), 8);
  store<i64>(h, load<i64>(f, 16) + load<i64>(g, 16), 16);
  store<i64>(h, load<i64>(f, 24) + load<i64>(g, 24), 24);
  store<i64>(h, load<i64>(f, 32) + load<i64>(g, 32), 32);
  store<i64>(h, load<i64>(f, 40) + load<i64>(g, 40), 40);
  store<i64>(h, load<i64>(f, 48) + load<i64>(g, 48), 48);
  store<i64>(h, load<i64>(f, 56) + load<i64>(g, 56), 56);
  store<i64>(h, load<i64>(f, 64) + load<i64>(g, 64), 64);
  store<i64>(h, load<i64>(f, 72) + load<i64>(g, 72), 72);
}

/** h = f - g, limb by limb, no carry (limbs are signed). */
export function fe_sub(h: usize, f: usize, g: usize): void {
  store<i64>(h, load<i64>(f, 0) - load<i64>(g, 0), 0);
  store<i64>(h, load<i64>(f, 8) - load<i64>(g, 8), 8);
  store<i64>(h, load<i64>(f, 16) - load<i64>(g, 16), 16);
  store<i64>(h, load<i64>(f, 24) - load<i64>(g, 24), 24);
  store<i64>(h, load<i64>(f, 32) - load<i64>(g, 32), 32);
  store<i64>(h, load<i64>(f, 40) - load<i64>(g, 40), 40);
  store<i64>(h, load<i64>(f, 48) - load<i64>(g, 48), 48);
  store<i64>(h, load<i64>(f, 56) - load<i64>(g, 56), 56);
  store<i64>(h, load<i64>(f, 64) - load<i64>(g, 64), 64);
  store<i64>(h, load<i64>(f, 72) - load<i64>(g, 72), 72);
}

/** h = -f. */
export function fe_neg(h: usize, f: usize): void {
  for (let i: usize = 0; i < FE_BYTES; i += 8) store<i64>(h + i, -load<i64>(f + i));
}

/**
 * Stores h0..h9 after a centred carry chain. The order (0 4 1 5 2 6 3 7 4 8 9 0)
 * runs two independent chains side by side, which the CPU can overlap; the
 * carry out of limb 9 wraps to limb 0 times 19, because 2^255 = 19 (mod p).
 */
// @ts-ignore: decorator
@inline function carryAndStore(h: usize, h0: i64, h1: i64, h2: i64, h3: i64, h4: i64, h5: i64, h6: i64, h7: i64, h8: i64, h9: i64): void {
  let c: i64;
  c = (h0 + HALF26) >> 26; h1 += c; h0 -= c << 26;
  c = (h4 + HALF26) >> 26; h5 += c; h4 -= c << 26;
  c = (h1 + HALF25) >> 25; h2 += c; h1 -= c << 25;
  c = (h5 + HALF25) >> 25; h6 += c; h5 -= c << 25;
  c = (h2 + HALF26) >> 26; h3 += c; h2 -= c << 26;
  c = (h6 + HALF26) >> 26; h7 += c; h6 -= c << 26;
  c = (h3 + HALF25) >> 25; h4 += c; h3 -= c << 25;
  c = (h7 + HALF25) >> 25; h8 += c; h7 -= c << 25;
  c = (h4 + HALF26) >> 26; h5 += c; h4 -= c << 26;
  c = (h8 + HALF26) >> 26; h9 += c; h8 -= c << 26;
  c = (h9 + HALF25) >> 25; h0 += c * 19; h9 -= c << 25;
  c = (h0 + HALF26) >> 26; h1 += c; h0 -= c << 26;
  store<i64>(h, h0, 0);
  store<i64>(h, h1, 8);
  store<i64>(h, h2, 16);
  store<i64>(h, h3, 24);
  store<i64>(h, h4, 32);
  store<i64>(h, h5, 40);
  store<i64>(h, h6, 48);
  store<i64>(h, h7, 56);
  store<i64>(h, h8, 64);
  store<i64>(h, h9, 72);
}

/** Brings f back to carried limbs (after a few adds, before encoding). */
export function fe_carry(h: usize, f: usize): void {
  carryAndStore(h,
    load<i64>(f, 0), load<i64>(f, 8), load<i64>(f, 16), load<i64>(f, 24), load<i64>(f, 32),
    load<i64>(f, 40), load<i64>(f, 48), load<i64>(f, 56), load<i64>(f, 64), load<i64>(f, 72));
}

/**
 * h = f * g. Schoolbook over the limbs: the product of limbs i and j lands in
 * limb (i + j) mod 10, times 2 when i and j are both odd (their weights then
 * sum to one bit more than the target limb's: ceil(25.5 i) + ceil(25.5 j) =
 * ceil(25.5 (i + j)) + 1), and times 19 when i + j >= 10 (wrap-around past
 * 2^255). Products are written out in full; no loop, so every limb stays in a
 * local.
 */
export function fe_mul(h: usize, f: usize, g: usize): void {
  const f0 = load<i64>(f, 0), f1 = load<i64>(f, 8), f2 = load<i64>(f, 16), f3 = load<i64>(f, 24), f4 = load<i64>(f, 32);
  const f5 = load<i64>(f, 40), f6 = load<i64>(f, 48), f7 = load<i64>(f, 56), f8 = load<i64>(f, 64), f9 = load<i64>(f, 72);
  const g0 = load<i64>(g, 0), g1 = load<i64>(g, 8), g2 = load<i64>(g, 16), g3 = load<i64>(g, 24), g4 = load<i64>(g, 32);
  const g5 = load<i64>(g, 40), g6 = load<i64>(g, 48), g7 = load<i64>(g, 56), g8 = load<i64>(g, 64), g9 = load<i64>(g, 72);
  const g1_19 = g1 * 19, g2_19 = g2 * 19, g3_19 = g3 * 19, g4_19 = g4 * 19, g5_19 = g5 * 19;
  const g6_19 = g6 * 19, g7_19 = g7 * 19, g8_19 = g8 * 19, g9_19 = g9 * 19;
  const f1_2 = f1 * 2, f3_2 = f3 * 2, f5_2 = f5 * 2, f7_2 = f7 * 2, f9_2 = f9 * 2;
  const h0 = f0 * g0 + f1_2 * g9_19 + f2 * g8_19 + f3_2 * g7_19 + f4 * g6_19 + f5_2 * g5_19 + f6 * g4_19 + f7_2 * g3_19 + f8 * g2_19 + f9_2 * g1_19;
  const h1 = f0 * g1 + f1 * g0 + f2 * g9_19 + f3 * g8_19 + f4 * g7_19 + f5 * g6_19 + f6 * g5_19 + f7 * g4_19 + f8 * g3_19 + f9 * g2_19;
  const h2 = f0 * g2 + f1_2 * g1 + f2 * g0 + f3_2 * g9_19 + f4 * g8_19 + f5_2 * g7_19 + f6 * g6_19 + f7_2 * g5_19 + f8 * g4_19 + f9_2 * g3_19;
  const h3 = f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + f4 * g9_19 + f5 * g8_19 + f6 * g7_19 + f7 * g6_19 + f8 * g5_19 + f9 * g4_19;
  const h4 = f0 * g4 + f1_2 * g3 + f2 * g2 + f3_2 * g1 + f4 * g0 + f5_2 * g9_19 + f6 * g8_19 + f7_2 * g7_19 + f8 * g6_19 + f9_2 * g5_19;
  const h5 = f0 * g5 + f1 * g4 + f2 * g3 + f3 * g2 + f4 * g1 + f5 * g0 + f6 * g9_19 + f7 * g8_19 + f8 * g7_19 + f9 * g6_19;
  const h6 = f0 * g6 + f1_2 * g5 + f2 * g4 + f3_2 * g3 + f4 * g2 + f5_2 * g1 + f6 * g0 + f7_2 * g9_19 + f8 * g8_19 + f9_2 * g7_19;
  const h7 = f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3 + f5 * g2 + f6 * g1 + f7 * g0 + f8 * g9_19 + f9 * g8_19;
  const h8 = f0 * g8 + f1_2 * g7 + f2 * g6 + f3_2 * g5 + f4 * g4 + f5_2 * g3 + f6 * g2 + f7_2 * g1 + f8 * g0 + f9_2 * g9_19;
  const h9 = f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5 + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0;
  carryAndStore(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

/**
 * h = f^2: the products of fe_mul with f = g, each cross pair i < j taken once
 * and doubled, so 55 multiplies instead of 100 (the factor is 2 for a cross
 * pair, times 2 for two odd limbs, times 19 for a wrap-around).
 */
export function fe_sq(h: usize, f: usize): void {
  const f0 = load<i64>(f, 0), f1 = load<i64>(f, 8), f2 = load<i64>(f, 16), f3 = load<i64>(f, 24), f4 = load<i64>(f, 32);
  const f5 = load<i64>(f, 40), f6 = load<i64>(f, 48), f7 = load<i64>(f, 56), f8 = load<i64>(f, 64), f9 = load<i64>(f, 72);
  const f1_2 = f1 * 2, f2_2 = f2 * 2, f3_2 = f3 * 2, f4_2 = f4 * 2, f5_2 = f5 * 2;
  const f6_2 = f6 * 2, f7_2 = f7 * 2, f8_2 = f8 * 2, f9_2 = f9 * 2;
  const f3_4 = f3 * 4, f5_4 = f5 * 4, f7_4 = f7 * 4;
  const f6_19 = f6 * 19, f8_19 = f8 * 19;
  const f5_38 = f5 * 38, f6_38 = f6 * 38, f7_38 = f7 * 38, f8_38 = f8 * 38, f9_38 = f9 * 38;
  const f7_76 = f7 * 76, f9_76 = f9 * 76;
  const h0 = f0 * f0 + f1 * f9_76 + f2 * f8_38 + f3 * f7_76 + f4 * f6_38 + f5 * f5_38;
  const h1 = f0 * f1_2 + f2 * f9_38 + f3 * f8_38 + f4 * f7_38 + f5 * f6_38;
  const h2 = f0 * f2_2 + f1 * f1_2 + f3 * f9_76 + f4 * f8_38 + f5 * f7_76 + f6 * f6_19;
  const h3 = f0 * f3_2 + f1 * f2_2 + f4 * f9_38 + f5 * f8_38 + f6 * f7_38;
  const h4 = f0 * f4_2 + f1 * f3_4 + f2 * f2 + f5 * f9_76 + f6 * f8_38 + f7 * f7_38;
  const h5 = f0 * f5_2 + f1 * f4_2 + f2 * f3_2 + f6 * f9_38 + f7 * f8_38;
  const h6 = f0 * f6_2 + f1 * f5_4 + f2 * f4_2 + f3 * f3_2 + f7 * f9_76 + f8 * f8_19;
  const h7 = f0 * f7_2 + f1 * f6_2 + f2 * f5_2 + f3 * f4_2 + f8 * f9_38;
  const h8 = f0 * f8_2 + f1 * f7_4 + f2 * f6_2 + f3 * f5_4 + f4 * f4 + f9 * f9_38;
  const h9 = f0 * f9_2 + f1 * f8_2 + f2 * f7_2 + f3 * f6_2 + f4 * f5_2;
  carryAndStore(h, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

/** h = f^(2^n), n >= 1. */
export function fe_sqn(h: usize, f: usize, n: i32): void {
  fe_sq(h, f);
  for (let i = 1; i < n; i++) fe_sq(h, h);
}

/**
 * Loads a 32-byte little-endian encoding, ignoring bit 255 (the sign of x in
 * a point encoding). Values in [p, 2^255) load fine and act as value - p;
 * whether such an encoding is acceptable is the caller's question.
 */
export function fe_frombytes(h: usize, s: usize): void {
  const w0 = load<u64>(s, 0), w1 = load<u64>(s, 8), w2 = load<u64>(s, 16), w3 = load<u64>(s, 24);
  store<i64>(h, <i64>(w0 & <u64>MASK26), 0);
  store<i64>(h, <i64>((w0 >> 26) & <u64>MASK25), 8);
  store<i64>(h, <i64>(((w0 >> 51) | (w1 << 13)) & <u64>MASK26), 16);
  store<i64>(h, <i64>((w1 >> 13) & <u64>MASK25), 24);
  store<i64>(h, <i64>((w1 >> 38) & <u64>MASK26), 32);
  store<i64>(h, <i64>(w2 & <u64>MASK25), 40);
  store<i64>(h, <i64>((w2 >> 25) & <u64>MASK26), 48);
  store<i64>(h, <i64>(((w2 >> 51) | (w3 << 13)) & <u64>MASK25), 56);
  store<i64>(h, <i64>((w3 >> 12) & <u64>MASK26), 64);
  store<i64>(h, <i64>((w3 >> 38) & <u64>MASK25), 72);
}

/**
 * Writes the canonical encoding of f: the unique value in [0, p), 32 bytes
 * little-endian. After a carry the value h lies in (-p, 2p); its quotient
 * q = floor(h / p) is read off the top limb with the carries of h + 19 q
 * propagated (q is -1, 0 or 1), then h - q p = h + 19 q - q 2^255 is formed
 * with floor carries, the multiple of 2^255 falling off the top limb.
 */
export function fe_tobytes(s: usize, f: usize): void {
  fe_carry(BYTES_SCRATCH, f);
  const t = BYTES_SCRATCH;
  let h0 = load<i64>(t, 0), h1 = load<i64>(t, 8), h2 = load<i64>(t, 16), h3 = load<i64>(t, 24), h4 = load<i64>(t, 32);
  let h5 = load<i64>(t, 40), h6 = load<i64>(t, 48), h7 = load<i64>(t, 56), h8 = load<i64>(t, 64), h9 = load<i64>(t, 72);
  let q: i64 = (19 * h9 + HALF25) >> 25;
  q = (h0 + q) >> 26; q = (h1 + q) >> 25; q = (h2 + q) >> 26; q = (h3 + q) >> 25; q = (h4 + q) >> 26;
  q = (h5 + q) >> 25; q = (h6 + q) >> 26; q = (h7 + q) >> 25; q = (h8 + q) >> 26; q = (h9 + q) >> 25;
  h0 += 19 * q;
  let c: i64;
  c = h0 >> 26; h1 += c; h0 -= c << 26;
  c = h1 >> 25; h2 += c; h1 -= c << 25;
  c = h2 >> 26; h3 += c; h2 -= c << 26;
  c = h3 >> 25; h4 += c; h3 -= c << 25;
  c = h4 >> 26; h5 += c; h4 -= c << 26;
  c = h5 >> 25; h6 += c; h5 -= c << 25;
  c = h6 >> 26; h7 += c; h6 -= c << 26;
  c = h7 >> 25; h8 += c; h7 -= c << 25;
  c = h8 >> 26; h9 += c; h8 -= c << 26;
  h9 &= MASK25; // drops the q * 2^255 (and nothing else: h - q p < 2^255)
  // Pack the limbs at their bit offsets into four 64-bit words.
  const w0 = <u64>h0 | (<u64>h1 << 26) | (<u64>h2 << 51);
  const w1 = (<u64>h2 >> 13) | (<u64>h3 << 13) | (<u64>h4 << 38);
  const w2 = <u64>h5 | (<u64>h6 << 25) | (<u64>h7 << 51);
  const w3 = (<u64>h7 >> 13) | (<u64>h8 << 12) | (<u64>h9 << 38);
  store<u64>(s, w0, 0);
  store<u64>(s, w1, 8);
  store<u64>(s, w2, 16);
  store<u64>(s, w3, 24);
}

const ENCODING_SCRATCH: usize = memory.data(32, 16);

/** True when f = 0 (mod p). */
export function fe_iszero(f: usize): bool {
  fe_tobytes(ENCODING_SCRATCH, f);
  const s = ENCODING_SCRATCH;
  return (load<u64>(s, 0) | load<u64>(s, 8) | load<u64>(s, 16) | load<u64>(s, 24)) == 0;
}

/** The low bit of f's canonical value: the "sign" of x in RFC 8032's encoding. */
export function fe_isodd(f: usize): bool {
  fe_tobytes(ENCODING_SCRATCH, f);
  return (load<u8>(ENCODING_SCRATCH) & 1) != 0;
}

/**
 * The shared part of inversion and square root: returns z^(2^250 - 1) in
 * CHAIN_T1 and z^11 in CHAIN_T0. Each step doubles the run of ones in the
 * exponent: z^(2^k - 1) squared k times, times itself, is z^(2^2k - 1).
 */
function pow2_250_1(z: usize): void {
  const t0 = CHAIN_T0, t1 = CHAIN_T1, t2 = CHAIN_T2, t3 = CHAIN_T3;
  fe_sq(t0, z); //                          z^2
  fe_sqn(t1, t0, 2); //                     z^8
  fe_mul(t1, z, t1); //                     z^9
  fe_mul(t0, t0, t1); //                    z^11
  fe_sq(t2, t0); //                         z^22
  fe_mul(t1, t1, t2); //                    z^31 = z^(2^5 - 1)
  fe_sqn(t2, t1, 5); fe_mul(t1, t2, t1); // z^(2^10 - 1)
  fe_sqn(t2, t1, 10); fe_mul(t2, t2, t1); // z^(2^20 - 1)
  fe_sqn(t3, t2, 20); fe_mul(t2, t3, t2); // z^(2^40 - 1)
  fe_sqn(t2, t2, 10); fe_mul(t1, t2, t1); // z^(2^50 - 1)
  fe_sqn(t2, t1, 50); fe_mul(t2, t2, t1); // z^(2^100 - 1)
  fe_sqn(t3, t2, 100); fe_mul(t2, t3, t2); // z^(2^200 - 1)
  fe_sqn(t2, t2, 50); fe_mul(t1, t2, t1); // z^(2^250 - 1)
}

/** h = 1 / z = z^(p - 2) = z^(2^255 - 21) (Fermat); 0 maps to 0. */
export function fe_invert(h: usize, z: usize): void {
  pow2_250_1(z);
  fe_sqn(CHAIN_T1, CHAIN_T1, 5); // z^(2^255 - 32)
  fe_mul(h, CHAIN_T1, CHAIN_T0); //  z^(2^255 - 21)
}

/** h = z^((p - 5) / 8) = z^(2^252 - 3), the exponent of the square-root formula. */
export function fe_pow22523(h: usize, z: usize): void {
  pow2_250_1(z);
  fe_sqn(CHAIN_T1, CHAIN_T1, 2); // z^(2^252 - 4)
  fe_mul(h, CHAIN_T1, z); //         z^(2^252 - 3)
}

// Scratch of fe_sqrt_ratio.
const SR_V3: usize = memory.data(80, 16);
const SR_V7: usize = memory.data(80, 16);
const SR_T: usize = memory.data(80, 16);
const SR_CHECK: usize = memory.data(80, 16);

/**
 * x = sqrt(u / v) when u / v is a square (RFC 8032 section 5.1.3, step 3),
 * without an inversion: the candidate x = u v^3 (u v^7)^((p-5)/8) satisfies
 * v x^2 = +u or -u whenever u / v is a square; in the second case
 * x sqrt(-1) is the root. Returns false (x undefined) when u / v is not a
 * square. Requires v != 0 (true for v = d y^2 + 1, as d is not a square).
 * x may alias neither u nor v.
 */
export function fe_sqrt_ratio(x: usize, u: usize, v: usize): bool {
  fe_sq(SR_T, v);
  fe_mul(SR_V3, SR_T, v); //          v^3
  fe_sq(SR_T, SR_V3);
  fe_mul(SR_V7, SR_T, v); //          v^7
  fe_mul(SR_T, u, SR_V7); //          u v^7
  fe_pow22523(SR_T, SR_T); //         (u v^7)^((p-5)/8)
  fe_mul(SR_T, SR_T, SR_V3);
  fe_mul(x, SR_T, u); //              u v^3 (u v^7)^((p-5)/8)
  fe_sq(SR_T, x);
  fe_mul(SR_T, SR_T, v); //           v x^2
  fe_sub(SR_CHECK, SR_T, u);
  if (fe_iszero(SR_CHECK)) return true;
  fe_add(SR_CHECK, SR_T, u);
  if (fe_iszero(SR_CHECK)) {
    fe_mul(x, x, FE_SQRT_M1);
    return true;
  }
  return false;
}
