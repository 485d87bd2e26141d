/**
 * How random a candidate value looks. Shannon entropy alone ranks
 * `SuperLongVariableName` close to a real key; two more signals separate them:
 * how often the character class changes (lower/upper/digit/symbol: random
 * base62 switches class on about half its characters, identifiers on few),
 * and how much of the value is made of common English/code words.
 * `judgeByTokens` replaces all three for key-like values with one measure:
 * characters per BPE token (`bpe.ts`).
 */
import { charsPerToken } from './bpe.js';

const ASCII_COUNTS = new Int32Array(128);

export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  let ascii = true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) ascii = false;
  if (!ascii) {
    const counts = new Map<string, number>();
    for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    return entropyOf(counts.values(), s.length);
  }
  // ASCII (almost every candidate): counts in a reused table, cleared after use.
  const counts = ASCII_COUNTS;
  for (let i = 0; i < s.length; i++) counts[s.charCodeAt(i)]!++;
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const n = counts[c]!;
    if (n === 0) continue;
    const p = n / s.length;
    h -= p * Math.log2(p);
    counts[c] = 0;
  }
  return h;
}

function entropyOf(counts: Iterable<number>, total: number): number {
  let h = 0;
  for (const n of counts) {
    const p = n / total;
    h -= p * Math.log2(p);
  }
  return h;
}

function cls(c: number): number {
  if (c >= 97 && c <= 122) return 0;
  if (c >= 65 && c <= 90) return 1;
  if (c >= 48 && c <= 57) return 2;
  return 3;
}

/** Fraction of adjacent character pairs whose class differs. */
export function classSwitchRate(s: string): number {
  if (s.length < 2) return 0;
  let sw = 0;
  for (let i = 1; i < s.length; i++) if (cls(s.charCodeAt(i)) !== cls(s.charCodeAt(i - 1))) sw++;
  return sw / (s.length - 1);
}

const WORDS = /(?:password|passwd|secret|token|example|sample|dummy|test|change|replace|your|value|default|placeholder|string|config|environ|process|local|admin|user|name|key|api|auth|access|client|server|http|false|true|null|undefined|function|return|const|this|that|with|from|data)/gi;

/** Fraction of the value covered by common words (case-insensitive). */
export function wordCoverage(s: string): number {
  if (s.length === 0) return 0;
  let covered = 0;
  for (const m of s.matchAll(WORDS)) covered += m[0].length;
  return covered / s.length;
}

export interface RandomnessVerdict {
  readonly random: boolean;
  /** Strongly random: long, high entropy and frequent class switches (or few characters per token). */
  readonly strong: boolean;
  readonly entropy: number;
  /** Characters per cl100k_base token, when the tokenizer was asked. */
  readonly charsPerToken?: number;
}

/** A verdict on a candidate value; the generic detectors take one (the benchmark compares them). */
export type RandomnessJudge = (s: string) => RandomnessVerdict;

/**
 * The verdict used by generic and context detectors. Entropy is normalised by
 * the best possible for the length (a 12-character value cannot exceed
 * log2(12) bits per character).
 */
export function judgeRandomness(s: string): RandomnessVerdict {
  const entropy = shannonEntropy(s);
  const maxFor = Math.log2(Math.min(s.length, 64));
  const norm = maxFor > 0 ? entropy / maxFor : 0;
  let mask = 0;
  for (let i = 0; i < s.length; i++) mask |= 1 << cls(s.charCodeAt(i));
  const classes = (mask & 1) + ((mask >> 1) & 1) + ((mask >> 2) & 1) + ((mask >> 3) & 1);
  const sw = classSwitchRate(s);
  const words = wordCoverage(s);
  const random = s.length >= 12 && norm >= 0.72 && classes >= 2 && sw >= 0.18 && words <= 0.5;
  const strong = random && s.length >= 20 && entropy >= 3.8 && sw >= 0.3 && words <= 0.25;
  return { random, strong, entropy };
}

/** Entropy-only verdict (for the benchmark's comparison of false positives). */
export function judgeEntropyOnly(s: string): boolean {
  return s.length >= 12 && shannonEntropy(s) >= 3.0;
}

const HEX_ONE_CASE = /^(?:[0-9a-f]+|[0-9A-F]+)$/;

/** At most this many characters per token: random (keys: 1.1-2.0; identifiers, names and paths: 3-7). */
export const BPE_RANDOM_MAX = 2.4;
/** At most this many, on 20 characters or more: strongly random. */
export const BPE_STRONG_MAX = 2.0;

/**
 * The verdict for values next to key-like names: characters per BPE token.
 * Cheap exits first (short, or few distinct characters for the length), so
 * the tokenizer (and its rank table, loaded on first use) runs only on
 * values that could be random.
 */
export function judgeByTokens(s: string): RandomnessVerdict {
  const entropy = shannonEntropy(s);
  const maxFor = Math.log2(Math.min(s.length, 64));
  if (s.length < 12 || entropy < 0.6 * maxFor) return { random: false, strong: false, entropy };
  const cpt = charsPerToken(s);
  const random = cpt <= BPE_RANDOM_MAX;
  // Hex of one case is as often a digest or a commit id as a key: reported, never strong.
  const strong = random && s.length >= 20 && cpt <= BPE_STRONG_MAX && !HEX_ONE_CASE.test(s);
  return { random, strong, entropy, charsPerToken: cpt };
}
