/**
 * Decoding layers: finds encoded data inside text (base64 std/url, hex with or
 * without separators, percent-encoding, `\u`/`\x`/JSON escapes, HTML entities,
 * gzip/deflate/brotli inside base64) and yields the decoded text as a new
 * layer to scan. Every layer is bounded: depth, count, decoded size and
 * decompression size and ratio.
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { nextRunStart, type RunStarts } from './run-starts.js';

export interface DecodeLimits {
  /** Nesting depth of layers (an encoding inside an encoding...). */
  readonly maxDepth: number;
  /** Encoded runs decoded per text. */
  readonly maxRunsPerText: number;
  /** Total decoded characters across all layers of one scan. */
  readonly maxTotalDecoded: number;
  /** Largest output of one decompression. */
  readonly maxInflated: number;
  /** Largest decompression ratio accepted (output / input). */
  readonly maxRatio: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxDepth: 4, maxRunsPerText: 256, maxTotalDecoded: 8 * 1024 * 1024, maxInflated: 4 * 1024 * 1024, maxRatio: 200,
};

export interface Layer {
  /** Decoded text (latin1 for binary decodings, so one character per byte). */
  readonly text: string;
  /** Encoding names from outermost to innermost. */
  readonly layers: readonly string[];
  /** Span in the parent text this layer was decoded from. */
  readonly start: number;
  readonly end: number;
}

/** An encoded run found in a text: where it starts and its characters. */
export interface Run {
  readonly index: number;
  readonly run: string;
}

/**
 * A text to look for layers in: a string, or a buffer read as latin1 (one
 * character per byte), which is never decoded whole (a body's text is
 * sliced only where a run or a window is found).
 */
export type LayerText = string | Buffer;

/**
 * A text's UTF-16 code units, for the scans that read character by character
 * (`charCodeAt` on a long string, above all the external string of a
 * decoded buffer, cost several times an indexed typed-array read here). A
 * buffer read as latin1 is its own codes.
 */
export type Codes = Uint8Array | Uint16Array;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function charCodes(text: LayerText): Codes {
  if (typeof text !== 'string') return text;
  const u = new Uint16Array(text.length);
  if (LITTLE_ENDIAN) Buffer.from(u.buffer, u.byteOffset, u.byteLength).write(text, 0, 'utf16le');
  else for (let i = 0; i < text.length; i++) u[i] = text.charCodeAt(i);
  return u;
}

/** Characters `start` to `end` of a layer text. */
export function sliceText(text: LayerText, start: number, end: number): string {
  return typeof text === 'string' ? text.slice(start, end) : text.toString('latin1', start, Math.min(end, text.length));
}

const WHOLE_SLICE = 1024 * 1024;
const WHOLE_OVERLAP = 4096;

