// Seeded randomness for tests: a failing run can be replayed with the same seed.

/** mulberry32: a tiny 32-bit PRNG, plenty for choosing test inputs reproducibly (not for keys). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
