/**
 * Batch verification of Ed25519 signatures under the "strict, cofactored"
 * rule (issue 4): S < L; A and R canonical, on the curve and not of small
 * order; accept iff [8]([S]B - R - [k]A) is the identity, k = SHA-512(R || A || M) mod L.
 *
 * A batch of n signatures is checked with one random linear combination
 * (Bernstein et al., "High-speed high-security signatures", 2011, section 5):
 * with 128-bit random z_i, all are valid iff, with overwhelming probability,
 *   [8]( -(sum z_i S_i) B + sum [z_i] R_i + sum [z_i k_i] A_i ) = identity,
 * evaluated as one multi-scalar multiplication (msm.ts). Terms of the same
 * public key are merged first (their scalars summed mod L), so a batch signed
 * by few keys costs about one point per signature (its R) instead of two.
 * Reducing z_i k_i mod L is harmless: the [8] removes any torsion component
 * of A, and what is left has order L. For a single item with z odd (the JS
 * side sets the low bit) the check is exact: z [8]e = identity iff [8]e =
 * identity, as 0 < z < L.
 *
 * The JS side (src/engine/backends/wasm.ts) supplies SHA-512(R || A || M) and
 * z, writes everything in one block, calls batch_prepare once, then
 * batch_check on the whole batch and, if that fails, on groups of it and
 * single items (group testing, validItemsOf in wasm.ts) to name the invalid
 * items. Each check multiplies by Pippenger, Straus or Bos-Coster
 * (multiScalarMul below).
 */
import { FE_BYTES } from './field';
import { NIELS_BYTES, POINT_BYTES, BASE_NIELS, ge_decode, ge_is_small_order, niels_from_affine, ge_mul_by_cofactor, ge_is_identity } from './point';
import { SCALAR_BYTES, sc_reduce512, sc_mul, sc_add, sc_neg, sc_is_canonical } from './scalar';
import { arena_alloc, arena_mark, arena_release, arena_reset } from './arena';
import { msm, pippengerCost } from './msm';
import { straus, strausCost } from './straus';
import { bosCoster } from './bos-coster';
import { fe_frombytes, fe_tobytes } from './field';

// Key record, written by JS, status (and x, y) written back here.
export const KEY_RECORD_BYTES: usize = 128;
const KEY_ENCODING: usize = 0;
const KEY_X: usize = 32; //      canonical x, y of a decoded key (a cache entry on the JS side)
const KEY_Y: usize = 64;
const KEY_STATUS: usize = 96; // u8
const KEY_UNKNOWN: u8 = 0; //   not decoded yet: decode it
const KEY_VALID: u8 = 1; //     x, y given (or just decoded)
const KEY_INVALID: u8 = 2; //   does not decode, or small order

// Item record, written by JS; status written back here.
export const ITEM_RECORD_BYTES: usize = 160;
const ITEM_R: usize = 0;
const ITEM_S: usize = 32;
const ITEM_DIGEST: usize = 64; // SHA-512(R || A || M), 64 bytes
const ITEM_Z: usize = 128; //     the 128-bit coefficient
const ITEM_KEY: usize = 144; //   u32 index into the key records
const ITEM_STATUS: usize = 148; // u8: 1 may be valid, 0 rejected by the checks before the equation

const HALF_SCALAR_BYTES: usize = 16;

// Per batch state, in the arena.
let keyCount: i32 = 0;
let itemCount: i32 = 0;
let keyRecords: usize = 0;
let itemRecords: usize = 0;
let keyNiels: usize = 0;
let keySums: usize = 0; //   per key: sum of z_i k_i over the items of the current check
let keyStamps: usize = 0; // per key: the check that last touched it
let itemNiels: usize = 0;
let itemZK: usize = 0; //    z_i k_i mod L
let itemZS: usize = 0; //    z_i S_i mod L
let checkStamp: u32 = 0;

const DEC_X: usize = memory.data(<i32>FE_BYTES, 16);
const DEC_Y: usize = memory.data(<i32>FE_BYTES, 16);
const K: usize = memory.data(32, 16);
const Z: usize = memory.data(32, 16);
const SUM_ZS: usize = memory.data(32, 16);
const RESULT: usize = memory.data(<i32>POINT_BYTES, 16);

