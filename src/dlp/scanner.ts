/**
 * The DLP scanner: detectors over the text and over every decoding layer
 * found in it, plus known-secret fingerprints. Findings carry a location in
 * the scanned text, the detector, a confidence and a redacted sample.
 */
import { redactSample } from '../audit/redact.js';
import { isAscii } from 'node:buffer';
import { charCodes, childLayers, DEFAULT_DECODE_LIMITS, LayerBudget, sliceText, type DecodeLimits, type LayerText } from './decode.js';
import { ByteSource, DetectionEngine, type EngineOptions, type RawMatch, type TextSource } from './engine.js';
import type { FingerprintMatcher } from './fingerprint.js';
import { nextRunStart, runStarts, type RunStarts } from './run-starts.js';
import { findMixedScriptWords, normalizationWindowsBytes, normalizationWindowsText, normalizeText } from './normalize.js';
import { judgeRandomness } from './randomness.js';
import { luhn } from './checks.js';
import { financialIds } from './financial.js';
import { QuickReject } from './quick-reject.js';
import { isNotCredentialToken } from './query-credentials.js';
import { confidenceRank, type Confidence, type DlpFinding } from './types.js';

export interface ScannerOptions extends EngineOptions {
  /** Look inside encodings (default true). */
  readonly decode?: boolean;
  readonly limits?: DecodeLimits;
  /**
   * Short strings that no stage can find anything in skip the stages (`quick-reject.ts`; default true). Off
   * only to compare against the full scan (tests, benchmarks).
   */
  readonly quickReject?: boolean;
  /** Known secrets (keyed fingerprints) to find in every encoding. */
  readonly known?: FingerprintMatcher;
  /** Payment card numbers (Luhn-checked) and mixed-script words: traffic checks, off for source scans (default false). */
  readonly traffic?: boolean;
}

interface Origin {
  readonly start: number;
  readonly end: number;
}

/** A whole run of digits that is a payment card number (Visa, Mastercard, Amex, Discover), before its Luhn check. */
const CARD_NUMBER = /^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|3[47][0-9]{13}|6(?:011|5[0-9]{2})[0-9]{12})$/;

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Buffers from this size have their run starts found with SIMD (below it, copying into WebAssembly costs more). */
const RUN_STARTS_MIN = 4096;

/**
 * Card numbers: what
 * `/(?<![0-9])(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|3[47][0-9]{13}|6(?:011|5[0-9]{2})[0-9]{12})(?![0-9])/g`
 * finds. Its look-behind and look-ahead make every match a whole run of
 * digits, so the maximal runs of 13 to 16 digits are found by a scan that
 * skips 13 characters past any non-digit (the regex was tried at every
 * position) and each is tested whole. `starts`: `runStarts` of the buffer
 * `text` is (never of a string).
 */
export function cardNumbers(text: LayerText, starts?: RunStarts): { index: number; digits: string }[] {
  const out: { index: number; digits: string }[] = [];
  const codes = charCodes(text);
  const n = codes.length;
  /**
   * The first p >= i where 13 digits start; `i` is 0 or just after a non-digit, so p starts a run of digits
   * (as in `base64Runs`). With `starts` (`runStarts` of the same buffer) it is read from SIMD masks.
   */
  const next = (i: number): number => {
    if (starts !== undefined) return nextRunStart(starts, i, 'digits');
    while (i + 12 < n) {
      if (!isDigit(codes[i + 12]!)) {
        i += 13;
        continue;
      }
      let m = i + 11;
      while (m >= i && isDigit(codes[m]!)) m--;
      if (m < i) return i;
      i = m + 1;
    }
    return -1;
  };
  for (let p = next(0); p >= 0;) {
    let j = p + 13;
    while (j < n && isDigit(codes[j]!)) j++;
    if (j - p <= 16) {
      const digits = sliceText(text, p, j);
      if (CARD_NUMBER.test(digits)) out.push({ index: p, digits });
    }
    p = next(j + 1);
  }
  return out;
}

