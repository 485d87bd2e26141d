/**
 * How random a candidate value looks. Shannon entropy alone ranks
 * `SuperLongVariableName` close to a real key; two more signals separate them:
 * how often the character class changes (lower/upper/digit/symbol: random
 * base62 switches class on about half its characters, identifiers on few),
 * and how much of the value is made of common English/code words.
 */

export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
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
  /** Strongly random: long, high entropy and frequent class switches. */
  readonly strong: boolean;
  readonly entropy: number;
}

/**
 * The verdict used by generic and context detectors. Entropy is normalised by
 * the best possible for the length (a 12-character value cannot exceed
 * log2(12) bits per character).
 */
export function judgeRandomness(s: string): RandomnessVerdict {
  const entropy = shannonEntropy(s);
  const maxFor = Math.log2(Math.min(s.length, 64));
  const norm = maxFor > 0 ? entropy / maxFor : 0;
  const classes = new Set(Array.from(s, (ch) => cls(ch.charCodeAt(0)))).size;
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
