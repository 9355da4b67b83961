/** mulberry32: a tiny seeded 32-bit PRNG (values in [0, 1)); see prng.mjs. */
export function mulberry32(seed: number): () => number;
