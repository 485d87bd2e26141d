/**
 * Redaction of secret samples and escaping of text for display. Records never
 * carry a secret: every finding sample goes through `ensureRedacted` before it
 * is written.
 */

const ELLIPSIS = '…';
const MIN_REVEAL_LENGTH = 16;
const REVEAL = 4;

/**
 * A sample that is safe to store: at most the first and last 4 characters of a
 * value of 16 characters or more (`AKIA…MPLE`); shorter values reveal only
 * their length (`…(12 chars)`). Lengths count code points, not UTF-16 units.
 */
export function redactSample(secret: string): string {
  const chars = Array.from(secret);
  if (chars.length < MIN_REVEAL_LENGTH) return `${ELLIPSIS}(${chars.length} chars)`;
  return chars.slice(0, REVEAL).join('') + ELLIPSIS + chars.slice(-REVEAL).join('');
}

const LENGTH_ONLY = /^\u2026\(\d+ chars\)$/u; // \u2026 is the ellipsis (written escaped: the run bundle stays ASCII, see run-loader.ts)
const HEAD_TAIL = /^[^\u2026]{0,4}\u2026[^\u2026]{0,4}$/u;

/**
 * Whether a sample already has one of the shapes `redactSample` produces. The
 * test is stricter than "contains `…`": a value such as `AKIAIOSFODNN7EXAMPLE…`
 * contains an ellipsis but still reveals the whole key.
 */
export function isRedacted(sample: string): boolean {
  return LENGTH_ONLY.test(sample) || HEAD_TAIL.test(sample);
}

/** The sample itself when it is already redacted, otherwise its redaction. */
export function ensureRedacted(sample: string): string {
  return isRedacted(sample) ? sample : redactSample(sample);
}

/**
 * Characters that change how text looks without being visible: C0/C1 controls
 * and DEL (Cc), format characters (Cf: bidi controls, zero-width space/joiners,
 * word joiner, BOM, soft hyphen, Unicode tag characters), line and paragraph
 * separators, lone surrogates, and variation selectors (used to smuggle bytes
 * inside an innocent-looking character).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u{FE00}-\u{FE0F}\u{E0100}-\u{E01EF}]/gu;

function hex(ch: string): string {
  return (ch.codePointAt(0) ?? 0).toString(16);
}

/**
 * Makes every invisible or direction-changing character visible as a
 * `\u{..}` escape, so that what a person reads is what the record contains.
 * Nothing is removed or shortened.
 */
export function sanitizeForDisplay(s: string): string {
  return s.replace(INVISIBLE, (ch) => `\\u{${hex(ch)}}`);
}

/**
 * Escapes the same characters as `\uXXXX` JSON escapes inside a serialised
 * JSON text, so raw JSON output is safe for a terminal and still parses to the
 * same value. (Such characters can only occur inside strings in valid JSON.)
 */
export function escapeJsonForDisplay(json: string): string {
  return json.replace(INVISIBLE, (ch) => {
    let out = '';
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}
