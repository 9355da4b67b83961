/**
 * Points of the twisted Edwards curve -x^2 + y^2 = 1 + d x^2 y^2 (RFC 8032
 * section 5.1), in the coordinate systems of Hisil, Wong, Carter, Dawson,
 * "Twisted Edwards curves revisited" (2008), with a = -1:
 *
 * - extended (X : Y : Z : T), x = X/Z, y = Y/Z, x y = T/Z: 4 field elements;
 * - cached (Y+X, Y-X, 2Z, 2dT): the second operand of a full addition, so its
 *   sums are formed once when a point is added many times;
 * - niels (y+x, y-x, 2dxy): an affine point (Z = 1) ready for mixed addition,
 *   7 multiplies instead of 9. Every decoded point is affine, so every input
 *   of the multi-scalar multiplication is kept in this form.
 *
 * The addition formulas are complete on this curve (d is not a square), so
 * there are no special cases for the identity or for doubling.
 */
import {
  FE_BYTES, FE_D, FE_D2, FE_BASE_X, FE_BASE_Y,
  fe_add, fe_sub, fe_neg, fe_mul, fe_sq, fe_one, fe_zero, fe_copy,
  fe_frombytes, fe_tobytes, fe_iszero, fe_isodd, fe_sqrt_ratio, fe_invert,
} from './field';

export const POINT_BYTES: usize = 4 * FE_BYTES; // extended and cached
export const NIELS_BYTES: usize = 3 * FE_BYTES;

// Field offsets inside a point.
const X: usize = 0;
const Y: usize = FE_BYTES;
const Z: usize = 2 * FE_BYTES;
const T: usize = 3 * FE_BYTES;
// ...inside a cached point: Y+X, Y-X, 2Z, 2dT; inside a niels point: y+x, y-x, 2dxy.
const YPX: usize = 0;
const YMX: usize = FE_BYTES;
const Z2: usize = 2 * FE_BYTES;
const T2D: usize = 3 * FE_BYTES;
const XY2D: usize = 2 * FE_BYTES;

// Temporaries of the formulas (one set: nothing here is re-entrant).
const FA: usize = memory.data(80, 16);
const FB: usize = memory.data(80, 16);
const FC: usize = memory.data(80, 16);
const FD: usize = memory.data(80, 16);
const FE: usize = memory.data(80, 16);
const FF: usize = memory.data(80, 16);
const FG: usize = memory.data(80, 16);
const FH: usize = memory.data(80, 16);

/** The identity (0 : 1 : 1 : 0). */
export function ge_identity(p: usize): void {
  fe_zero(p + X);
  fe_one(p + Y);
  fe_one(p + Z);
  fe_zero(p + T);
}

export function ge_copy(r: usize, p: usize): void {
  memory.copy(r, p, POINT_BYTES);
}

/** Extended from affine (x, y): (x : y : 1 : xy). */
export function ge_from_affine(r: usize, x: usize, y: usize): void {
  fe_copy(r + X, x);
  fe_copy(r + Y, y);
  fe_one(r + Z);
  fe_mul(r + T, x, y);
}

/** Niels form of the affine point (x, y). */
export function niels_from_affine(n: usize, x: usize, y: usize): void {
  fe_add(n + YPX, y, x);
  fe_sub(n + YMX, y, x);
  fe_mul(FA, x, y);
  fe_mul(n + XY2D, FA, FE_D2);
}

export function ge_to_cached(c: usize, p: usize): void {
  fe_add(c + YPX, p + Y, p + X);
  fe_sub(c + YMX, p + Y, p + X);
  fe_add(c + Z2, p + Z, p + Z);
  fe_mul(c + T2D, p + T, FE_D2);
}

/**
 * The common tail of every addition and doubling: from E, F, G, H,
 * X3 = E F, Y3 = G H, T3 = E H, Z3 = F G.
 */
// @ts-ignore: decorator
@inline function finish(r: usize): void {
  fe_mul(r + X, FE, FF);
  fe_mul(r + Y, FG, FH);
  fe_mul(r + T, FE, FH);
  fe_mul(r + Z, FF, FG);
}

/** The first half of an addition: A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2), with the second point's sums given. */
// @ts-ignore: decorator
@inline function multiplySums(p: usize, plus: usize, minus: usize): void {
  fe_sub(FA, p + Y, p + X);
  fe_mul(FA, FA, minus);
  fe_add(FB, p + Y, p + X);
  fe_mul(FB, FB, plus);
}

/** The second half, from A, B, C, D: E = B-A, F = D-C, G = D+C, H = B+A; subtracting swaps F and G. */
// @ts-ignore: decorator
@inline function finishAddition(r: usize, negate: bool): void {
  fe_sub(FE, FB, FA);
  fe_add(FH, FB, FA);
  if (negate) {
    fe_add(FF, FD, FC);
    fe_sub(FG, FD, FC);
  } else {
    fe_sub(FF, FD, FC);
    fe_add(FG, FD, FC);
  }
  finish(r);
}

/**
 * r = p + q (negate = false) or p - q (negate = true), q cached
 * ("add-2008-hwcd-3"): A = (Y1-X1)(Y2-X2), B = (Y1+X1)(Y2+X2), C = T1 2d T2,
 * D = Z1 2 Z2, E = B-A, F = D-C, G = D+C, H = B+A. -q swaps Y2+X2 with Y2-X2
 * and negates T2, which swaps F and G. r may alias p.
 */
