/**
 * The quick reject: one pass over a short string that proves the full scan
 * (`DlpScanner.scanText`) can find nothing in it, apart from known secrets
 * (the scanner still asks their matcher). Tool arguments, header values and
 * URL parts are mostly such strings; without it each paid for every stage's
 * set-up (a latin1 copy for the prefilter, a UTF-16 copy for the card
 * numbers, four regex searches), which the gateway's forwarding waited for.
 *
 * It answers `clean` only when every stage has a necessary condition that
 * fails. The conditions, stage by stage (each stage's own code is the
 * reference; `quick-reject.test.ts` checks the answer against the full scan
 * on random and corpus texts):
 *
 * - **Detectors** (`engine.ts`): a detector is tried only where one of its
 *   keywords occurs (exact bytes of the text's latin1 reading, the
 *   prefilter's list: `AKIA`, `ghp_`, `sk-`, `://`, `password`, `eyJ`,
 *   `-----BEGIN`, `SK`, `0x`...; every detector in `detectors/*.ts` lists
 *   its own), and the AWS pairing runs only on a detector's match. So a
 *   text with no keyword has no detector match. The keywords are taken from
 *   the engine itself (its enabled detectors), so the test follows any
 *   detector added or changed. A keyword with a byte past ASCII (the
 *   normalisation triggers' UTF-8 lead bytes) cannot occur in ASCII text.
 * - **Unicode normalisation** (`normalize.ts`): windows only around its
 *   trigger characters, all at U+00AD or above: none in ASCII text.
 * - **Mixed-script words** (traffic check): need a Cyrillic or Greek letter:
 *   none in ASCII text.
 * - **Payment card numbers** (traffic check): a whole run of 13 to 16
 *   digits: needs 13 digits in a row.
 * - **Financial identifiers** (traffic check, `financial.ts`): Base58Check
 *   and bech32 ones are runs of 25+ and 42+ base64 characters (see below); an
 *   IBAN, which may be written in groups of four, starts with two capital
 *   letters and two digits; a BIP-39 seed phrase is twelve or more lower-case
 *   words of 3 to 8 letters separated by spaces, commas or line breaks
 *   (counted here: eleven such words, then a lower-case letter).
 * - **Decoding layers** (`decode.ts` `childLayers`, texts up to 4 KiB): a
 *   percent, backslash or ampersand (percent, escapes, entities), 16
 *   characters of `A-Za-z0-9+/_-` in a row (base64 and hex runs, and the
 *   random-token runs found inside layers), or 29 of `0-9A-Fa-f:, -` in a
 *   row (separated hex): its `MAY_DECODE` test, whose agreement with the
 *   full search `test/dlp/may-decode.test.ts` checks.
 *
 * So: at most 4096 characters, every code unit below 0x80, none of `%\&`, no
 * such runs, no capital-capital-digit-digit and no keyword means no finding.
 */

/** Texts longer than this are scanned in full (`childLayers` tests `MAY_DECODE` up to this length). */
export const QUICK_MAX_CHARS = 4096;

const B64 = 1;
const HEX_SEP = 2;
const DIGIT = 4;
const UPPER = 16;
const LOWER = 32;
/** Space, tab, CR, LF, comma: what separates the words of a seed phrase. */
const WORD_SEP = 64;
/** The lead characters of percent-encoding, escapes and HTML entities. */
const LEAD = 8;

/** Classes of the ASCII code units. */
const CLASS: Uint8Array = (() => {
  const t = new Uint8Array(128);
  const mark = (chars: string, bit: number): void => {
    for (const c of chars) t[c.charCodeAt(0)]! |= bit;
  };
  mark('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-', B64);
  mark('0123456789ABCDEFabcdef:, -', HEX_SEP);
  mark('0123456789', DIGIT);
  mark('%\\&', LEAD);
  mark('ABCDEFGHIJKLMNOPQRSTUVWXYZ', UPPER);
  mark('abcdefghijklmnopqrstuvwxyz', LOWER);
  mark(' \t\r\n,', WORD_SEP);
  return t;
})();