/** Starts a batch: drops the previous one and returns a block of `bytes` for the JS side to fill. */
export function batch_input(bytes: usize): usize {
  arena_reset();
  return arena_alloc(bytes);
}

/** Decodes and checks the point at s; on success leaves (x, y) in DEC_X, DEC_Y. */
function decodeFullOrder(s: usize): bool {
  return ge_decode(DEC_X, DEC_Y, s) && !ge_is_small_order(DEC_X, DEC_Y);
}

function prepareKey(record: usize, niels: usize): void {
  const status = load<u8>(record, KEY_STATUS);
  if (status == KEY_VALID) {
    fe_frombytes(DEC_X, record + KEY_X);
    fe_frombytes(DEC_Y, record + KEY_Y);
  } else if (status == KEY_UNKNOWN) {
    if (!decodeFullOrder(record + KEY_ENCODING)) {
      store<u8>(record, KEY_INVALID, KEY_STATUS);
      return;
    }
    fe_tobytes(record + KEY_X, DEC_X);
    fe_tobytes(record + KEY_Y, DEC_Y);
    store<u8>(record, KEY_VALID, KEY_STATUS);
  } else {
    return;
  }
  niels_from_affine(niels, DEC_X, DEC_Y);
}

/** Everything per item that does not depend on which subset is checked. Returns the status. */
function prepareItem(i: i32): u8 {
  const record = itemRecords + <usize>i * ITEM_RECORD_BYTES;
  const key = <i32>load<u32>(record, ITEM_KEY);
  if (key < 0 || key >= keyCount) return 0;
  if (load<u8>(keyRecords + <usize>key * KEY_RECORD_BYTES, KEY_STATUS) != KEY_VALID) return 0;
  if (!sc_is_canonical(record + ITEM_S)) return 0;
  if (!decodeFullOrder(record + ITEM_R)) return 0;
  niels_from_affine(itemNiels + <usize>i * NIELS_BYTES, DEC_X, DEC_Y);
  sc_reduce512(K, record + ITEM_DIGEST); //           k = SHA-512(R || A || M) mod L
  memory.copy(Z, record + ITEM_Z, HALF_SCALAR_BYTES);
  memory.fill(Z + HALF_SCALAR_BYTES, 0, HALF_SCALAR_BYTES);
  sc_mul(itemZK + <usize>i * SCALAR_BYTES, Z, K);
  sc_mul(itemZS + <usize>i * SCALAR_BYTES, Z, record + ITEM_S);
  return 1;
}

/**
 * Decodes the keys (or loads the ones the JS side has cached) and the R
 * points, checks S < L, and computes each item's scalars. Writes each key's
 * and each item's status into its record.
 */
export function batch_prepare(keys: usize, keysN: i32, items: usize, itemsN: i32): void {
  keyRecords = keys;
  keyCount = keysN;
  itemRecords = items;
  itemCount = itemsN;
  keyNiels = arena_alloc(<usize>keysN * NIELS_BYTES);
  keySums = arena_alloc(<usize>keysN * SCALAR_BYTES);
  keyStamps = arena_alloc(<usize>keysN * 4);
  memory.fill(keyStamps, 0, <usize>keysN * 4);
  itemNiels = arena_alloc(<usize>itemsN * NIELS_BYTES);
  itemZK = arena_alloc(<usize>itemsN * SCALAR_BYTES);
  itemZS = arena_alloc(<usize>itemsN * SCALAR_BYTES);
  checkStamp = 0;
  for (let k = 0; k < keysN; k++) {
    prepareKey(keys + <usize>k * KEY_RECORD_BYTES, keyNiels + <usize>k * NIELS_BYTES);
  }
  for (let i = 0; i < itemsN; i++) {
    store<u8>(items + <usize>i * ITEM_RECORD_BYTES, prepareItem(i), ITEM_STATUS);
  }
}