/** Sticky: tested at each occurrence of their first character. */
const PCT_AT = /%[0-9A-Fa-f]{2}/y;
const ESC_AT = /\\(?:u[0-9A-Fa-f]{4}|u\{[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{2}|[nrt"/\\])/y;
const ENTITY_AT = /&(?:#\d{1,7}|#x[0-9A-Fa-f]{1,6}|[a-zA-Z]{2,8});/y;
/** The end of the sequence at `p` of a buffer (whose byte at `p` is its first character), or -1. */
export type SeqMatcher = (b: Uint8Array, p: number) => number;

const hexByte = (c: number | undefined): boolean => c !== undefined && c < 128 && IS_HEX[c] === 1;
const digitByte = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
const letterByte = (c: number | undefined): boolean => c !== undefined && ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a));

/** Where `test` holds for `min` to `max` bytes from `at` followed by `end`: the index after `end`, or -1 (a greedy bounded repeat then a fixed character, as the regexes match it). */
function boundedThen(b: Uint8Array, at: number, test: (c: number | undefined) => boolean, min: number, max: number, end: number): number {
  let j = at;
  while (j - at < max && test(b[j])) j++;
  return j - at >= min && b[j] === end ? j + 1 : -1;
}

/** `PCT_AT` on bytes. */
export const percentAt: SeqMatcher = (b, p) => (hexByte(b[p + 1]) && hexByte(b[p + 2]) ? p + 3 : -1);

/** `ESC_AT` on bytes. */
export const escapeAt: SeqMatcher = (b, p) => {
  const c = b[p + 1];
  if (c === 0x75) { // u
    if (hexByte(b[p + 2]) && hexByte(b[p + 3]) && hexByte(b[p + 4]) && hexByte(b[p + 5])) return p + 6;
    return b[p + 2] === 0x7b ? boundedThen(b, p + 3, hexByte, 1, 6, 0x7d) : -1;
  }
  if (c === 0x78) return hexByte(b[p + 2]) && hexByte(b[p + 3]) ? p + 4 : -1; // x
  return c === 0x6e || c === 0x72 || c === 0x74 || c === 0x22 || c === 0x2f || c === 0x5c ? p + 2 : -1;
};

/** `ENTITY_AT` on bytes. */
export const entityAt: SeqMatcher = (b, p) => {
  if (b[p + 1] === 0x23) { // #
    if (b[p + 2] === 0x78) return boundedThen(b, p + 3, hexByte, 1, 6, 0x3b); // #x
    return boundedThen(b, p + 2, digitByte, 1, 7, 0x3b);
  }
  return boundedThen(b, p + 1, letterByte, 2, 8, 0x3b);
};

/** Longest sequence the three patterns above match (`\u{10FFFF}`, `&#1114111;`: 10), with room to spare. */
const SEQ_MAX = 16;
const SEQ_PIECE = 4096;

/** Fraction of characters that are printable ASCII or common whitespace. */
export function printableRatio(s: string): number {
  if (s.length === 0) return 0;
  let p = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 9 || c === 10 || c === 13) p++;
  }
  return p / s.length;
}

/**
 * `%XX` decoded left to right as `s.replace(/%([0-9A-Fa-f]{2})/g, ...)`
 * would, into one array of code units read as a string once (a replace
 * callback per sequence cost ~0.5 s per MiB of percent-encoded data here).
 */
export function percentDecode(s: string): string {
  let i = s.indexOf('%');
  if (i < 0) return s;
  const inp = charCodes(s) as Uint16Array;
  const out = new Uint16Array(s.length);
  let o = 0;
  let last = 0;
  while (i >= 0) {
    const v = hexCodesAt(inp, i + 1, 2);
    if (v < 0) {
      i = s.indexOf('%', i + 1);
      continue;
    }
    if (i - last > 32) {
      out.set(inp.subarray(last, i), o);
      o += i - last;
    } else for (let k = last; k < i; k++) out[o++] = inp[k]!;
    out[o++] = v;
    last = i + 3;
    i = s.indexOf('%', last);
  }
  out.set(inp.subarray(last), o);
  o += s.length - last;
  return unitsToString(out, o);
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', sol: '/', colon: ':', equals: '=', plus: '+', lowbar: '_', period: '.', comma: ',', num: '#', percnt: '%', excl: '!', dollar: '$', hyphen: '-', dash: '-' };

export function htmlEntityDecode(s: string): string {
  return s.replace(/&(#\d{1,7}|#x[0-9A-Fa-f]{1,6}|[a-zA-Z]{2,8});/g, (m, e: string) => {
    if (e.startsWith('#x') || e.startsWith('#X')) return safeCodePoint(Number.parseInt(e.slice(2), 16)) ?? m;
    if (e.startsWith('#')) return safeCodePoint(Number.parseInt(e.slice(1), 10)) ?? m;
    return NAMED[e.toLowerCase()] ?? m;
  });
}

function safeCodePoint(n: number): string | undefined {
  return Number.isFinite(n) && n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** The value of the `n` hex digits at `at` of `codes`, or -1. */
function hexCodesAt(codes: Uint16Array, at: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = codes[at + k];
    const h = c === undefined || c >= 128 ? -1 : hexValue(c);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/**
 * `\uXXXX`, `\u{X}`, `\xXX` and the JSON escapes `\n \r \t \" \/ \\`, decoded
 * left to right as `/\\(u[0-9A-Fa-f]{4}|u\{[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{2}|[nrt"/\\])/g`
 * would, in one pass from backslash to backslash into an array of code
 * units (the text between escapes copied as a block), read as one string at
 * the end: JSON text has an escape on almost every line, and a string per
 * piece cost ~80 ms per MiB of JSON inside JSON here. Decoding never
 * lengthens the text, so the array has the input's length.
 */
export function escapeDecode(s: string): string {
  let i = s.indexOf('\\');
  if (i < 0) return s;
  const inp = charCodes(s) as Uint16Array;
  const out = new Uint16Array(s.length);
  let o = 0;
  let last = 0;
  while (i >= 0) {
    let unit = -1;
    let cp = -1;
    let len = 0;
    switch (inp[i + 1] ?? 0) {
      case 0x75: { // u
        const v = hexCodesAt(inp, i + 2, 4);
        if (v >= 0) {
          unit = v;
          len = 6;
        } else if (inp[i + 2] === 0x7b) { // u{...}
          let j = i + 3;
          let value = 0;
          while (j - (i + 3) < 6) {
            const c = inp[j];
            const h = c === undefined || c >= 128 ? -1 : hexValue(c);
            if (h < 0) break;
            value = value * 16 + h;
            j++;
          }
          if (j > i + 3 && inp[j] === 0x7d) {
            len = j + 1 - i;
            // Beyond U+10FFFF the sequence stays as it is.
            cp = value <= 0x10ffff ? value : -2;
          }
        }
        break;
      }
      case 0x78: { // x
        const v = hexCodesAt(inp, i + 2, 2);
        if (v >= 0) {
          unit = v;
          len = 4;
        }
        break;
      }
      case 0x6e: unit = 0x0a; len = 2; break;
      case 0x72: unit = 0x0d; len = 2; break;
      case 0x74: unit = 0x09; len = 2; break;
      case 0x22: case 0x2f: case 0x5c: unit = inp[i + 1]!; len = 2; break;
      default: break;
    }
    if (len === 0) {
      i = s.indexOf('\\', i + 1);
      continue;
    }
    // Short gaps copied unit by unit (a subarray per escape cost more than the copy).
    if (i - last > 32) {
      out.set(inp.subarray(last, i), o);
      o += i - last;
    } else for (let k = last; k < i; k++) out[o++] = inp[k]!;
    if (cp === -2) {
      for (let k = i; k < i + len; k++) out[o++] = inp[k]!;
    } else if (cp >= 0x10000) {
      out[o++] = 0xd800 + ((cp - 0x10000) >> 10);
      out[o++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    } else out[o++] = cp >= 0 ? cp : unit;
    last = i + len;
    i = s.indexOf('\\', last);
  }
  out.set(inp.subarray(last), o);
  o += s.length - last;
  return unitsToString(out, o);
}

/** The first `n` code units of `units` as a string. */
function unitsToString(units: Uint16Array, n: number): string {
  if (LITTLE_ENDIAN) return Buffer.from(units.buffer, units.byteOffset, n * 2).toString('utf16le');
  let r = '';
  for (let k = 0; k < n; k += 8192) r += String.fromCharCode(...units.subarray(k, Math.min(n, k + 8192)));
  return r;
}

/** Decompresses gzip, zlib-deflate, raw deflate or brotli within the limits; undefined when it is none of them or exceeds them. */
export function inflateBounded(data: Buffer, encoding: 'gzip' | 'deflate' | 'br' | 'auto', limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Buffer | undefined {
  const max = Math.min(limits.maxInflated, Math.max(1024, data.length * limits.maxRatio));
  const opts = { maxOutputLength: max };
  const tries: (() => Buffer)[] = [];
  if (encoding === 'gzip' || (encoding === 'auto' && data[0] === 0x1f && data[1] === 0x8b)) tries.push(() => gunzipSync(data, opts));
  if (encoding === 'deflate' || (encoding === 'auto' && data[0] === 0x78)) tries.push(() => inflateSync(data, opts), () => inflateRawSync(data, opts));
  if (encoding === 'br') tries.push(() => brotliDecompressSync(data, opts));
  for (const t of tries) {
    try {
      return t();
    } catch {
      // too large, truncated or not this format: try the next one
    }
  }
  return undefined;
}

function decodeBase64Run(run: string): Buffer | undefined {
  const body = run.replace(/=+$/, '');
  if (body.length < 16) return undefined;
  const url = /[-_]/.test(body);
  const std = /[+/]/.test(body);
  if (url && std) return undefined;
  // A run of letters only, or digits only, is a word or a number, not base64.
  if (!/[0-9]/.test(body) && !/[A-Z]/.test(body.slice(1))) return undefined;
  const out = Buffer.from(body, url ? 'base64url' : 'base64');
  return out.length >= 8 ? out : undefined;
}

/** A decoded binary value worth scanning: mostly printable text, or compressed data that inflates to text. */
function usable(buf: Buffer, limits: DecodeLimits, names: string[]): string | undefined {
  const inflated = buf.length >= 10 ? inflateBounded(buf, 'auto', limits) : undefined;
  if (inflated !== undefined) {
    names.push('inflate');
    return inflated.toString('latin1');
  }
  const s = buf.toString('latin1');
  return printableRatio(s) >= 0.6 ? s : undefined;
}

export class LayerBudget {
  decoded = 0;
  readonly limits: DecodeLimits;
  constructor(limits: DecodeLimits = DEFAULT_DECODE_LIMITS) {
    this.limits = limits;
  }
  take(n: number): boolean {
    if (this.decoded + n > this.limits.maxTotalDecoded) return false;
    this.decoded += n;
    return true;
  }
}

/**
 * Maximal runs of hex digits of even length, 20 or more: what
 * `/(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){10,}(?![0-9A-Fa-f])/g` finds (an odd run
 * never matches), in one pass over the characters.
 */
export function evenHexRuns(text: string): Run[] {
  const out: Run[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 128 || IS_HEX[c] !== 1) {
      i++;
      continue;
    }
    let j = i + 1;
    for (; j < n; j++) {
      const d = text.charCodeAt(j);
      if (d >= 128 || IS_HEX[d] !== 1) break;
    }
    if (j - i >= 20 && (j - i) % 2 === 0) out.push({ index: i, run: text.slice(i, j) });
    i = j;
  }
  return out;
}

const IS_HEX: Uint8Array = Uint8Array.from({ length: 128 }, (_, c) => (hexValue(c) >= 0 ? 1 : 0));
const IS_B64: Uint8Array = Uint8Array.from({ length: 128 }, (_, c) => (/[A-Za-z0-9+/_-]/.test(String.fromCharCode(c)) ? 1 : 0));

/**
 * Maximal runs of base64 characters (standard and URL-safe alphabets), 16 or
 * more, with up to two `=` after them: what
 * `/(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}/g` finds, in one pass over
 * the characters (the regex tried its look-behind at every position: the
 * largest cost of the layers on prose). The first `limit` only, when given.
 */
export function base64Runs(text: LayerText, codes: Codes = charCodes(text), starts?: RunStarts, limit = Number.POSITIVE_INFINITY): Run[] {
  const out: Run[] = [];
  const n = codes.length;
  /**
   * The first p >= i where 16 characters of the alphabet start. `i` is always where a run may start (0, or
   * just after a character outside the alphabet), so p is a run's first character: when p > i, p - 1 is
   * outside (else p - 1 would have been found). With `starts` (`runStarts` of the same buffer) it is read
   * from SIMD masks; else a run of 16 starting in [i, i + 15] contains i + 15: when that character is
   * outside the alphabet, skip all 16; when it is inside, the last character outside before it (if any)
   * rules out every start up to itself.
   */
  const next = (i: number): number => {
    if (starts !== undefined) return nextRunStart(starts, i, 'base64');
    while (i + 15 < n) {
      let c = codes[i + 15]!;
      if (c >= 128 || IS_B64[c] !== 1) {
        i += 16;
        continue;
      }
      let m = i + 14;
      for (; m >= i; m--) {
        c = codes[m]!;
        if (c >= 128 || IS_B64[c] !== 1) break;
      }
      if (m < i) return i;
      i = m + 1;
    }
    return -1;
  };
  for (let p = next(0); p >= 0 && out.length < limit;) {
    let j = p + 16;
    for (; j < n; j++) {
      const c = codes[j]!;
      if (c >= 128 || IS_B64[c] !== 1) break;
    }
    let e = j;
    if (e < n && codes[e] === 0x3d) {
      e++;
      if (e < n && codes[e] === 0x3d) e++;
    }
    out.push({ index: p, run: sliceText(text, p, e) });
    p = next(e === j ? j + 1 : e);
  }
  return out;
}

/** Hex digits and the separators `-`, `:`, space and comma: every character of a separated hex run. */
const IS_HEX_SEP: Uint8Array = Uint8Array.from({ length: 128 }, (_, c) => (hexValue(c) >= 0 || c === 0x2d || c === 0x3a || c === 0x20 || c === 0x2c ? 1 : 0));

/** 1 for a hex digit, 8 for a separator, 64 for any other code unit (every UTF-16 value has an entry). */
const HEX_SEP_WEIGHT: Uint8Array = Uint8Array.from({ length: 65536 }, (_, c) => (c < 128 && hexValue(c) >= 0 ? 1 : c === 0x2d || c === 0x3a || c === 0x20 || c === 0x2c ? 8 : 64));

/**
 * Hex bytes with separators, ten or more: what
 * `/(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}(?:[-: ,][0-9A-Fa-f]{2}){9,}(?![0-9A-Fa-f])/g`
 * finds. A match is 29 characters or more, all hex digits or separators, so
 * one character of any other kind rules out 29 starts (the regex tried its
 * look-behind at every position: on prose, where `a`-`f` and spaces are
 * common, the largest cost of the layers). Inside a run of such characters
 * each start is tried as the regex tries it, greedy with one step back when
 * a hex digit follows the last pair. With `starts` (`runStarts` of the same
 * buffer), only the starts it marks are tried. The first `limit` only, when
 * given.
 */
export function hexSepRuns(text: LayerText, codes: Codes = charCodes(text), starts?: RunStarts, limit = Number.POSITIVE_INFINITY): Run[] {
  const out: Run[] = [];
  const n = codes.length;
  const inClass = (at: number): boolean => {
    const c = codes[at]!;
    return c < 128 && IS_HEX_SEP[c] === 1;
  };
  const isHex = (c: number): boolean => c < 128 && IS_HEX[c] === 1;
  /** The end of the match starting at `p`, or -1. */
  const matchAt = (p: number): number => {
    if (p + 1 >= n || (p > 0 && isHex(codes[p - 1]!)) || !isHex(codes[p]!) || !isHex(codes[p + 1]!)) return -1;
    let k = 0;
    let q = p + 2;
    while (q + 2 < n) {
      const s = codes[q]!;
      if ((s !== 0x2d && s !== 0x3a && s !== 0x20 && s !== 0x2c) || !isHex(codes[q + 1]!) || !isHex(codes[q + 2]!)) break;
      k++;
      q += 3;
    }
    if (q < n && isHex(codes[q]!)) {
      k--;
      q -= 3;
    }
    return k >= 9 ? q : -1;
  };
  if (starts !== undefined) {
    // Every match begins with the 15 characters `runStarts` marks: try those starts, left to right, from the
    // end of the last match (as the global regex resumes).
    const { words, blocks, count } = starts;
    let from = 0;
    for (let li = 0; li < count; li++) {
      const k = blocks[li]!;
      const base = k << 4;
      if (base + 15 < from) continue;
      let r = words[2 * li + 1]! & 0xffff;
      if (base < from) r &= 0xffff << (from - base);
      while (r !== 0) {
        const p = base + 31 - Math.clz32(r & -r);
        r &= r - 1;
        const e = matchAt(p);
        if (e < 0) continue;
        out.push({ index: p, run: sliceText(text, p, e) });
        if (out.length >= limit) return out;
        from = e;
        r = from - base >= 16 ? 0 : r & (0xffff << (from - base));
      }
    }
    return out;
  }
  // No match starts before `i`. Any three characters inside a match are two hex digits and one separator
  // (weights 1, 1, 8: a sum of 10), and every match starting in [i, i + 26] covers i + 26 to i + 28, so any
  // other sum rules out 27 starts (one branch, rarely taken on prose, where a-f and spaces are common).
  let i = 0;
  while (i + 28 < n) {
    if (HEX_SEP_WEIGHT[codes[i + 26]!]! + HEX_SEP_WEIGHT[codes[i + 27]!]! + HEX_SEP_WEIGHT[codes[i + 28]!]! !== 10) {
      i += 27;
      continue;
    }
    if (!inClass(i + 28)) {
      i += 29;
      continue;
    }
    let m = i + 27;
    while (m >= i && inClass(m)) m--;
    if (m >= i) {
      i = m + 1;
      continue;
    }
    let b = i + 29;
    while (b < n && inClass(b)) b++;
    // Every match starting in [i, b - 29] lies in [i, b).
    let p = i;
    while (p + 29 <= b) {
      const e = matchAt(p);
      if (e < 0) p++;
      else {
        out.push({ index: p, run: sliceText(text, p, e) });
        if (out.length >= limit) return out;
        p = e;
      }
    }
    i = b + 1;
  }
  return out;
}

/**
 * `evenHexRuns(text)` from the text's base64 runs (the first `limit`): hex
 * digits are base64 characters, so every hex run of 20 or more lies inside
 * one of them.
 */
function hexRunsWithin(b64: readonly Run[], limit: number): Run[] {
  const out: Run[] = [];
  for (const r of b64) {
    if (r.run.length < 20) continue;
    for (const h of evenHexRuns(r.run)) {
      if (out.length >= limit) return out;
      out.push({ index: r.index + h.index, run: h.run });
    }
  }
  return out;
}

/** Characters kept on each side of an encoded sequence when only its surroundings are decoded. */
const WINDOW_RADIUS = 256;

/**
 * Spans of `text` around every match of `seq` (sticky; every match starts
 * with the character `lead`, so it is tested only where `indexOf` finds
 * one), `WINDOW_RADIUS` on each side, merged where they touch; after
 * `maxSpans` spans, one last span runs to the end (so every sequence is
 * covered and the count stays bounded). Matches are taken left to right
 * without overlap, as a global regex would.
 */
export function spansAround(text: LayerText, lead: string, seq: RegExp, maxSpans: number, atBytes?: SeqMatcher): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  const bytes = typeof text === 'string' ? undefined : text;
  const leadByte = lead.charCodeAt(0);
  const find = (from: number): number => (bytes === undefined ? (text as string).indexOf(lead, from) : bytes.indexOf(leadByte, from));
  /**
   * End of the sequence at `p`, or -1. In a buffer, it is tested in a latin1 piece of it that holds at
   * least the next SEQ_MAX characters (a piece of SEQ_PIECE is read when the last one falls short: one
   * string per sequence cost more than the rest of the scan on text dense in escapes).
   */
  let piece = '';
  let pieceStart = 0;
  let pieceEnd = 0;
  const test = (p: number): number => {
    if (bytes === undefined) {
      seq.lastIndex = p;
      return seq.test(text as string) ? seq.lastIndex : -1;
    }
    if (atBytes !== undefined) return atBytes(bytes, p);
    if (p < pieceStart || (p + SEQ_MAX > pieceEnd && pieceEnd < bytes.length)) {
      pieceStart = p;
      pieceEnd = Math.min(bytes.length, p + SEQ_PIECE);
      piece = bytes.toString('latin1', pieceStart, pieceEnd);
    }
    seq.lastIndex = p - pieceStart;
    return seq.test(piece) ? pieceStart + seq.lastIndex : -1;
  };
  let p = find(0);
  while (p >= 0) {
    const after = test(p);
    if (after < 0) {
      p = find(p + 1);
      continue;
    }
    const start = Math.max(0, p - WINDOW_RADIUS);
    const end = Math.min(text.length, after + WINDOW_RADIUS);
    const last = out[out.length - 1];
    if (last !== undefined && start <= last.end) last.end = Math.max(last.end, end);
    else if (out.length < maxSpans) out.push({ start, end });
    else {
      if (last !== undefined) last.end = text.length;
      break;
    }
    p = find(after);
  }
  return out;
}

/**
 * The layers directly under `text` (one level). Text-wide encodings (percent,
 * escapes, entities) are decoded only in windows around their sequences: what
 * lies further from any sequence reads the same decoded and was scanned
 * already. Then each embedded base64 or hex run. `starts`: `runStarts` of
 * the buffer `text` is (never of a string).
 */
/**
 * What `childLayers` needs to find anything in a text: the lead character of a decoder (`%`, `\\`, `&`), 16
 * base64 characters in a row (the shortest run, hex runs are found among them), or 29 hex-and-separator
 * characters in a row (the shortest separated hex run: ten pairs). A text without any decodes to nothing.
 */
const MAY_DECODE = /[%\\&]|[A-Za-z0-9+/_-]{16}|[0-9A-Fa-f:, -]{29}/;
/** Texts up to this long are tested with MAY_DECODE first (a short clean text, such as a tool argument or a header, then skips the search). */
const MAY_DECODE_MAX = 4096;

export function childLayers(text: LayerText, budget: LayerBudget, starts?: RunStarts): Layer[] {
  if (typeof text === 'string' && text.length <= MAY_DECODE_MAX && !MAY_DECODE.test(text)) return [];
  return childLayersSearched(text, budget, starts);
}

/** `childLayers` without the MAY_DECODE test (exported for the test that checks the two agree). */
export function childLayersSearched(text: LayerText, budget: LayerBudget, starts?: RunStarts): Layer[] {
  const codes = charCodes(text);
  const out: Layer[] = [];
  const decoders: [string, string, RegExp, SeqMatcher, (s: string) => string][] = [
    ['percent', '%', PCT_AT, percentAt, (s) => percentDecode(s.includes('+') && !s.includes(' ') ? s.replace(/\+/g, ' ') : s)],
    ['escape', '\\', ESC_AT, escapeAt, escapeDecode],
    ['html-entity', '&', ENTITY_AT, entityAt, htmlEntityDecode],
  ];
  for (const [name, lead, seq, atBytes, decode] of decoders) {
    for (const span of spansAround(text, lead, seq, budget.limits.maxRunsPerText, atBytes)) {
      // A long span is decoded in slices of at most WHOLE_SLICE characters (overlapping), so no single
      // replace builds an unbounded match list.
      for (let from = span.start; from < span.end; from += WHOLE_SLICE - WHOLE_OVERLAP) {
        const to = Math.min(span.end, from + WHOLE_SLICE);
        const part = sliceText(text, from, to);
        const decoded = decode(part);
        if (decoded !== part && budget.take(decoded.length)) out.push({ text: decoded, layers: [name], start: from, end: to });
        if (to >= span.end) break;
      }
    }
  }
  let runs = 0;
  const push = (name: string, index: number, len: number, buf: Buffer | undefined): void => {
    if (buf === undefined) return;
    const names = [name];
    const s = usable(buf, budget.limits, names);
    if (s !== undefined && budget.take(s.length)) out.push({ text: s, layers: names, start: index, end: index + len });
  };
  // Runs are decoded in this order up to the limit; each list is found only while the limit is not reached,
  // and no longer than it can still be used (a body of base64 lines has thousands).
  const max = budget.limits.maxRunsPerText;
  const b64 = base64Runs(text, codes, starts, max);
  const found: [string, () => readonly Run[]][] = [['base64', () => b64], ['hex', () => hexRunsWithin(b64, max - runs)], ['hex', () => hexSepRuns(text, codes, starts, max - runs)]];
  for (const [name, list] of found) {
    if (runs >= max) break;
    for (const { index, run } of list()) {
      if (runs >= max) break;
      runs++;
      if (name === 'base64') {
        if (/^[0-9A-Fa-f]+$/.test(run)) continue; // hex is handled below
        push('base64', index, run.length, decodeBase64Run(run));
      } else {
        push('hex', index, run.length, Buffer.from(run.replace(/[-: ,]/g, ''), 'hex'));
      }
    }
  }
  return out;
}
