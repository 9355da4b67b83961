/**
 * Scalars modulo the group order L = 2^252 + 27742317777372353535851937790883648493
 * (RFC 8032 section 5.1).
 *
 * A scalar is 32 bytes little-endian, which on little-endian WebAssembly is
 * also eight u32 words: the encoding is the limb array. Products use u32 x u32
 * -> u64 multiplies, and 512-bit values are reduced with Barrett's method
 * (Handbook of Applied Cryptography, algorithm 14.42, base b = 2^32, k = 8).
 * None of this is on the hot path (a few hundred multiplies per signature
 * against hundreds of thousands for the point arithmetic), so it is written
 * as plain loops.
 */

export const SCALAR_BYTES: usize = 32;

/** L as eight 32-bit words, least significant first. */
const L_WORDS: usize = memory.data<u32>([0x5cf5d3ed, 0x5812631a, 0xa2f79cd6, 0x14def9de, 0, 0, 0, 0x10000000]);
/** Barrett's constant mu = floor(2^512 / L), nine words (260 bits). */
const MU_WORDS: usize = memory.data<u32>([0x0a2c131b, 0xed9ce5a3, 0x086329a7, 0x2106215d, 0xffffffeb, 0xffffffff, 0xffffffff, 0xffffffff, 0xf]);

const WIDE: usize = memory.data(64, 16); //   a 512-bit product
const Q2: usize = memory.data(72, 16); //     q1 * mu, 18 words
const R2: usize = memory.data(40, 16); //     low 9 words of q3 * L
const R1: usize = memory.data(40, 16); //     low 9 words of x, then the remainder

// @ts-ignore: decorator
@inline function word(p: usize, i: usize): u64 {
  return <u64>load<u32>(p + (i << 2));
}

// @ts-ignore: decorator
@inline function setWord(p: usize, i: usize, v: u64): void {
  store<u32>(p + (i << 2), <u32>v);
}

/**
 * out = a * b, schoolbook; a has aWords words, b bWords words, and only the
 * first outWords words of the product are written (a truncated product is all
 * Barrett's step 2 needs).
 */
function mulWords(out: usize, outWords: usize, a: usize, aWords: usize, b: usize, bWords: usize): void {
  memory.fill(out, 0, outWords << 2);
  for (let i: usize = 0; i < aWords && i < outWords; i++) {
    const ai = word(a, i);
    let carry: u64 = 0;
    let j: usize = 0;
    for (; j < bWords && i + j < outWords; j++) {
      // ai * bj + out + carry < 2^64: (2^32-1)^2 + 2 (2^32-1) = 2^64 - 1.
      const t = ai * word(b, j) + word(out, i + j) + carry;
      setWord(out, i + j, t);
      carry = t >> 32;
    }
    if (i + j < outWords) setWord(out, i + j, carry);
  }
}

/** a >= b, both n words. */
function geqWords(a: usize, b: usize, n: usize): bool {
  for (let i = <isize>n - 1; i >= 0; i--) {
    const x = word(a, i), y = word(b, i);
    if (x != y) return x > y;
  }
  return true;
}

/** a -= b over n words, wrapping modulo 2^(32 n). */
function subWords(a: usize, b: usize, n: usize): void {
  let borrow: u64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const t = word(a, i) - word(b, i) - borrow;
    setWord(a, i, t);
    borrow = (t >> 63) & 1;
  }
}

/** a += b over n words (the caller knows it cannot overflow). */
function addWords(a: usize, b: usize, n: usize): void {
  let carry: u64 = 0;
  for (let i: usize = 0; i < n; i++) {
    const t = word(a, i) + word(b, i) + carry;
    setWord(a, i, t);
    carry = t >> 32;
  }
}

const L9: usize = memory.data(40, 16); // L in nine words, for the final subtractions
memory.copy(L9, L_WORDS, 32);

/**
 * out = x mod L for a 512-bit x (64 bytes), e.g. a SHA-512 digest read as a
 * little-endian integer (RFC 8032 section 5.1.7, step 2). Barrett: the
 * quotient estimate q3 = floor(floor(x / b^7) mu / b^9) is at most 2 below
 * the true quotient, so r = x - q3 L, computed modulo b^9, needs at most two
 * subtractions of L. out may alias x's first 32 bytes.
 */
export function sc_reduce512(out: usize, x: usize): void {
  mulWords(Q2, 18, x + 7 * 4, 9, MU_WORDS, 9); //     q2 = q1 mu
  const q3 = Q2 + 9 * 4; //                           q3 = q2 / b^9
  mulWords(R2, 9, q3, 9, L_WORDS, 8); //               r2 = q3 L mod b^9
  memory.copy(R1, x, 36); //                          r1 = x mod b^9
  subWords(R1, R2, 9); //                             r = r1 - r2 (mod b^9)
  while (geqWords(R1, L9, 9)) subWords(R1, L9, 9);
  memory.copy(out, R1, 32);
}

/** out = a * b mod L; a and b are scalars below 2^256. */
export function sc_mul(out: usize, a: usize, b: usize): void {
  mulWords(WIDE, 16, a, 8, b, 8);
  sc_reduce512(out, WIDE);
}

/** out = (a + b) mod L, for a, b < L. */
export function sc_add(out: usize, a: usize, b: usize): void {
  memory.copy(R1, a, 32);
  store<u32>(R1, 0, 32);
  addWords(R1, b, 8);
  // a + b < 2L < 2^254: the ninth word stays 0.
  if (geqWords(R1, L9, 9)) subWords(R1, L9, 9);
  memory.copy(out, R1, 32);
}

/** out = -a mod L, for a < L. */
export function sc_neg(out: usize, a: usize): void {
  memory.copy(R1, L9, 36);
  subWords(R1, a, 8);
  // L - 0 = L must come out as 0.
  if (geqWords(R1, L9, 9)) subWords(R1, L9, 9);
  memory.copy(out, R1, 32);
}

/** True when a < L (RFC 8032 section 5.1.7: S must be in [0, L)). */
export function sc_is_canonical(a: usize): bool {
  return !geqWords(a, L_WORDS, 8);
}
