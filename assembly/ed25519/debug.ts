/**
 * Debug build entry: the release exports plus the internals the tests check
 * against a BigInt reference (tests/wasm-ed25519.test.ts). Not in the release build.
 */
export { batch_input, batch_prepare, batch_check, batch_set_msm } from './batch';
export { arena_alloc, arena_reset } from './arena';
export { fe_mul, fe_sq, fe_add, fe_sub, fe_invert, fe_sqrt_ratio, fe_frombytes, fe_tobytes, fe_carry, fe_pow22523 } from './field';
export { ge_decode, ge_is_small_order, ge_from_affine, ge_encode, ge_double, ge_add_niels, niels_from_affine, ge_mul_by_cofactor, ge_is_identity } from './point';
export { sc_reduce512, sc_mul, sc_add, sc_neg, sc_is_canonical } from './scalar';
export { msm, chooseWindowBits } from './msm';