// Which multi-scalar multiplication batch_check uses: the cheaper by the cost models, or one forced (bench, tests).
export const MSM_AUTO: i32 = 0;
export const MSM_PIPPENGER: i32 = 1;
export const MSM_STRAUS: i32 = 2;
export const MSM_BOS_COSTER: i32 = 3;
let msmMethod: i32 = MSM_AUTO;

/** Forces a multi-scalar multiplication method (MSM_*) for the following checks; returns false for an unknown one. */
export function batch_set_msm(method: i32): bool {
  if (method < MSM_AUTO || method > MSM_BOS_COSTER) return false;
  msmMethod = method;
  return true;
}

/** n terms, `half` of them with 128-bit scalars (the R terms' z_i). */
function multiScalarMul(result: usize, points: usize, scalars: usize, n: i32, half: i32): void {
  let method = msmMethod;
  if (method == MSM_AUTO) {
    method = strausCost(n - half, half) < pippengerCost(n - half, half) ? MSM_STRAUS : MSM_PIPPENGER;
  }
  if (method == MSM_STRAUS) straus(result, points, scalars, n);
  else if (method == MSM_BOS_COSTER) bosCoster(result, points, scalars, n);
  else msm(result, points, scalars, n, half);
}

/**
 * The batch equation over the items listed at `indices` (count u32 item
 * indices, all with status 1): true iff, with overwhelming probability, each
 * of them satisfies the cofactored equation; exact for a single item.
 */
export function batch_check(indices: usize, count: i32): bool {
  const mark = arena_mark();
  checkStamp++;
  const maxTerms = <usize>count * 2 + 1;
  const points = arena_alloc(maxTerms * 4);
  const scalars = arena_alloc(maxTerms * SCALAR_BYTES);
  const keyList = arena_alloc(<usize>count * 4);
  let keysUsed = 0;
  memory.fill(SUM_ZS, 0, SCALAR_BYTES);

  // One R term per item, with scalar z_i; key sums and sum z_i S_i alongside.
  for (let j = 0; j < count; j++) {
    const i = <usize>load<u32>(indices + (<usize>j << 2));
    const record = itemRecords + i * ITEM_RECORD_BYTES;
    store<u32>(points + (<usize>j << 2), <u32>(itemNiels + i * NIELS_BYTES));
    const s = scalars + <usize>j * SCALAR_BYTES;
    memory.copy(s, record + ITEM_Z, HALF_SCALAR_BYTES);
    memory.fill(s + HALF_SCALAR_BYTES, 0, HALF_SCALAR_BYTES);
    sc_add(SUM_ZS, SUM_ZS, itemZS + i * SCALAR_BYTES);

    const key = <usize>load<u32>(record, ITEM_KEY);
    const sum = keySums + key * SCALAR_BYTES;
    if (load<u32>(keyStamps + (key << 2)) != checkStamp) {
      store<u32>(keyStamps + (key << 2), checkStamp);
      memory.fill(sum, 0, SCALAR_BYTES);
      store<u32>(keyList + (<usize>keysUsed << 2), <u32>key);
      keysUsed++;
    }
    sc_add(sum, sum, itemZK + i * SCALAR_BYTES);
  }

  // One A term per distinct key, with the merged scalar sum z_i k_i.
  let terms = count;
  for (let j = 0; j < keysUsed; j++) {
    const key = <usize>load<u32>(keyList + (<usize>j << 2));
    store<u32>(points + (<usize>terms << 2), <u32>(keyNiels + key * NIELS_BYTES));
    memory.copy(scalars + <usize>terms * SCALAR_BYTES, keySums + key * SCALAR_BYTES, SCALAR_BYTES);
    terms++;
  }

  // The base point, with -(sum z_i S_i).
  store<u32>(points + (<usize>terms << 2), <u32>BASE_NIELS);
  sc_neg(scalars + <usize>terms * SCALAR_BYTES, SUM_ZS);
  terms++;

  multiScalarMul(RESULT, points, scalars, terms, count);
  ge_mul_by_cofactor(RESULT, RESULT);
  const ok = ge_is_identity(RESULT);
  arena_release(mark);
  return ok;
}
