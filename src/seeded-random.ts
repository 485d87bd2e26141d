/**
 * A small seeded pseudo-random generator (mulberry32) for tests and
 * benchmarks: the same sequence for the same seed in every run, so a failing
 * random case can be replayed. Floats in [0, 1); scale them (`Math.floor(r() * n)`),
 * never take `% n` of raw low bits. Not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
