/**
 * Multi-scalar multiplication sum_i [s_i] P_i by the Bos-Coster method
 * (de Rooij, "Efficient exponentiation using precomputation and vector
 * addition chains", 1994, credits Bos and Coster), as in ed25519-donna's
 * batch verification: keep the terms in a max-heap ordered by scalar; while
 * the second largest scalar b is not zero, rewrite the two largest terms
 *   [a] P + [b] Q = [a - b] P + [b] (Q + P),
 * one point addition each time, the largest scalar shrinking. When only one
 * scalar is left non-zero, one plain scalar multiplication ends it.
 *
 * When a is much larger than b (more than MAX_GAP_BITS longer), repeated
 * subtraction would take up to 2^gap steps, so the step becomes a division
 * instead: [a] P + [b] Q = [a mod b] P + [b] (Q + [q] P), q = a div b, with
 * [q] P by double-and-add. This bounds every step whatever the scalars
 * (an attacker chooses S and the message, hence some scalars).
 *
 * With random scalars of similar size, each step takes about log2(n) bits
 * off the top scalar, so the cost falls per point as n grows, like
 * Pippenger's; it needs no buckets but one extended point (320 bytes) per
 * term. Selectable next to Pippenger and Straus (batch.ts, batch_set_msm) so
 * that bench/wasm-ed25519.mjs compares them in one run.
 */
import { POINT_BYTES, ge_identity, ge_add_niels, ge_add_cached, ge_to_cached, ge_double } from './point';
import { arena_alloc } from './arena';

const SCALAR_BYTES: usize = 32;
const LIMBS: i32 = 4; // a scalar as four little-endian u64

/** Above this difference in bit length, a step divides instead of subtracting once. */
const MAX_GAP_BITS: i32 = 4;

const CACHED: usize = memory.data(<i32>POINT_BYTES, 16);
const MULTIPLE: usize = memory.data(<i32>POINT_BYTES, 16);
const QUOTIENT: usize = memory.data(<i32>SCALAR_BYTES, 16);
const SHIFTED: usize = memory.data(<i32>SCALAR_BYTES, 16);

let heap: usize = 0; //    u32 term indices, heap[0] the term with the largest scalar
let heapSize: i32 = 0;
let scalarsAt: usize = 0; // the terms' scalars, changed in place

// @ts-ignore: decorator
@inline function scalarOf(index: u32): usize {
  return scalarsAt + <usize>index * SCALAR_BYTES;
}

/** a > b, as 256-bit numbers. */
function greater(a: usize, b: usize): bool {
  for (let limb = LIMBS - 1; limb >= 0; limb--) {
    const x = load<u64>(a + (<usize>limb << 3));
    const y = load<u64>(b + (<usize>limb << 3));
    if (x != y) return x > y;
  }
  return false;
}

function isZero(a: usize): bool {
  return (load<u64>(a) | load<u64>(a, 8) | load<u64>(a, 16) | load<u64>(a, 24)) == 0;
}

/** a -= b, with a >= b. */
function subtractInPlace(a: usize, b: usize): void {
  let borrow: u64 = 0;
  for (let limb = 0; limb < LIMBS; limb++) {
    const offset = <usize>limb << 3;
    const x = load<u64>(a + offset);
    const y = load<u64>(b + offset);
    const difference = x - y - borrow;
    borrow = (x < y || (x == y && borrow != 0)) ? 1 : 0;
    store<u64>(a + offset, difference);
  }
}

/** Number of significant bits of a (0 for 0). */
function bitLength(a: usize): i32 {
  for (let limb = LIMBS - 1; limb >= 0; limb--) {
    const word = load<u64>(a + (<usize>limb << 3));
    if (word != 0) return limb * 64 + 64 - <i32>clz(word);
  }
  return 0;
}

/** out = a << shift, for a << shift < 2^256. */
function shiftLeft(out: usize, a: usize, shift: i32): void {
  const limbShift = shift >> 6;
  const bitShift = <u64>(shift & 63);
  for (let limb = LIMBS - 1; limb >= 0; limb--) {
    const from = limb - limbShift;
    let word: u64 = 0;
    if (from >= 0) {
      word = load<u64>(a + (<usize>from << 3)) << bitShift;
      if (bitShift != 0 && from >= 1) word |= load<u64>(a + (<usize>(from - 1) << 3)) >> (64 - bitShift);
    }
    store<u64>(out + (<usize>limb << 3), word);
  }
}