/**
 * Mixed-script words in a UTF-8 buffer, at byte offsets. A buffer's latin1
 * reading (what the other checks read) holds no Cyrillic or Greek letter, so
 * the words are sought in its UTF-8 reading, and only when it has a byte
 * outside ASCII.
 */
function mixedScriptWordsInBytes(buf: Buffer): { index: number; word: string; bytes: number }[] {
  if (isAscii(buf)) return [];
  const text = buf.toString('utf8');
  const out: { index: number; word: string; bytes: number }[] = [];
  let at = 0;
  let offset = 0;
  for (const w of findMixedScriptWords(text)) {
    offset += Buffer.byteLength(text.slice(at, w.index), 'utf8');
    at = w.index;
    out.push({ index: offset, word: w.word, bytes: Buffer.byteLength(w.word, 'utf8') });
  }
  return out;
}
/** Token characters: `A-Za-z0-9+/_=-`. */
const TOKEN_CHAR: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_=-') t[c.charCodeAt(0)] = 1;
  return t;
})();
const TOKEN_MIN = 32;
const TOKEN_PIECE = 200;

/**
 * Runs of token characters cut in pieces of 200 (the last kept when 32 or
 * more): what `/[A-Za-z0-9+/_=-]{32,200}/g` finds, in one pass over the
 * characters (the regex retried up to 32 characters at every position).
 */
export function tokenRuns(text: string): string[] {
  const out: string[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 128 || TOKEN_CHAR[c] !== 1) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d >= 128 || TOKEN_CHAR[d] !== 1) break;
      j++;
    }
    for (let p = i; j - p >= TOKEN_MIN; p += TOKEN_PIECE) out.push(text.slice(p, Math.min(j, p + TOKEN_PIECE)));
    i = j;
  }
  return out;
}

/** Layers that only unwrap structure (a JSON string, a form field), not an encoding. */
const STRUCTURAL_LAYERS: ReadonlySet<string> = new Set(['escape', 'json', 'form', 'multipart']);

/** Texts at most this long that scan clean are remembered (see `DlpScanner.#clean`); at most this many. */
const CLEAN_MAX_CHARS = 4096;
const CLEAN_MAX_TEXTS = 1024;

export class DlpScanner {
  readonly engine: DetectionEngine;
  readonly #decode: boolean;
  readonly #limits: DecodeLimits;
  readonly #known: FingerprintMatcher | undefined;
  readonly #traffic: boolean;
  readonly #min: number;
  /**
   * Short texts that scanned clean. A scan is a function of the text alone (the detectors, decoders and
   * known secrets are fixed per scanner), and traffic repeats the same ones (a keep-alive client's headers,
   * its URLs, an agent's repeated tool arguments): a repeat costs a lookup instead of a scan. Only clean
   * results are kept (a text with findings is scanned every time), bounded (emptied when full).
   */
  readonly #clean = new Set<string>();
  readonly #quick: QuickReject | undefined;

  constructor(options: ScannerOptions = {}) {
    this.engine = new DetectionEngine(options);
    this.#decode = options.decode ?? true;
    this.#limits = options.limits ?? DEFAULT_DECODE_LIMITS;
    this.#known = options.known;
    this.#traffic = options.traffic ?? false;
    this.#min = confidenceRank(options.minConfidence ?? 'low');
    this.#quick = options.quickReject === false ? undefined : new QuickReject(this.engine.keywords);
  }

  /** Scans bytes (a file, a body): offsets and lines are in bytes. */
  scanBytes(buf: Buffer, where: string): DlpFinding[] {
    // The buffer is never decoded whole: detectors, traffic checks and layers read latin1 windows of it.
    return this.#scanRoot(new ByteSource(buf), where, buf);
  }

