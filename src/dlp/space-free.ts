/**
 * Whether a detector's pattern can never match an ASCII whitespace character
 * (tab, line feed, vertical tab, form feed, carriage return, space). The
 * engine then ends a detector's window at the first whitespace after the
 * keyword (that character included, for a lookahead to see it) instead of
 * `maxLength` characters on: the same matches, a fraction of the bytes read.
 *
 * Conservative, read from the pattern's source: anything it cannot vouch for
 * (`.`, `\s`, `\W`, `\D`, `\x..`, `\u..`, `\p{..}`, control escapes, a
 * literal space or control or non-ASCII character, a negated class that does
 * not exclude `\s`) makes the answer false.
 */

/** Escapes (after `\`) that match no whitespace: classes, literal punctuation and letters, boundaries, backreferences. */
const SAFE_ESCAPES = new Set([...'dwSbBk123456789', ...'.-/+=_$^*?()[]{}|\\"\'`<>:@#!~&%,;']);

/** Whitespace characters a space-free pattern cannot match (ASCII only: a cut is made only at these). */
export function isAsciiSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

export function cannotMatchSpace(source: string): boolean {
  let inClass = false;
  let negated = false;
  let excludesSpace = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source.charAt(i);
    const code = source.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) return false;
    if (ch === '\\') {
      const e = source.charAt(i + 1);
      i++;
      if (inClass && e === 's') {
        excludesSpace = true;
        continue;
      }
      if (inClass && e === 'b') return false; // [\b] is a backspace character
      if (!SAFE_ESCAPES.has(e)) return false;
      continue;
    }
    if (inClass) {
      if (ch === ']') {
        if (negated && !excludesSpace) return false;
        if (!negated && excludesSpace) return false; // [\s...] matches whitespace
        inClass = false;
      }
      continue;
    }
    if (ch === '[') {
      inClass = true;
      negated = source.charAt(i + 1) === '^';
      if (negated) i++;
      excludesSpace = false;
      continue;
    }
    if (ch === '.') return false;
  }
  return !inClass;
}