/** a = a mod b, QUOTIENT = a div b (binary long division), for b != 0. */
function divideInPlace(a: usize, b: usize): void {
  memory.fill(QUOTIENT, 0, SCALAR_BYTES);
  for (let shift = bitLength(a) - bitLength(b); shift >= 0; shift--) {
    shiftLeft(SHIFTED, b, shift);
    if (!greater(SHIFTED, a)) {
      subtractInPlace(a, SHIFTED);
      const byte = QUOTIENT + <usize>(shift >> 3);
      store<u8>(byte, <u8>(<i32>load<u8>(byte) | (1 << (shift & 7))));
    }
  }
}

// @ts-ignore: decorator
@inline function heapAt(position: i32): u32 {
  return load<u32>(heap + (<usize>position << 2));
}

// @ts-ignore: decorator
@inline function heapSet(position: i32, index: u32): void {
  store<u32>(heap + (<usize>position << 2), index);
}

/** Moves the term at `position` down until both its children have smaller scalars. */
function siftDown(position: i32): void {
  const index = heapAt(position);
  for (;;) {
    let child = 2 * position + 1;
    if (child >= heapSize) break;
    if (child + 1 < heapSize && greater(scalarOf(heapAt(child + 1)), scalarOf(heapAt(child)))) child++;
    if (!greater(scalarOf(heapAt(child)), scalarOf(index))) break;
    heapSet(position, heapAt(child));
    position = child;
  }
  heapSet(position, index);
}

/** result = [s] P, P extended, by double-and-add from the top bit (s < 2^256). */
function scalarMul(result: usize, s: usize, p: usize): void {
  ge_to_cached(CACHED, p);
  ge_identity(result);
  let top = 255;
  while (top >= 0 && ((load<u8>(s + <usize>(top >> 3)) >> <u8>(top & 7)) & 1) == 0) top--;
  for (let bit = top; bit >= 0; bit--) {
    ge_double(result, result);
    if (((load<u8>(s + <usize>(bit >> 3)) >> <u8>(bit & 7)) & 1) != 0) ge_add_cached(result, result, CACHED);
  }
}

/**
 * result = sum_i [scalars[i]] points[i]: points is an array of n u32
 * pointers to niels points, scalars n consecutive 32-byte scalars. Memory
 * from the arena (the caller releases it).
 */
export function bosCoster(result: usize, points: usize, scalars: usize, n: i32): void {
  if (n == 0) {
    ge_identity(result);
    return;
  }
  // Working copies: the steps change both points and scalars.
  const extended = arena_alloc(<usize>n * POINT_BYTES);
  scalarsAt = arena_alloc(<usize>n * SCALAR_BYTES);
  memory.copy(scalarsAt, scalars, <usize>n * SCALAR_BYTES);
  heap = arena_alloc(<usize>n * 4);
  heapSize = n;
  for (let i = 0; i < n; i++) {
    const point = extended + <usize>i * POINT_BYTES;
    ge_identity(point);
    ge_add_niels(point, point, <usize>load<u32>(points + (<usize>i << 2)), false);
    heapSet(i, <u32>i);
  }
  for (let position = (n >> 1) - 1; position >= 0; position--) siftDown(position);

  for (;;) {
    const a = heapAt(0);
    if (heapSize == 1) break;
    let b = heapAt(1);
    if (heapSize > 2 && greater(scalarOf(heapAt(2)), scalarOf(b))) b = heapAt(2);
    if (isZero(scalarOf(b))) break;
    const pointA = extended + <usize>a * POINT_BYTES;
    const pointB = extended + <usize>b * POINT_BYTES;
    if (bitLength(scalarOf(a)) - bitLength(scalarOf(b)) > MAX_GAP_BITS) {
      // [a] P + [b] Q = [a mod b] P + [b] (Q + [a div b] P)
      divideInPlace(scalarOf(a), scalarOf(b));
      scalarMul(MULTIPLE, QUOTIENT, pointA);
      ge_to_cached(CACHED, MULTIPLE);
    } else {
      // [a] P + [b] Q = [a - b] P + [b] (Q + P)
      subtractInPlace(scalarOf(a), scalarOf(b));
      ge_to_cached(CACHED, pointA);
    }
    ge_add_cached(pointB, pointB, CACHED);
    siftDown(0);
  }
  const last = heapAt(0);
  scalarMul(result, scalarOf(last), extended + <usize>last * POINT_BYTES);
}
