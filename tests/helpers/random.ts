// Seeded randomness for tests: a failing run can be replayed with the same seed.

/** mulberry32: a tiny 32-bit PRNG, plenty for choosing test inputs reproducibly (not for keys); shared with the bench scripts. */
export { mulberry32 } from '../../bench/lib/prng.mjs';