export function ge_add_cached(r: usize, p: usize, q: usize, negate: bool = false): void {
  multiplySums(p, negate ? q + YMX : q + YPX, negate ? q + YPX : q + YMX);
  fe_mul(FC, p + T, q + T2D);
  fe_mul(FD, p + Z, q + Z2);
  finishAddition(r, negate);
}

/**
 * r = p + q (negate = false) or p - q (negate = true), q in niels form (Z2 = 1,
 * so D = 2 Z1). -q = (-x, y) swaps y+x with y-x and negates 2dxy, which
 * amounts to swapping the roles of F and G. r may alias p.
 */
export function ge_add_niels(r: usize, p: usize, q: usize, negate: bool): void {
  multiplySums(p, negate ? q + YMX : q + YPX, negate ? q + YPX : q + YMX);
  fe_mul(FC, p + T, q + XY2D);
  fe_add(FD, p + Z, p + Z);
  finishAddition(r, negate);
}

/**
 * r = 2 p ("dbl-2008-hwcd" with a = -1): A = X1^2, B = Y1^2, C = 2 Z1^2,
 * E = (X1+Y1)^2 - A - B, G = B - A, F = G - C, H = -A - B. r may alias p.
 */
export function ge_double(r: usize, p: usize): void {
  fe_sq(FA, p + X);
  fe_sq(FB, p + Y);
  fe_sq(FC, p + Z);
  fe_add(FC, FC, FC);
  fe_add(FE, p + X, p + Y);
  fe_sq(FE, FE);
  fe_sub(FE, FE, FA);
  fe_sub(FE, FE, FB);
  fe_sub(FG, FB, FA);
  fe_sub(FF, FG, FC);
  fe_add(FH, FA, FB);
  fe_neg(FH, FH);
  finish(r);
}

/** True when p is the identity: X = 0 and Y = Z (then T = 0 too). */
export function ge_is_identity(p: usize): bool {
  if (!fe_iszero(p + X)) return false;
  fe_sub(FA, p + Y, p + Z);
  return fe_iszero(FA);
}

/** r = [8] p: three doublings, which clear any component of small order. */
export function ge_mul_by_cofactor(r: usize, p: usize): void {
  ge_double(r, p);
  ge_double(r, r);
  ge_double(r, r);
}

// Scratch of decoding.
const DEC_U: usize = memory.data(80, 16);
const DEC_V: usize = memory.data(80, 16);
const DEC_Y2: usize = memory.data(80, 16);
const DEC_P: usize = memory.data(<i32>POINT_BYTES, 16);

/** p = 2^255 - 19 as its little-endian 64-bit words. */
const P_WORD0: u64 = 0xffffffffffffffed;
const P_WORD_MID: u64 = 0xffffffffffffffff;
const P_WORD3: u64 = 0x7fffffffffffffff;

/** y (the encoding without bit 255) < p: y >= p only for 2^255 - 19 .. 2^255 - 1. */
function isCanonicalY(s: usize): bool {
  const w3 = load<u64>(s, 24) & P_WORD3;
  if (w3 != P_WORD3) return true;
  if (load<u64>(s, 16) != P_WORD_MID || load<u64>(s, 8) != P_WORD_MID) return true;
  return load<u64>(s, 0) < P_WORD0;
}

/**
 * Decodes the 32-byte encoding at s into affine (x, y) following RFC 8032
 * section 5.1.3: y must be < p (step 1), x^2 = (y^2 - 1) / (d y^2 + 1) must
 * have a root (steps 2-3), x = 0 with the sign bit set is rejected and the
 * root with the sign bit's parity is taken (step 4). Returns false when any
 * step fails. x and y come out as carried field elements.
 */
export function ge_decode(x: usize, y: usize, s: usize): bool {
  if (!isCanonicalY(s)) return false;
  const signBit = (load<u8>(s, 31) >> 7) != 0;
  fe_frombytes(y, s);
  fe_sq(DEC_Y2, y);
  fe_one(DEC_V);
  fe_sub(DEC_U, DEC_Y2, DEC_V); //    u = y^2 - 1
  fe_mul(DEC_V, DEC_Y2, FE_D);
  fe_one(DEC_Y2);
  fe_add(DEC_V, DEC_V, DEC_Y2); //    v = d y^2 + 1
  if (!fe_sqrt_ratio(x, DEC_U, DEC_V)) return false;
  const xIsZero = fe_iszero(x);
  if (xIsZero && signBit) return false;
  if (fe_isodd(x) != signBit) fe_neg(x, x);
  return true;
}

/** True when the affine point (x, y) has order 1, 2, 4 or 8: [8] P is the identity. */
export function ge_is_small_order(x: usize, y: usize): bool {
  ge_from_affine(DEC_P, x, y);
  ge_mul_by_cofactor(DEC_P, DEC_P);
  return ge_is_identity(DEC_P);
}

const ENC_ZINV: usize = memory.data(80, 16);
const ENC_X: usize = memory.data(80, 16);
const ENC_Y: usize = memory.data(80, 16);

/** The canonical encoding of the extended point p (RFC 8032 section 5.1.2). */
export function ge_encode(s: usize, p: usize): void {
  fe_invert(ENC_ZINV, p + Z);
  fe_mul(ENC_X, p + X, ENC_ZINV);
  fe_mul(ENC_Y, p + Y, ENC_ZINV);
  fe_tobytes(s, ENC_Y);
  if (fe_isodd(ENC_X)) store<u8>(s, load<u8>(s, 31) | 0x80, 31);
}

/** The base point B in niels form, built once. */
export const BASE_NIELS: usize = memory.data(<i32>NIELS_BYTES, 16);
niels_from_affine(BASE_NIELS, FE_BASE_X, FE_BASE_Y);
