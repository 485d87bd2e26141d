/**
 * The detection core: compiles detector data once, then scans text with one
 * prefilter pass and bounded regex windows around the keyword hits.
 */
import { redactSample } from '../audit/redact.js';
import { runValidator } from './checks.js';
import { CONTEXT_DETECTORS } from './detectors/context.js';
import { TOKEN_DETECTORS } from './detectors/tokens.js';
import { Prefilter } from './prefilter.js';
import { judgeRandomness } from './randomness.js';
import { cannotMatchSpace } from './space-free.js';
import { byteTable, firstSpace, requiredAhead, type TextSource } from './text-source.js';

export { ByteSource, type TextSource } from './text-source.js';
import { confidenceRank, type Confidence, type DetectorSpec } from './types.js';

export const ALL_DETECTORS: readonly DetectorSpec[] = [...TOKEN_DETECTORS, ...CONTEXT_DETECTORS];

export interface EngineOptions {
  /** Opt-in detectors to turn on (e.g. `aws-account-id`). */
  readonly enable?: readonly string[];
  /** Detectors to turn off. */
  readonly disable?: readonly string[];
  /** Values never reported: exact strings, or regexes tested against the secret and the whole match. */
  readonly allow?: readonly (string | RegExp)[];
  /** Findings below this confidence are dropped (default `low`: everything). */
  readonly minConfidence?: Confidence;
  /** Replace the built-in detector list. */
  readonly detectors?: readonly DetectorSpec[];
}

/** A match in the scanned text, with the secret's span; never leaves the engine without redaction. */
export interface RawMatch {
  readonly detector: string;
  readonly provider: string;
  readonly confidence: Confidence;
  readonly start: number;
  readonly end: number;
  readonly secretStart: number;
  readonly secretEnd: number;
}

interface Compiled {
  readonly spec: DetectorSpec;
  /** Sticky, without match indices: most attempts fail, and indices cost an allocation per group. */
  readonly re: RegExp;
  /** The same pattern with indices (`d`), run again only where `re` matched. */
  readonly reIndices: RegExp;
  readonly back: number;
  /** The pattern matches no whitespace, so its window ends at the first one. */
  readonly spaceFree: boolean;
  /** `spec.requires` as a byte table (1 for the characters sought, 2 for those that end the search), with its reach. */
  readonly requires: { readonly table: Uint8Array; readonly within: number } | undefined;
}

/** `A-Za-z0-9+.:-`: characters of a URL scheme (including `jdbc:mysql`). */
function isSchemeChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 43 || c === 46 || c === 45 || c === 58;
}

/**
 * The characters Unicode normalisation changes: zero-width and bidi controls
 * (U+200B-200F, U+202A-202E), word joiner and invisible operators
 * (U+2060-206F), BOM, full-width ASCII (U+FF01-FF5E), tag characters and the
 * soft hyphen. The prefilter looks for the first two bytes of their UTF-8
 * forms (a handful of keywords instead of hundreds of full sequences, which
 * would triple its table) and `isTriggerAt` checks the whole character, so
 * normalisation runs only around them.
 */
const NORMALIZE_RANGES: readonly (readonly [number, number])[] = [[0x200b, 0x200f], [0x202a, 0x202e], [0x2060, 0x206f], [0xfeff, 0xfeff], [0xff01, 0xff5e], [0xe0000, 0xe007f], [0xad, 0xad]];

const NORMALIZE_PREFIXES: readonly string[] = (() => {
  const out = new Set<string>();
  for (const [a, b] of NORMALIZE_RANGES) for (let cp = a; cp <= b; cp++) out.add(Buffer.from(String.fromCodePoint(cp), 'utf8').toString('latin1').slice(0, 2));
  return [...out];
})();

/** Whether the UTF-8 character starting at `at` is one that normalisation changes. */
export function isTriggerAt(buf: Uint8Array, at: number): boolean {
  const b0 = buf[at] ?? 0;
  const n = b0 >= 0xf0 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc0 ? 2 : 1;
  if (n === 1 || at + n > buf.length) return false;
  let cp = b0 & (0x7f >> n);
  for (let i = 1; i < n; i++) {
    const c = buf[at + i] ?? 0;
    if ((c & 0xc0) !== 0x80) return false;
    cp = (cp << 6) | (c & 0x3f);
  }
  return NORMALIZE_RANGES.some(([a, b]) => cp >= a && cp <= b);
}

const GENERIC = new Set(['generic-secret', 'jwt', 'bearer-token']);
/** Detectors that name where a secret sits (a URL, an .npmrc line) rather than what it is. */
const CONTAINER = new Set(['basic-auth-url', 'basic-auth-credentials', 'database-url-password', 'url-embedded-token', 'npmrc-auth-token']);

/** 2 for provider formats, 1 for containers (URLs, .npmrc), 0 for generic shapes. */
export function specificity(id: string): number {
  return GENERIC.has(id) ? 0 : CONTAINER.has(id) ? 1 : 2;
}

