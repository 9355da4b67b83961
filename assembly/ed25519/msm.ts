/**
 * Multi-scalar multiplication sum_i [s_i] P_i by Pippenger's bucket method,
 * with signed digits.
 *
 * Each scalar is cut into windows of c bits, recoded as digits in
 * [-2^(c-1) + 1, 2^(c-1)] (a window above 2^(c-1) becomes window - 2^c with a
 * carry into the next), so there are only 2^(c-1) buckets per window and a
 * negative digit subtracts the point (negating a point is free). Per window,
 * from the top: the running sum is doubled c times, every point is added
 * into the bucket of its digit, and the buckets are summed as
 * sum_j j B_j = B_m + (B_m + B_(m-1)) + ... with two additions per bucket.
 *
 * Inputs are niels points (affine, see point.ts) given by pointer, and
 * 32-byte scalars below 2^253. Cost, in field multiplications, is about
 * windows x (7 n + 9 2^c) + 254 doublings; c is chosen by that formula for
 * each n (scalars with only the low 128 bits set, the batch coefficients of
 * the R points, skip the upper windows and are counted half).
 *
 * Pippenger's cost grows as n / log n; for a handful of points its bucket
 * sums dominate and Straus' method (straus.ts) is used instead (batch.ts).
 */
import { POINT_BYTES, ge_identity, ge_add_niels, ge_add_cached, ge_to_cached, ge_double, ge_copy } from './point';
import { arena_alloc } from './arena';

const SCALAR_BITS: i32 = 253; // every scalar is < L < 2^253
const MAX_WINDOW_BITS: i32 = 16;

// Cost model, in field multiplications.
const MIXED_ADD_COST: f64 = 7;
const FULL_ADD_COST: f64 = 9;

const RUNNING: usize = memory.data(<i32>POINT_BYTES, 16);
const WINDOW_SUM: usize = memory.data(<i32>POINT_BYTES, 16);
const CACHED: usize = memory.data(<i32>POINT_BYTES, 16);

/** Windows needed so that the signed recoding of a 253-bit scalar ends without a carry. */
function windowCount(c: i32): i32 {
  // The top window then has at most c - 1 bits: its digit plus a carry stays <= 2^(c-1).
  return (SCALAR_BITS + 1 + c - 1) / c;
}

function pippengerCostFor(c: i32, n: i32, h: i32): f64 {
  const windows = <f64>windowCount(c);
  const halfWindows = <f64>((128 + 1 + c - 1) / c);
  return windows * (MIXED_ADD_COST * <f64>n + FULL_ADD_COST * <f64>(1 << c)) + halfWindows * MIXED_ADD_COST * <f64>h;
}

/** The c minimising the cost model for n full-size and h half-size (128-bit) scalars. */
export function chooseWindowBits(n: i32, h: i32): i32 {
  let best = 1;
  let bestCost = Infinity;
  for (let c = 1; c <= MAX_WINDOW_BITS; c++) {
    const cost = pippengerCostFor(c, n, h);
    if (cost < bestCost) {
      bestCost = cost;
      best = c;
    }
  }
  return best;
}

/** The cost model's field multiplications for n full-size and h half-size scalars, at the best c (doublings left out). */
export function pippengerCost(n: i32, h: i32): f64 {
  return pippengerCostFor(chooseWindowBits(n, h), n, h);
}

/** Bits [bit, bit + c) of the 32-byte scalar s (bits past 255 read as 0). */
function windowBits(s: usize, bit: i32, c: i32): i32 {
  const byte = bit >> 3;
  let v: u32;
  if (byte <= 28) {
    v = load<u32>(s + <usize>byte) >> <u32>(bit & 7);
  } else {
    // Near the end: assemble from the remaining bytes only.
    v = 0;
    for (let i = 31; i >= byte; i--) v = (v << 8) | <u32>load<u8>(s + <usize>i);
    v >>= <u32>(bit & 7);
  }
  return <i32>(v & ((1 << c) - 1));
}

/**
 * Writes the signed digits of scalar s into digits[0 .. windows), i16 each.
 * Returns the number of the highest non-zero window + 1 (0 for s = 0).
 */
function recode(digits: usize, s: usize, c: i32, windows: i32): i32 {
  const half = 1 << (c - 1);
  let carry = 0;
  let used = 0;
  for (let w = 0; w < windows; w++) {
    let d = windowBits(s, w * c, c) + carry;
    carry = 0;
    if (d > half) {
      d -= 1 << c;
      carry = 1;
    }
    store<i16>(digits + (<usize>w << 1), <i16>d);
    if (d != 0) used = w + 1;
  }
  return used;
}

/**
 * result = sum_i [scalars[i]] points[i], where points is an array of n u32
 * pointers to niels points and scalars n consecutive 32-byte scalars (< 2^253).
 * halfCount: how many of the scalars are below 2^128 (for the cost model).
 */
export function msm(result: usize, points: usize, scalars: usize, n: i32, halfCount: i32): void {
  const c = chooseWindowBits(n - halfCount, halfCount);
  const windows = windowCount(c);
  const bucketCount = 1 << (c - 1);

  // Digits, point-major: digits of point i at [i windows, (i + 1) windows).
  const digits = arena_alloc(<usize>n * <usize>windows * 2);
  let topWindow = 0;
  for (let i = 0; i < n; i++) {
    const used = recode(digits + <usize>i * <usize>windows * 2, scalars + <usize>i * 32, c, windows);
    if (used > topWindow) topWindow = used;
  }
  const buckets = arena_alloc(<usize>bucketCount * POINT_BYTES);
  // Which buckets received a point in the current window (empty ones are skipped when summing).
  const filled = arena_alloc(<usize>bucketCount);

  ge_identity(result);
  for (let w = topWindow - 1; w >= 0; w--) {
    for (let k = 0; k < c; k++) ge_double(result, result);

    memory.fill(filled, 0, <usize>bucketCount);
    for (let i = 0; i < n; i++) {
      const d = <i32>load<i16>(digits + ((<usize>i * <usize>windows + <usize>w) << 1));
      if (d == 0) continue;
      const index = <usize>(d > 0 ? d : -d) - 1;
      const bucket = buckets + index * POINT_BYTES;
      if (load<u8>(filled + index) == 0) {
        ge_identity(bucket);
        store<u8>(filled + index, 1);
      }
      ge_add_niels(bucket, bucket, <usize>load<u32>(points + (<usize>i << 2)), d < 0);
    }

    // sum_j j B_j, from the top bucket down.
    ge_identity(RUNNING);
    ge_identity(WINDOW_SUM);
    let runningEmpty = true;
    for (let j = bucketCount - 1; j >= 0; j--) {
      if (load<u8>(filled + <usize>j) != 0) {
        const bucket = buckets + <usize>j * POINT_BYTES;
        if (runningEmpty) {
          ge_copy(RUNNING, bucket);
          runningEmpty = false;
        } else {
          ge_to_cached(CACHED, bucket);
          ge_add_cached(RUNNING, RUNNING, CACHED);
        }
      }
      if (!runningEmpty) {
        ge_to_cached(CACHED, RUNNING);
        ge_add_cached(WINDOW_SUM, WINDOW_SUM, CACHED);
      }
    }
    ge_to_cached(CACHED, WINDOW_SUM);
    ge_add_cached(result, result, CACHED);
  }
}
