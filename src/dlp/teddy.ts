/**
 * Tables of the SIMD filter (the "Teddy" scheme of Hyperscan): keywords are
 * put in 16 buckets; for each of a position's first four bytes, two 16-entry
 * tables indexed by its low and its high nibble give the buckets that allow
 * that byte there (two 8-bucket halves, so four tables per byte). A position
 * is a candidate when some bucket allows all four bytes. Tables only
 * over-approximate (a bucket allows every nibble combination of its
 * keywords, and every byte past the end of a short keyword), so no keyword
 * occurrence is ever filtered out; the trie walk decides.
 *
 * Buckets are assigned greedily, longest prefixes first, each to the bucket
 * whose pass rate grows least under a rough model of text (lowercase letters
 * and spaces common, high bytes rare): measured on the bench corpus, 0.9% of
 * positions pass and 89% of 16-byte blocks have none.
 */
import { TEDDY_BYTES, TEDDY_TABLE } from './prefilter-wasm.js';

const BUCKETS = 16;
const ROUNDS = 3;

/** Rough frequency of each byte in source code and traffic. */
const WEIGHT: Float64Array = (() => {
  const w = new Float64Array(256);
  for (let b = 0; b < 256; b++) {
    w[b] = b >= 97 && b <= 122 ? 3 : b === 32 ? 8 : b === 10 ? 2 : b > 32 && b < 127 ? 1 : b >= 128 ? 0.05 : 0.01;
  }
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
})();

/** SUMS[h * 512 + x]: weight of the bytes with high nibble h and low nibble in the set x (low byte of the set), +256 for its high byte. */
const SUMS: Float64Array = (() => {
  const t = new Float64Array(16 * 512);
  for (let h = 0; h < 16; h++) {
    for (let x = 0; x < 256; x++) {
      let lo = 0;
      let hi = 0;
      for (let l = 0; l < 8; l++) {
        if (((x >> l) & 1) !== 0) {
          lo += WEIGHT[(h << 4) | l] ?? 0;
          hi += WEIGHT[(h << 4) | (l + 8)] ?? 0;
        }
      }
      t[h * 512 + x] = lo;
      t[h * 512 + 256 + x] = hi;
    }
  }
  return t;
})();

/** Probability that a byte has its low nibble in `lo` and its high nibble in `hi` (16-bit sets). */
function pass(lo: number, hi: number): number {
  let p = 0;
  for (let h = 0; h < 16; h++) if (((hi >> h) & 1) !== 0) p += (SUMS[h * 512 + (lo & 255)] ?? 0) + (SUMS[h * 512 + 256 + (lo >> 8)] ?? 0);
  return p;
}

const built = new Map<string, Uint8Array>();

/**
 * The filter's tables (`TEDDY_BYTES * TEDDY_TABLE` bytes) for keywords given
 * as bytes; built once per keyword set (a few milliseconds), then shared.
 */
export function teddyTables(keywords: readonly Uint8Array[]): Uint8Array {
  const key = keywords.map((k) => Buffer.from(k).toString('latin1')).join('\0');
  let tables = built.get(key);
  if (tables === undefined) {
    tables = buildTables(keywords);
    if (built.size >= 16) built.clear();
    built.set(key, tables);
  }
  return tables;
}

function buildTables(keywords: readonly Uint8Array[]): Uint8Array {
  const K = TEDDY_BYTES;
  const seen = new Set<string>();
  const prefixes: Uint8Array[] = [];
  for (const k of keywords) {
    const p = k.subarray(0, K);
    const key = Buffer.from(p).toString('latin1');
    if (!seen.has(key)) {
      seen.add(key);
      prefixes.push(p);
    }
  }
  prefixes.sort((a, b) => b.length - a.length);
  const n = prefixes.length;
  // Nibble sets (16-bit) of each prefix at each of the K bytes; every nibble past a short prefix's end.
  const plo = new Int32Array(n * K);
  const phi = new Int32Array(n * K);
  prefixes.forEach((p, i) => {
    for (let k = 0; k < K; k++) {
      const ch = p[k];
      plo[i * K + k] = ch === undefined ? 0xffff : 1 << (ch & 15);
      phi[i * K + k] = ch === undefined ? 0xffff : 1 << (ch >> 4);
    }
  });
  const blo = new Int32Array(BUCKETS * K);
  const bhi = new Int32Array(BUCKETS * K);
  const rates = new Float64Array(BUCKETS);
  const owner = new Int32Array(n).fill(-1);
  // counts[(b * K + k) * 32 + nibble]: prefixes of bucket b allowing that low (0-15) or high (16-31) nibble at byte k.
  const counts = new Int32Array(BUCKETS * K * 32);
  const count = (b: number, p: number, d: number): void => {
    for (let k = 0; k < K; k++) {
      const at = (b * K + k) * 32;
      let lo = 0;
      let hi = 0;
      for (let nb = 0; nb < 16; nb++) {
        if ((((plo[p * K + k] ?? 0) >> nb) & 1) !== 0) counts[at + nb] = (counts[at + nb] ?? 0) + d;
        if ((((phi[p * K + k] ?? 0) >> nb) & 1) !== 0) counts[at + 16 + nb] = (counts[at + 16 + nb] ?? 0) + d;
        if ((counts[at + nb] ?? 0) > 0) lo |= 1 << nb;
        if ((counts[at + 16 + nb] ?? 0) > 0) hi |= 1 << nb;
      }
      blo[b * K + k] = lo;
      bhi[b * K + k] = hi;
    }
    rates[b] = rateWith(b, -1);
  };
  const rateWith = (b: number, p: number): number => {
    let r = 1;
    for (let k = 0; k < K; k++) r *= pass((blo[b * K + k] ?? 0) | (p < 0 ? 0 : (plo[p * K + k] ?? 0)), (bhi[b * K + k] ?? 0) | (p < 0 ? 0 : (phi[p * K + k] ?? 0)));
    return r;
  };
  const place = (p: number): void => {
    let best = 0;
    let bestGrowth = Number.POSITIVE_INFINITY;
    for (let b = 0; b < BUCKETS; b++) {
      const growth = rateWith(b, p) - (rates[b] ?? 0);
      if (growth < bestGrowth) {
        bestGrowth = growth;
        best = b;
      }
    }
    count(best, p, 1);
    owner[p] = best;
  };
  for (let p = 0; p < n; p++) place(p);
  // Local search: take each prefix out of its bucket and place it again where it now costs least.
  for (let round = 0; round < ROUNDS; round++) {
    for (let p = 0; p < n; p++) {
      count(owner[p] ?? 0, p, -1);
      place(p);
    }
  }
  const tables = new Uint8Array(K * TEDDY_TABLE);
  for (let b = 0; b < BUCKETS; b++) {
    const half = b < 8 ? 0 : 32;
    const bit = 1 << (b & 7);
    for (let k = 0; k < K; k++) {
      const base = k * TEDDY_TABLE + half;
      for (let nb = 0; nb < 16; nb++) {
        if ((((blo[b * K + k] ?? 0) >> nb) & 1) !== 0) tables[base + nb] = (tables[base + nb] ?? 0) | bit;
        if ((((bhi[b * K + k] ?? 0) >> nb) & 1) !== 0) tables[base + 16 + nb] = (tables[base + 16 + nb] ?? 0) | bit;
      }
    }
  }
  return tables;
}