function better(a: RawMatch, b: RawMatch): boolean {
  const ca = confidenceRank(a.confidence);
  const cb = confidenceRank(b.confidence);
  if (ca !== cb) return ca > cb;
  const ga = specificity(a.detector);
  const gb = specificity(b.detector);
  if (ga !== gb) return ga > gb;
  return a.end - a.start > b.end - b.start;
}

const AWS_SECRET_NEAR = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;

export class DetectionEngine {
  readonly detectors: readonly DetectorSpec[];
  readonly #compiled: Compiled[];
  readonly #byKeyword: number[][];
  /** Length of each keyword (a keyword's characters are one byte each). */
  readonly #keywordLength: Int32Array;
  /** 1 for detectors whose hits run after the others (generic shapes, whose validators are the costliest). */
  readonly #deferred: Uint8Array;
  readonly #prefilter: Prefilter;
  readonly #allow: readonly (string | RegExp)[];
  readonly #min: number;
  /** Keyword indexes from here on are UTF-8 sequences that Unicode normalisation would change. */
  readonly #firstTrigger: number;

  constructor(options: EngineOptions = {}) {
    const enable = new Set(options.enable ?? []);
    const disable = new Set(options.disable ?? []);
    const all = options.detectors ?? ALL_DETECTORS;
    this.detectors = all.filter((d) => !disable.has(d.id) && (d.optIn !== true || enable.has(d.id)));
    this.#compiled = this.detectors.map((spec) => {
      const back = spec.back ?? 0;
      try {
        const requires = spec.requires === undefined ? undefined : { table: byteTable(spec.requires.anyOf, spec.requires.stop ?? ''), within: spec.requires.within };
        return {
          spec, back, requires, spaceFree: cannotMatchSpace(spec.pattern),
          re: new RegExp(spec.pattern, `y${spec.flags ?? ''}`), reIndices: new RegExp(spec.pattern, `yd${spec.flags ?? ''}`),
        };
      } catch (e) {
        throw new Error(`detector ${spec.id}: invalid pattern (${e instanceof Error ? e.message : String(e)})`, { cause: e });
      }
    });
    const keywordIndex = new Map<string, number>();
    const byKeyword: number[][] = [];
    this.#compiled.forEach((c, di) => {
      for (const k of c.spec.keywords) {
        let ki = keywordIndex.get(k);
        if (ki === undefined) {
          ki = byKeyword.length;
          keywordIndex.set(k, ki);
          byKeyword.push([]);
        }
        const list = byKeyword[ki];
        if (list !== undefined && !list.includes(di)) list.push(di);
      }
    });
    this.#byKeyword = byKeyword;
    this.#keywordLength = Int32Array.from(keywordIndex.keys(), (k) => k.length);
    this.#deferred = Uint8Array.from(this.#compiled, (c) => (c.spec.id === 'generic-secret' ? 1 : 0));
    this.#firstTrigger = byKeyword.length;
    this.#prefilter = new Prefilter([...keywordIndex.keys(), ...NORMALIZE_PREFIXES]);
    this.#allow = options.allow ?? [];
    this.#min = confidenceRank(options.minConfidence ?? 'low');
  }

  /** The prefilter's keywords: every enabled detector's, then the normalisation triggers' UTF-8 lead bytes. No keyword, no match. */
  get keywords(): readonly string[] {
    return this.#prefilter.keywords;
  }

  /**
   * All matches in `text`. `bytes`, when given, must be the latin1 bytes of
   * `text` (one byte per UTF-16 unit, as `buf.toString('latin1')` or
   * `ByteSource` reads them), so that offsets agree. `triggers` collects the
   * offsets of characters Unicode normalisation would change.
   */
  matches(text: string | TextSource, bytes?: Uint8Array, triggers?: number[]): RawMatch[] {
    const buf = bytes ?? Buffer.from(typeof text === 'string' ? text : text.slice(0), 'latin1');
    const found: RawMatch[] = [];
    const coveredUntil = new Int32Array(this.#compiled.length).fill(-1);
    // Deferred hits of generic detectors: run after the specific ones, and not judged where a specific match already is.
    const deferred: number[] = [];
    const attempt = (di: number, start: number, length: number, covered?: (s: number, e: number) => boolean): void => {
      if (start < (coveredUntil[di] ?? -1)) return;
      const c = this.#compiled[di];
      if (c === undefined) return;
      const m = this.#tryAt(c, text, start, length, covered);
      if (m === undefined) return;
      if (typeof m === 'number') {
        coveredUntil[di] = m;
        return;
      }
      coveredUntil[di] = m.end;
      found.push(m);
    };
    const hits = this.#prefilter.collect(buf);
    const firstTrigger = this.#firstTrigger;
    for (let h = 0; h < hits.length; h += 2) {
      const start = hits[h]!;
      const k = hits[h + 1]!;
      if (k >= firstTrigger) {
        if (triggers !== undefined && triggers.length < 4096 && isTriggerAt(buf, start)) triggers.push(start);
        continue;
      }
      const length = this.#keywordLength[k]!;
      for (const di of this.#byKeyword[k] ?? []) {
        if (this.#deferred[di] === 1) deferred.push(di, start, length);
        else attempt(di, start, length);
      }
    }
    if (deferred.length > 0) {
      const specific = found.slice();
      // A generic match over a specific one always loses in #finish (confidence, then specificity): skip its validator.
      const covered = (s: number, e: number): boolean => specific.some((f) => f.secretStart < e && f.secretEnd > s);
      for (let i = 0; i < deferred.length; i += 3) attempt(deferred[i]!, deferred[i + 1]!, deferred[i + 2]!, covered);
    }
    this.#pairAws(text, found);
    return this.#finish(text, found);
  }

  /**
   * The detector's match at a keyword, validated; `covered` (when given) is asked
   * before the validator, and a covered match returns only its end (the region
   * is done, nothing is reported).
   */
  #tryAt(c: Compiled, text: TextSource, keywordStart: number, keywordLength: number, covered?: (s: number, e: number) => boolean): RawMatch | number | undefined {
    const { spec, re, reIndices, back } = c;
    // The cheap byte tests first: where the window ends, and whether a character every match has is in it.
    let end = Math.min(text.length, keywordStart + spec.maxLength + 8);
    if (c.requires !== undefined && !requiredAhead(text, keywordStart + keywordLength, Math.min(end, keywordStart + c.requires.within), c.requires.table)) return undefined;
    if (c.spaceFree) end = firstSpace(text, keywordStart, end);
    let start = keywordStart;
    // A detector that starts before its keyword (a URL scheme before `://`) walks back over scheme characters.
    for (let n = 0; n < back && start > 0 && isSchemeChar(text.charCodeAt(start - 1)); n++) start--;
    if (spec.letterBoundary === true && start > 0) {
      const p = text.charCodeAt(start - 1);
      if ((p >= 65 && p <= 90) || (p >= 97 && p <= 122)) return undefined;
    }
    const ws = start;
    const window = text.slice(ws, end);
    re.lastIndex = 0;
    if (!re.test(window)) return undefined;
    reIndices.lastIndex = 0;
    const m = reIndices.exec(window);
    if (m === null) return undefined;
    const groups = m.groups ?? {};
    let confidence = spec.confidence;
    let id = spec.id;
    let group = 'secret';
    if (covered !== undefined) {
      const g = m.indices?.groups?.secret;
      const s0 = ws + m.index;
      if (covered(g === undefined ? s0 : ws + g[0], g === undefined ? s0 + m[0].length : ws + g[1])) return s0 + m[0].length;
    }
    if (spec.validator !== undefined) {
      const v = runValidator(spec.validator, m[0], groups);
      if (!v.ok) return undefined;
      if (v.weak === true) confidence = spec.weakConfidence ?? 'low';
      if (v.id !== undefined) id = v.id;
      if (v.secretGroup !== undefined) group = v.secretGroup;
    }
    const gi = m.indices?.groups?.[group];
    const s0 = ws + m.index;
    return {
      detector: id, provider: spec.provider, confidence,
      start: s0, end: s0 + m[0].length,
      secretStart: gi === undefined ? s0 : ws + gi[0],
      secretEnd: gi === undefined ? s0 + m[0].length : ws + gi[1],
    };
  }

  /** An AWS access key id makes a 40-character random value near it a secret access key (and the pair high confidence). */
  #pairAws(text: TextSource, found: RawMatch[]): void {
    const ids = found.filter((f) => f.detector === 'aws-access-key-id');
    for (const f of ids) {
      const from = Math.max(0, f.start - 300);
      const window = text.slice(from, f.end + 300);
      AWS_SECRET_NEAR.lastIndex = 0;
      for (const m of window.matchAll(AWS_SECRET_NEAR)) {
        if (!judgeRandomness(m[0]).random) continue;
        const s = from + m.index;
        found.push({ detector: 'aws-secret-access-key', provider: 'AWS', confidence: 'high', start: s, end: s + 40, secretStart: s, secretEnd: s + 40 });
        found[found.indexOf(f)] = { ...f, confidence: 'high' };
        break;
      }
    }
  }

  #allowed(text: TextSource, m: RawMatch): boolean {
    if (this.#allow.length === 0) return false;
    const secret = text.slice(m.secretStart, m.secretEnd);
    const whole = text.slice(m.start, m.end);
    return this.#allow.some((a) => (typeof a === 'string' ? a === secret || a === whole : a.test(secret) || a.test(whole)));
  }

  #finish(text: TextSource, found: RawMatch[]): RawMatch[] {
    const kept = found.filter((f) => confidenceRank(f.confidence) >= this.#min && !this.#allowed(text, f));
    kept.sort((a, b) => a.start - b.start || b.end - a.end);
    const out: RawMatch[] = [];
    for (const m of kept) {
      const last = out[out.length - 1];
      if (last !== undefined && m.secretStart < last.secretEnd && m.secretEnd > last.secretStart) {
        if (better(m, last)) out[out.length - 1] = m;
        continue;
      }
      out.push(m);
    }
    return out;
  }
}

/** The redacted sample of a match: never the secret. */
export function sampleOf(text: TextSource, m: RawMatch): string {
  return redactSample(text.slice(m.secretStart, m.secretEnd));
}
