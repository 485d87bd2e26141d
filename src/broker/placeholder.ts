/**
 * Placeholders: what the agent sees instead of a real credential. Same
 * length, same known prefix (so clients that check the shape accept it),
 * random per session from the alphabet of the real value's body. The random
 * part is marked: its last characters are a keyed tag (session key) over the
 * rest, so a component holding the key can tell a placeholder of this session
 * from a look-alike (`isPlaceholder`); the proxy also knows each placeholder
 * exactly, and placeholders are not secrets.
 */
import { createHmac, randomInt } from 'node:crypto';

/** Known credential prefixes, longest first: kept verbatim in the placeholder. */
export const KNOWN_PREFIXES: readonly string[] = [
  'sk-ant-api03-', 'sk-ant-admin01-', 'sk-ant-', 'sk-proj-', 'sk-svcacct-', 'github_pat_', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_',
  'glpat-', 'xoxb-', 'xoxp-', 'xoxa-', 'xapp-', 'npm_', 'hf_', 'AKIA', 'ASIA', 'AIza', 'sk_live_', 'rk_live_', 'sk-',
];

/** Characters kept in place: structure, not entropy (`-` separates segments in Slack-style tokens). */
const SEPARATORS = new Set(['-']);
const CLASSES = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'] as const;
/** Characters of the mark (tag) at the end of the body. */
const MARK_LENGTH = 4;

export function knownPrefix(value: string): string {
  return KNOWN_PREFIXES.find((p) => value.startsWith(p)) ?? '';
}

/**
 * The alphabet of one body: every class (digits, lower, upper) any character
 * of it belongs to, plus other characters it uses (`_`, `+`, `/`...). Using the
 * whole class rather than the characters seen keeps the placeholder from
 * mirroring the real value.
 */
function alphabetOf(body: string): string {
  let out = '';
  for (const c of CLASSES) if ([...body].some((ch) => c.includes(ch))) out += c;
  return out + [...new Set(body)].filter((ch) => !SEPARATORS.has(ch) && !CLASSES.some((c) => c.includes(ch)) && ch !== '=').sort().join('');
}

/** A mark over `text` in `alphabet`: MARK_LENGTH characters derived from an HMAC under the session key. */
function mark(key: Buffer, text: string, alphabet: string): string {
  const mac = createHmac('sha256', key).update(text).digest();
  let out = '';
  for (let i = 0; i < MARK_LENGTH; i++) out += alphabet.charAt((mac[i] ?? 0) % alphabet.length);
  return out;
}

/** Positions of the body that carry random characters (not separators, not base64 padding at the end). */
function randomPositions(body: string): number[] {
  const pad = /=+$/.exec(body)?.[0].length ?? 0;
  const out: number[] = [];
  for (let i = 0; i < body.length - pad; i++) if (!SEPARATORS.has(body.charAt(i))) out.push(i);
  return out;
}

/**
 * A placeholder for `real`: known prefix kept, then the body with separators
 * and trailing `=` padding in place and every other character drawn at random
 * from the body's alphabet; the last MARK_LENGTH random positions hold the mark.
 */
export function makePlaceholder(real: string, key: Buffer): string {
  const prefix = knownPrefix(real);
  const body = real.slice(prefix.length);
  const alphabet = alphabetOf(body);
  const positions = randomPositions(body);
  if (alphabet.length < 2 || positions.length < 12) {
    // Too short or too uniform to mimic safely: a plain random token of the same length.
    return randomString(CLASSES.join(''), real.length);
  }
  for (;;) {
    const chars = [...body];
    for (const i of positions) chars[i] = alphabet.charAt(randomInt(alphabet.length));
    const markAt = positions.slice(-MARK_LENGTH);
    const unmarked = prefix + chars.join('');
    const m = mark(key, withoutPositions(unmarked, prefix.length, markAt), markAlphabet(alphabet));
    markAt.forEach((pos, j) => (chars[pos] = m.charAt(j)));
    const out = prefix + chars.join('');
    if (out !== real) return out;
  }
}

function withoutPositions(s: string, offset: number, positions: readonly number[]): string {
  const drop = new Set(positions.map((p) => p + offset));
  return [...s].filter((_, i) => !drop.has(i)).join('');
}

/** True when `value` carries this session's mark (it was made by `makePlaceholder` with `key`). */
export function isPlaceholder(value: string, key: Buffer): boolean {
  const prefix = knownPrefix(value);
  const body = value.slice(prefix.length);
  const alphabet = alphabetOf(body);
  const positions = randomPositions(body);
  if (alphabet.length < 2 || positions.length < 12) return false;
  const markAt = positions.slice(-MARK_LENGTH);
  const m = markAt.map((p) => body.charAt(p)).join('');
  // The mark is written in one character class (the first the real body had); try each.
  const rest = withoutPositions(value, prefix.length, markAt);
  return CLASSES.some((c) => [...m].every((ch) => c.includes(ch)) && mark(key, rest, c) === m);
}

/** The mark's characters: one whole class of the body's alphabet (a placeholder shows its class even when it lacks other characters the real value had). */
function markAlphabet(alphabet: string): string {
  return CLASSES.find((c) => alphabet.includes(c)) ?? alphabet;
}

function randomString(alphabet: string, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet.charAt(randomInt(alphabet.length));
  return s;
}