/** Run lengths from which a stage has something to look at (see above). */
const B64_RUN = 16;
const HEX_SEP_RUN = 29;
const DIGIT_RUN = 13;

export class QuickReject {
  /** Bit (a << 7 | b): some keyword starts with ASCII characters a, b. */
  readonly #pairs = new Uint32Array((128 * 128) / 32);
  /** Keywords by their first two characters. */
  readonly #byPair = new Map<number, string[]>();
  /** 1 for a character that is a keyword on its own. */
  readonly #single = new Uint8Array(128);

  /** `keywords`: the engine's prefilter keywords (latin1 strings, one character per byte). */
  constructor(keywords: readonly string[]) {
    for (const k of keywords) {
      if (k.length === 0) throw new Error('empty keyword');
      // A keyword with a byte past ASCII never occurs in the texts this accepts.
      if (!/^[\0-\x7f]+$/.test(k)) continue;
      const a = k.charCodeAt(0);
      if (k.length === 1) {
        this.#single[a] = 1;
        continue;
      }
      const pair = (a << 7) | k.charCodeAt(1);
      this.#pairs[pair >>> 5]! |= 1 << (pair & 31);
      const list = this.#byPair.get(pair);
      if (list === undefined) this.#byPair.set(pair, [k]);
      else if (!list.includes(k)) list.push(k);
    }
  }

  /** True only when the full scan of `text` can find nothing but known secrets (see the module comment); false means "scan it". */
  clean(text: string): boolean {
    const n = text.length;
    if (n > QUICK_MAX_CHARS) return false;
    let b64 = 0;
    let hex = 0;
    let digits = 0;
    // Capitals in a row, and digits in a row after two or more capitals (an IBAN's country and check digits).
    let upper = 0;
    let upperDigits = 0;
    // Lower-case letters of the current word, and complete words of 3 to 8 letters in a row (a seed phrase's shape).
    let wordLetters = 0;
    let words = 0;
    let c = n > 0 ? text.charCodeAt(0) : 0;
    for (let i = 0; i < n; i++) {
      if (c >= 0x80) return false;
      const k = CLASS[c]!;
      if ((k & LEAD) !== 0 || this.#single[c] === 1) return false;
      b64 = (k & B64) !== 0 ? b64 + 1 : 0;
      hex = (k & HEX_SEP) !== 0 ? hex + 1 : 0;
      digits = (k & DIGIT) !== 0 ? digits + 1 : 0;
      upperDigits = (k & DIGIT) !== 0 && (upperDigits > 0 || upper >= 2) ? upperDigits + 1 : 0;
      upper = (k & UPPER) !== 0 ? upper + 1 : 0;
      if (upperDigits >= 2) return false;
      if ((k & LOWER) !== 0) {
        if (words >= 11) return false;
        wordLetters++;
      } else if ((k & WORD_SEP) !== 0) {
        if (wordLetters > 0) words = wordLetters >= 3 && wordLetters <= 8 ? words + 1 : 0;
        wordLetters = 0;
      } else {
        words = 0;
        wordLetters = 0;
      }
      if (b64 >= B64_RUN || hex >= HEX_SEP_RUN || digits >= DIGIT_RUN) return false;
      if (i + 1 === n) break;
      const d = text.charCodeAt(i + 1);
      if (d < 0x80) {
        const pair = (c << 7) | d;
        if ((this.#pairs[pair >>> 5]! & (1 << (pair & 31))) !== 0 && this.#keywordAt(text, i, pair)) return false;
      }
      c = d;
    }
    return true;
  }

  #keywordAt(text: string, i: number, pair: number): boolean {
    for (const k of this.#byPair.get(pair) ?? []) if (text.startsWith(k, i)) return true;
    return false;
  }
}
