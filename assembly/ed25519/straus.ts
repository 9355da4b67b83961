/**
 * Multi-scalar multiplication sum_i [s_i] P_i for a few points by Straus'
 * interleaved method with sliding windows (the double-scalar multiplication
 * of ref10's ge_double_scalarmult_vartime, for n points).
 *
 * Each scalar is recoded into odd signed digits in [-15, 15], at least 5
 * zeros between two non-zero ones (width-5 NAF), and each point gets a table
 * of its odd multiples P, 3P, ..., 15P. Then one pass from the top bit down:
 * one doubling per bit, shared by all points, and one table addition (or
 * subtraction) per non-zero digit, about one per 6 bits.
 *
 * Why both this and Pippenger (msm.ts): Pippenger's bucket sums cost
 * 2^c additions per window whatever n is, which dominates for a handful of
 * points (a single verification is 3 points: R, A and B). Straus has no such
 * fixed cost but pays a table and ~42 additions per point; msm_auto picks by
 * the cost model below.
 */
import { POINT_BYTES, ge_identity, ge_add_niels, ge_add_cached, ge_to_cached, ge_double } from './point';
import { arena_alloc } from './arena';

const DIGIT_COUNT: i32 = 256;
/** Odd multiples 1, 3, ..., 15 of each point: digits up to 15 in absolute value. */
const TABLE_SIZE: i32 = 8;
const MAX_DIGIT: i32 = 2 * TABLE_SIZE - 1;
/** How far above a digit's bit the window reaches for bits to merge into it (ref10's slide). */
const MAX_WINDOW_SPAN: i32 = 6;

const P1: usize = memory.data(<i32>POINT_BYTES, 16);
const P2: usize = memory.data(<i32>POINT_BYTES, 16);
const P2_CACHED: usize = memory.data(<i32>POINT_BYTES, 16);

/**
 * Writes the sliding-window signed digits of the 32-byte scalar s (< 2^253)
 * into digits[0 .. 256), i8 each, so that s = sum digits[i] 2^i with every
 * non-zero digit odd and at most MAX_DIGIT in absolute value. Returns the
 * index of the highest non-zero digit + 1 (0 for s = 0).
 */
function slide(digits: usize, s: usize): i32 {
  for (let i = 0; i < DIGIT_COUNT; i++) {
    store<i8>(digits + <usize>i, <i8>((load<u8>(s + <usize>(i >> 3)) >> <u8>(i & 7)) & 1));
  }
  for (let i = 0; i < DIGIT_COUNT; i++) {
    let d = <i32>load<i8>(digits + <usize>i);
    if (d == 0) continue;
    for (let b = 1; b <= MAX_WINDOW_SPAN && i + b < DIGIT_COUNT; b++) {
      const next = <i32>load<i8>(digits + <usize>(i + b));
      if (next == 0) continue;
      const shifted = next << b;
      if (d + shifted <= MAX_DIGIT) {
        d += shifted;
        store<i8>(digits + <usize>(i + b), 0);
      } else if (d - shifted >= -MAX_DIGIT) {
        d -= shifted;
        // Carry into the bits above: the first 0 becomes 1, the 1s before it 0.
        for (let k = i + b; k < DIGIT_COUNT; k++) {
          if (load<i8>(digits + <usize>k) == 0) {
            store<i8>(digits + <usize>k, 1);
            break;
          }
          store<i8>(digits + <usize>k, 0);
        }
      } else {
        break;
      }
    }
    store<i8>(digits + <usize>i, <i8>d);
  }
  let top = DIGIT_COUNT;
  while (top > 0 && load<i8>(digits + <usize>(top - 1)) == 0) top--;
  return top;
}

/** table[0 .. TABLE_SIZE): P, 3P, ..., 15P in cached form, P given as a niels point. */
function buildTable(table: usize, niels: usize): void {
  ge_identity(P1);
  ge_add_niels(P1, P1, niels, false);
  ge_double(P2, P1);
  ge_to_cached(P2_CACHED, P2);
  ge_to_cached(table, P1);
  for (let j = 1; j < TABLE_SIZE; j++) {
    ge_add_cached(P1, P1, P2_CACHED);
    ge_to_cached(table + <usize>j * POINT_BYTES, P1);
  }
}

/** Field multiplications, roughly: per point a table (7 additions, 1 doubling) and one addition per 6 bits of its scalar. */
export function strausCost(full: i32, half: i32): f64 {
  const ADD_COST: f64 = 9;
  const TABLE_COST: f64 = <f64>(TABLE_SIZE - 1) * ADD_COST + 8 + <f64>TABLE_SIZE * 1;
  const perFull = TABLE_COST + (253.0 / <f64>(MAX_WINDOW_SPAN)) * ADD_COST;
  const perHalf = TABLE_COST + (128.0 / <f64>(MAX_WINDOW_SPAN)) * ADD_COST;
  return <f64>full * perFull + <f64>half * perHalf;
}

/**
 * result = sum_i [scalars[i]] points[i]: points is an array of n u32
 * pointers to niels points, scalars n consecutive 32-byte scalars (< 2^253).
 * Memory from the arena; the caller releases it.
 */
export function straus(result: usize, points: usize, scalars: usize, n: i32): void {
  const digits = arena_alloc(<usize>n * <usize>DIGIT_COUNT);
  const tables = arena_alloc(<usize>n * <usize>TABLE_SIZE * POINT_BYTES);
  let top = 0;
  for (let i = 0; i < n; i++) {
    const used = slide(digits + <usize>i * <usize>DIGIT_COUNT, scalars + <usize>i * 32);
    if (used > top) top = used;
    buildTable(tables + <usize>i * <usize>TABLE_SIZE * POINT_BYTES, <usize>load<u32>(points + (<usize>i << 2)));
  }
  ge_identity(result);
  for (let bit = top - 1; bit >= 0; bit--) {
    ge_double(result, result);
    for (let i = 0; i < n; i++) {
      const d = <i32>load<i8>(digits + <usize>i * <usize>DIGIT_COUNT + <usize>bit);
      if (d == 0) continue;
      const entry = tables + (<usize>i * <usize>TABLE_SIZE + <usize>(((d > 0 ? d : -d) - 1) >> 1)) * POINT_BYTES;
      ge_add_cached(result, result, entry, d < 0);
    }
  }
}
