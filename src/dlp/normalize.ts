/**
 * Unicode normalisation before matching: zero-width, bidi, tag and other
 * invisible format characters are removed and compatibility forms folded
 * (NFKC), so `A\u200bKIA…` or full-width `ＡＫＩＡ…` still match. `map[i]` is the
 * offset in the original text of normalised character `i` (approximate after
 * NFKC changes lengths: the offset of the character it came from).
 */

const INVISIBLE = new RegExp(`^(?:${['\\u00ad', '\\u034f', '\\u061c', '\\u115f', '\\u1160', '\\u17b4', '\\u17b5', '[\\u180b-\\u180f]', '[\\u200b-\\u200f]', '[\\u202a-\\u202e]', '[\\u2060-\\u206f]', '\\u3164', '[\\ufe00-\\ufe0f]', '\\ufeff', '\\uffa0', '[\\u{1d173}-\\u{1d17a}]', '[\\u{e0000}-\\u{e0fff}]'].join('|')})$`, 'u');

export interface Normalized {
  readonly text: string;
  readonly map: Int32Array;
}

/** Whether the text needs normalising at all (cheap test: any character outside ASCII). */
export function needsNormalizing(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7e) return true;
  return false;
}

export function normalizeText(text: string): Normalized | undefined {
  if (!needsNormalizing(text)) return undefined;
  let out = '';
  const map: number[] = [];
  let i = 0;
  for (const ch of text) {
    const at = i;
    i += ch.length;
    if (INVISIBLE.test(ch)) continue;
    const code = ch.codePointAt(0) ?? 0;
    const n = code > 0x7e ? ch.normalize('NFKC') : ch;
    for (let k = 0; k < n.length; k++) map.push(at);
    out += n;
  }
  if (out === text) return undefined;
  return { text: out, map: Int32Array.from(map) };
}

/** Latin letters mixed with Cyrillic or Greek letters inside one word: a homoglyph disguise (`cаt /еtc/pаsswd`). */
const MIXED = /(?=[\p{L}]{0,40}\p{Script=Latin})(?=[\p{L}]{0,40}[\p{Script=Cyrillic}\p{Script=Greek}])[\p{L}]{2,40}/gu;

/** Any character of the scripts `MIXED` looks for: without one, its second look-ahead never holds. */
const CYRILLIC_OR_GREEK = /[\p{Script=Cyrillic}\p{Script=Greek}]/u;
const LATIN = /\p{Script=Latin}/u;
const LETTER_RUN = /\p{L}+/gu;

/**
 * Words of `MIXED`, at most 16. Every match lies inside one run of letters
 * (its look-aheads and its body read letters only) and holds a Latin and a
 * Cyrillic or Greek character, so only the runs with both are searched, each
 * on its own (what the search over the whole text finds in it): `MIXED`
 * tries two look-aheads of up to 40 letters at every position, which cost
 * ~0.5 s per MiB of text beyond latin1, and as much again on Russian or
 * Greek prose.
 */
export function findMixedScriptWords(text: string): { index: number; word: string }[] {
  if (!CYRILLIC_OR_GREEK.test(text) || !LATIN.test(text)) return [];
  const out: { index: number; word: string }[] = [];
  for (const run of text.matchAll(LETTER_RUN)) {
    const letters = run[0];
    if (letters.length < 2 || !LATIN.test(letters) || !CYRILLIC_OR_GREEK.test(letters)) continue;
    for (const m of letters.matchAll(MIXED)) {
      if (LATIN.test(m[0]) && CYRILLIC_OR_GREEK.test(m[0])) out.push({ index: run.index + m.index, word: m[0] });
      if (out.length >= 16) return out;
    }
  }
  return out;
}

/** Characters that trigger normalisation: invisible format characters and full-width ASCII forms. */
const TRIGGER = /[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\uff01-\uff5e\u{e0000}-\u{e007f}]/gu;
/** TRIGGER without the global flag: whether a text holds any (no lastIndex state). */
const TRIGGER_ANY = new RegExp(TRIGGER.source, 'u');

const RADIUS = 256;
const MAX_WINDOWS = 256;

function merge(points: number[], limit: number): { start: number; end: number }[] {
  points.sort((a, b) => a - b);
  const out: { start: number; end: number }[] = [];
  for (const p of points) {
    const s = Math.max(0, p - RADIUS);
    const e = Math.min(limit, p + RADIUS);
    const last = out[out.length - 1];
    if (last !== undefined && s <= last.end) last.end = Math.max(last.end, e);
    else if (out.length < MAX_WINDOWS) out.push({ start: s, end: e });
  }
  return out;
}

/** Windows of a string around characters that normalisation changes. */
export function normalizationWindowsText(text: string): { start: number; end: number }[] {
  // Most texts hold no trigger at all: one test, no match iterator.
  if (!TRIGGER_ANY.test(text)) return [];
  const points: number[] = [];
  for (const m of text.matchAll(TRIGGER)) {
    points.push(m.index);
    if (points.length >= MAX_WINDOWS * 4) break;
  }
  return merge(points, text.length);
}

/** Windows of a UTF-8 buffer (byte offsets) around the trigger positions the prefilter reported. */
export function normalizationWindowsBytes(buf: Buffer, triggers: readonly number[]): { start: number; end: number }[] {
  return merge([...triggers], buf.length);
}
