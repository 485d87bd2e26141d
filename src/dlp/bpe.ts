/**
 * Characters per BPE token: how well a language model's tokenizer compresses
 * a value. Words, identifiers and paths are made of frequent pieces (4-7
 * characters per token in cl100k_base); random keys split into one- and
 * two-character tokens. Shannon entropy only counts symbol frequencies, so a
 * long camelCase name scores like a key; this measure sees the words.
 *
 * The rank table (cl100k_base from js-tiktoken) loads on first use, once per
 * process, and only its printable-ASCII tokens without spaces are kept (the
 * values judged contain no whitespace): 49,311 of 100,256 tokens, about 4 MB
 * of heap (js-tiktoken's own encoder holds about 33 MB of heap and 87 MB of
 * RSS for the same table). Token counts are exact for printable ASCII; any
 * other character counts one token per UTF-8 byte.
 */
import { createRequire } from 'node:module';

interface RankFile {
  readonly pat_str: string;
  readonly bpe_ranks: string;
}

interface Table {
  readonly ranks: Map<string, number>;
  readonly split: RegExp;
}

let table: Table | undefined;

function isRankFile(x: unknown): x is RankFile {
  return typeof x === 'object' && x !== null && typeof (x as { pat_str?: unknown }).pat_str === 'string' && typeof (x as { bpe_ranks?: unknown }).bpe_ranks === 'string';
}

const PRINTABLE = /^[\x21-\x7e]+$/;

/** Loads and compacts the rank table (about 100 ms, once). */
function load(): Table {
  if (table !== undefined) return table;
  // A runtime require (not a static import): the bundler leaves the 1 MB table out, and nothing loads it until a value needs judging.
  const req = createRequire(import.meta.url);
  const id = req.resolve('js-tiktoken/ranks/cl100k_base');
  const mod: unknown = req(id);
  const data: unknown = typeof mod === 'object' && mod !== null && 'default' in mod ? mod.default : mod;
  if (!isRankFile(data)) throw new Error('js-tiktoken/ranks/cl100k_base: unexpected format (pat_str and bpe_ranks strings expected)');
  const ranks = new Map<string, number>();
  // Each line: `<first token> <rank of the first> <token> <token>...`, tokens in base64.
  for (const line of data.bpe_ranks.split('\n')) {
    if (line.length === 0) continue;
    const parts = line.split(' ');
    const offset = Number.parseInt(parts[1] ?? '', 10);
    for (let i = 2; i < parts.length; i++) {
      const bytes = atob(parts[i] ?? '');
      if (PRINTABLE.test(bytes)) ranks.set(bytes, offset + i - 2);
    }
  }
  // The module's 1 MB source string is not needed any more.
  delete req.cache[id];
  table = { ranks, split: new RegExp(data.pat_str, 'gu') };
  return table;
}

/** Whether the table has been loaded in this process (for tests and the benchmark's cost report). */
export function bpeLoaded(): boolean {
  return table !== undefined;
}

/**
 * Byte-pair merges of one pre-token: the number of tokens. The rank of each
 * adjacent pair is kept and only the two pairs next to a merge are looked up
 * again, so a piece of n characters costs O(n) table lookups.
 */
function pieceTokens(piece: string, ranks: Map<string, number>): number {
  if (piece.length <= 1 || ranks.has(piece)) return piece.length === 0 ? 0 : 1;
  if (!PRINTABLE.test(piece)) return Buffer.byteLength(piece, 'utf8');
  // Part j is [cut[j], cut[j + 1]); pair[j] is the rank of parts j and j + 1 merged.
  const cut: number[] = [];
  for (let i = 0; i <= piece.length; i++) cut.push(i);
  const NONE = Number.POSITIVE_INFINITY;
  const rankOf = (j: number): number => (j >= 0 && j + 2 < cut.length ? (ranks.get(piece.slice(cut[j], cut[j + 2])) ?? NONE) : NONE);
  const pair: number[] = [];
  for (let j = 0; j + 2 < cut.length; j++) pair.push(rankOf(j));
  for (;;) {
    let best = -1;
    let bestRank = NONE;
    for (let j = 0; j < pair.length; j++) {
      const r = pair[j]!;
      if (r < bestRank) {
        bestRank = r;
        best = j;
      }
    }
    if (best < 0) return cut.length - 1;
    cut.splice(best + 1, 1);
    pair.splice(best, 1);
    if (best < pair.length) pair[best] = rankOf(best);
    if (best > 0) pair[best - 1] = rankOf(best - 1);
  }
}

/** cl100k_base token count of `s` (exact for printable ASCII). */
export function bpeTokenCount(s: string): number {
  const { ranks, split } = load();
  let n = 0;
  for (const m of s.matchAll(split)) n += pieceTokens(m[0], ranks);
  return n;
}

/** Recent answers: source code repeats the same values (the same name assigned in many places). */
const recent = new Map<string, number>();
const RECENT_MAX = 4096;

/** Characters per cl100k_base token: about 1-2 for random keys, 4 and more for words, names and paths. */
export function charsPerToken(s: string): number {
  const known = recent.get(s);
  if (known !== undefined) return known;
  const n = bpeTokenCount(s);
  const cpt = n === 0 ? 0 : s.length / n;
  if (recent.size >= RECENT_MAX) recent.clear();
  if (s.length <= 256) recent.set(s, cpt);
  return cpt;
}
