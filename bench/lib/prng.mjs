// mulberry32: a small seeded PRNG for the bench scripts, so generated data is the
// same on every run with one seed (the tests have theirs in tests/helpers/random.ts;
// the scripts run over dist/ as plain ESM and cannot import TypeScript helpers).
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
