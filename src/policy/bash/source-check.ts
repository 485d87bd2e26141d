/**
 * Checks on the raw command text before any parsing: size, and characters
 * that make what a person reads differ from what the shell runs.
 */

/** Sources longer than this are not parsed at all (bounded work). */
export const MAX_SOURCE_BYTES = 64 * 1024;

// C0 controls except tab and newline (so `\r` is included), DEL and C1.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/u;
// Zero-width, line/paragraph separators, bidi controls, word joiners, BOM,
// soft hyphen, Mongolian vowel separator and tag characters.
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u2028\u2029\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u{E0000}-\u{E007F}]/u;

/** Reasons the text itself is unsafe; an oversized source also means "do not parse". */
export function checkSource(source: string): { readonly reasons: string[]; readonly parse: boolean } {
  if (Buffer.byteLength(source, 'utf8') > MAX_SOURCE_BYTES) {
    return { reasons: [`The command is longer than ${MAX_SOURCE_BYTES / 1024} KiB and was not analysed.`], parse: false };
  }
  const reasons: string[] = [];
  if (CONTROL.test(source)) reasons.push('The command contains control characters.');
  if (INVISIBLE.test(source)) reasons.push('The command contains invisible or bidirectional-override characters.');
  return { reasons, parse: true };
}