  /** Scans a string (a URL, a header value, a JSON argument): offsets are in UTF-16 units. */
  scanText(text: string, where: string): DlpFinding[] {
    // A short ASCII text in which no stage has anything to look at: only known secrets are left to look for
    // (an ASCII text's UTF-8 bytes are its latin1 bytes); a hit is scanned in full, which reports it.
    if (this.#quick?.clean(text) === true && (this.#known === undefined || this.#known.find(Buffer.from(text, 'latin1')).length === 0)) return [];
    const keep = text.length <= CLEAN_MAX_CHARS;
    if (keep && this.#clean.has(text)) return [];
    const out = this.#scanRoot(text, where, undefined);
    if (keep && out.length === 0) {
      if (this.#clean.size >= CLEAN_MAX_TEXTS) this.#clean.clear();
      this.#clean.add(text);
    }
    return out;
  }

  #scanRoot(source: string | TextSource, where: string, bytes: Buffer | undefined): DlpFinding[] {
    let whole: string | undefined = typeof source === 'string' ? source : undefined;
    const fullText = (): string => (whole ??= source.slice(0));
    const out: DlpFinding[] = [];
    const add = (detector: string, provider: string, confidence: Confidence, origin: Origin, secret: string, layers: readonly string[], explain: string): void => {
      if (confidenceRank(confidence) < this.#min) return;
      out.push({
        detector, provider, confidence, sample: redactSample(secret.trim()), explain,
        location: { where, offset: origin.start, length: origin.end - origin.start, ...(layers.length > 0 ? { layers } : {}) },
      });
    };
    const fromMatch = (t: string | TextSource, m: RawMatch, origin: Origin | undefined, layers: readonly string[]): void => {
      const o = origin ?? { start: m.secretStart, end: m.secretEnd };
      const via = layers.length > 0 ? ` under ${layers.join(' > ')}` : '';
      add(m.detector, m.provider, m.confidence, o, t.slice(m.secretStart, m.secretEnd), layers, `${m.provider} credential (${m.detector})${via}.`);
    };
    const triggers: number[] = [];
    for (const m of this.engine.matches(source, bytes, triggers)) fromMatch(source, m, undefined, []);
    if (this.#known !== undefined) {
      for (const k of this.#known.find(bytes ?? Buffer.from(fullText(), 'utf8'))) {
        add('known-secret', 'cordon', 'high', { start: k.offset, end: k.offset + k.length }, k.label, [k.encoding], `A known secret (${k.label}) in ${k.encoding} encoding.`);
      }
    }
    // Unicode normalisation, in windows around the characters it changes (never over a whole large text).
    const windows = bytes === undefined ? normalizationWindowsText(fullText()) : normalizationWindowsBytes(bytes, triggers);
    for (const w of windows) {
      const raw = bytes === undefined ? source.slice(w.start, w.end) : bytes.subarray(w.start, w.end).toString('utf8');
      const norm = normalizeText(raw);
      if (norm === undefined) continue;
      for (const m of this.engine.matches(norm.text)) {
        const origin = bytes === undefined
          ? { start: w.start + (norm.map[m.secretStart] ?? 0), end: w.start + (norm.map[Math.max(m.secretStart, m.secretEnd - 1)] ?? 0) + 1 }
          : { start: w.start, end: w.end };
        fromMatch(norm.text, m, origin, ['unicode']);
      }
    }
    // A buffer is read as latin1 where a run or a window is found, never decoded whole; where runs of base64
    // characters and digits may start is found 16 bytes at a time (`runStarts`, valid until its next call).
    const starts = bytes !== undefined && bytes.length >= RUN_STARTS_MIN && (this.#traffic || this.#decode) ? runStarts(bytes) : undefined;
    if (this.#traffic) this.#trafficChecks(bytes ?? fullText(), add, starts);
    if (this.#decode) this.#layers(bytes ?? fullText(), undefined, [], 1, new LayerBudget(this.#limits), fromMatch, add, starts);
    return dedupe(out);
  }

  #trafficChecks(text: LayerText, add: (d: string, p: string, c: Confidence, o: Origin, s: string, l: readonly string[], e: string) => void, starts: RunStarts | undefined): void {
    for (const m of cardNumbers(text, starts)) {
      if (luhn(m.digits)) add('payment-card-number', 'PCI', 'medium', { start: m.index, end: m.index + m.digits.length }, m.digits, [], 'A payment card number (Luhn checksum valid).');
    }
    // Checksum-valid crypto and bank identifiers: in strings (URLs, headers, structured fields), not in raw bodies.
    if (typeof text === 'string') for (const f of financialIds(text)) add(f.detector, f.provider, f.confidence, { start: f.index, end: f.index + f.length }, text.slice(f.index, f.index + f.length), [], f.explain);
    const mixed = typeof text === 'string' ? findMixedScriptWords(text).map((w) => ({ ...w, bytes: w.word.length })) : mixedScriptWordsInBytes(text);
    for (const w of mixed) {
      add('mixed-script-word', 'Unicode', 'medium', { start: w.index, end: w.index + w.bytes }, w.word, [], 'A word mixing Latin with Cyrillic or Greek letters (homoglyph disguise).');
    }
  }

  #layers(text: LayerText, origin: Origin | undefined, layers: readonly string[], depth: number, budget: LayerBudget,
    fromMatch: (t: string | TextSource, m: RawMatch, o: Origin | undefined, l: readonly string[]) => void,
    add: (d: string, p: string, c: Confidence, o: Origin, s: string, l: readonly string[], e: string) => void, starts?: RunStarts): void {
    if (depth > this.#limits.maxDepth) return;
    for (const child of childLayers(text, budget, starts)) {
      const o = origin ?? { start: child.start, end: child.end };
      const names = [...layers, ...child.layers];
      for (const m of this.engine.matches(child.text)) fromMatch(child.text, m, o, names);
      if (this.#known !== undefined && depth === 1) {
        for (const k of this.#known.find(Buffer.from(child.text, 'latin1'))) add('known-secret', 'cordon', 'high', o, k.label, [...names, k.encoding], `A known secret (${k.label}) under ${names.join(' > ')}.`);
      }
      if (names.filter((n) => n === 'percent').length >= 3) {
        add('nested-encoding', 'cordon', 'medium', o, child.text.slice(0, 32), names, 'Percent-encoding nested three or more times: an evasion, not ordinary traffic.');
      }
      for (const run of tokenRuns(child.text)) {
        if (run.includes('//')) continue;
        // A filesystem path (`/tmp/cordon-lab-k3J9xq/ws`) is judged segment by segment: a
        // temporary directory's random suffix is not a secret.
        const parts = /^~?\.{0,2}\/[^/]/.test(run) && run.split('/').length > 2 ? run.split('/') : [run];
        // An identifier made of short parts (`agent-sdk-tool-use-2025-…`) is not a token.
        if (Math.max(...run.split(/[-_./]/).map((x) => x.length)) < 16) continue;
        // A `name=value` pair (a form body, a query) whose name says the value is a one-time or anti-forgery value,
        // not a credential (`code_verifier=`, `state=`, `nonce=`, `csrf_token=`: QUERY_RULES.notCredentialParts):
        // a PKCE token request is ordinary traffic. Provider formats in it are still found by the detectors.
        const pair = /^([A-Za-z][A-Za-z0-9_.-]{0,63})=[^=]/.exec(run);
        if (pair !== null && isNotCredentialToken(pair[1] ?? '')) continue;
        // Blocking needs a real decoding step (hex, base64, percent...) to have revealed the token; one that
        // only sits in a JSON string or form field (an image, an id) is reported, not blocked.
        const decoded = names.some((n) => !STRUCTURAL_LAYERS.has(n));
        if (parts.some((p) => judgeRandomness(p).strong)) add('encoded-random-token', 'generic', decoded ? 'medium' : 'low', o, run, names, `A random token hidden under ${names.join(' > ')}.`);
      }
      this.#layers(child.text, o, names, depth + 1, budget, fromMatch, add);
    }
  }
}

/** One finding per (detector, span): the same secret found through two layers is reported once. */
function dedupe(findings: DlpFinding[]): DlpFinding[] {
  const seen = new Map<string, DlpFinding>();
  for (const f of findings) {
    const key = `${f.location.offset}:${f.location.length}:${f.sample}`;
    const prev = seen.get(key);
    if (prev === undefined || confidenceRank(f.confidence) > confidenceRank(prev.confidence)) seen.set(key, f);
  }
  return [...seen.values()].sort((a, b) => a.location.offset - b.location.offset);
}
