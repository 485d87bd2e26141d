/**
 * The injection scanner's single pass: every rule keyword and every trigger
 * character found in one walk over the text. An Aho-Corasick automaton over
 * keyword classes, compiled to a dense DFA on UTF-16 code units. ASCII
 * letters are folded to lowercase in the class table (and the Kelvin sign to
 * `k`, the one other code unit `toLowerCase` turns into ASCII), so no
 * lowercase copy of the text is made and offsets are the text's own. Trigger
 * code units (the character rules' ranges; for astral ranges, their high
 * surrogates) share one class that leads to an output state of its own.
 * Texts of 4 KiB and more run as four interleaved automata (one automaton is
 * bound by the latency of its table load; four overlap it). Short texts are
 * first checked against a 2 KiB table of the keywords' leading pairs and
 * triples (`mayHit`): a text none of whose positions starts one, and with no
 * code unit past ASCII, holds no keyword and no trigger, and the automaton's
 * tables (cold in a process that slept between messages) are not touched.
 */

/** Inputs at least this long are scanned as four interleaved streams. */
const INTERLEAVE_MIN = 4096;
const KELVIN = 0x212a;
/** Bits of the leading-triple filter (hashed; a collision only sends a text to the automaton). */
const TRIPLE_BITS = 8192;
/** Output id of the trigger-character class. */
const TRIGGER = -1;

export type CodePointRange = readonly [number, number];

export class KeywordAutomaton {
  readonly keywords: readonly string[];
  readonly #classes: Uint8Array;
  readonly #width: number;
  /** delta[state + class] = next state, premultiplied by the width; states with outputs are numbered last. */
  readonly #delta: Int32Array;
  readonly #threshold: number;
  readonly #outputs: (readonly number[])[];
  readonly #lengths: Int32Array;
  readonly #longest: number;
  /** Bit per folded ASCII pair `a * 128 + b` that is a whole keyword. */
  readonly #pairs = new Uint8Array(2048);
  /** Bit per hashed folded ASCII triple that begins a keyword. */
  readonly #triples = new Uint8Array(TRIPLE_BITS / 8);
  /** A one-character keyword: the leading-pair filter cannot rule anything out. */
  #single = false;

  constructor(keywords: readonly string[], triggers: readonly CodePointRange[] = []) {
    this.keywords = keywords;
    const classes = new Uint8Array(65536);
    let width = 1;
    for (const k of keywords) {
      if (k === '' || !/^[\x20-\x7e]+$/.test(k) || k !== k.toLowerCase()) throw new TypeError(`injection keyword ${JSON.stringify(k)} must be lowercase printable ASCII and not empty`);
      for (let i = 0; i < k.length; i++) {
        const c = k.charCodeAt(i);
        if (classes[c] !== 0) continue;
        if (width >= 255) throw new RangeError('too many distinct keyword characters');
        classes[c] = width++;
      }
    }
    for (let c = 0x61; c <= 0x7a; c++) if (classes[c] !== 0) classes[c - 0x20] = classes[c] ?? 0;
    if (classes[0x6b] !== 0) classes[KELVIN] = classes[0x6b] ?? 0;
    const trigger = triggers.length === 0 ? 0 : width++;
    const mark = (unit: number): void => {
      if (classes[unit] !== 0 && classes[unit] !== trigger) throw new RangeError(`trigger code unit ${unit.toString(16)} is also a keyword character`);
      classes[unit] = trigger;
    };
    for (const [lo, hi] of triggers) {
      if (!(lo <= hi) || lo < 0x80 || hi > 0x10ffff) throw new RangeError(`trigger range ${lo.toString(16)}-${hi.toString(16)} must be non-ASCII code points`);
      for (let cp = lo; cp <= Math.min(hi, 0xffff); cp++) mark(cp);
      // An astral code point is announced by its high surrogate (a superset: the rule's regex decides).
      const high = (cp: number): number => 0xd800 + ((cp - 0x10000) >> 10);
      if (hi >= 0x10000) for (let unit = high(Math.max(lo, 0x10000)); unit <= high(hi); unit++) mark(unit);
    }
    const words: number[][] = keywords.map((k) => [...k].map((ch) => classes[ch.charCodeAt(0)] ?? 0));
    if (trigger !== 0) words.push([trigger]);
    const ids = keywords.map((_, i) => i);
    if (trigger !== 0) ids.push(TRIGGER);
    const { delta, outputs, threshold } = compile(words, ids, width);
    this.#classes = classes;
    this.#width = width;
    this.#delta = delta;
    this.#outputs = outputs;
    this.#threshold = threshold;
    this.#lengths = Int32Array.from(keywords, (k) => k.length);
    this.#longest = Math.max(1, ...keywords.map((k) => k.length));
    for (const k of keywords) {
      // Keywords are lowercase printable ASCII, so the folded text spells them exactly.
      if (k.length === 1) this.#single = true;
      else if (k.length === 2) setBit(this.#pairs, k.charCodeAt(0) * 128 + k.charCodeAt(1));
      else setBit(this.#triples, triple(k.charCodeAt(0), k.charCodeAt(1), k.charCodeAt(2)));
    }
  }

  /**
   * False only when `text` holds no keyword (in any ASCII case) and no
   * trigger code unit: every code unit is ASCII and no position starts a
   * keyword's folded first two (two-character keywords) or three characters.
   * True means "run the automaton". Linear; meant for short texts.
   */
  mayHit(text: string): boolean {
    if (this.#single) return true;
    const n = text.length;
    const pairs = this.#pairs;
    const triples = this.#triples;
    let a = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      let c = text.charCodeAt(i);
      if (c >= 0x80) return true;
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      if (i >= 1 && (pairs[(b * 128 + c) >> 3]! & (1 << ((b * 128 + c) & 7))) !== 0) return true;
      if (i >= 2) {
        const t = triple(a, b, c);
        if ((triples[t >> 3]! & (1 << (t & 7))) !== 0) return true;
      }
      a = b;
      b = c;
    }
    return false;
  }

  /**
   * Appends `keyword, start` pairs to `hits` for every keyword occurrence
   * (overlapping ones included, case-insensitive for ASCII letters); returns
   * true when the text holds a trigger code unit.
   */
  scan(text: string, hits: number[]): boolean {
    const len = text.length;
    if (len < INTERLEAVE_MIN || len < this.#longest * 16) return this.#scanRange(text, 0, len, 0, 0, hits);
    const delta = this.#delta;
    const classes = this.#classes;
    const threshold = this.#threshold;
    const back = this.#longest - 1;
    const q = Math.ceil(len / 4);
    // Stream k reads [from[k], to[k]) and reports hits ending at or after k * q.
    const from = [0, q - back, 2 * q - back, 3 * q - back];
    const to = [q, 2 * q, 3 * q, len];
    const ends: number[][] = [[], [], [], []];
    const common = Math.min(q, len - from[3]!);
    const f1 = from[1]!;
    const f2 = from[2]!;
    const f3 = from[3]!;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < common; i++) {
      s0 = delta[s0 + classes[text.charCodeAt(i)]!]!;
      s1 = delta[s1 + classes[text.charCodeAt(f1 + i)]!]!;
      s2 = delta[s2 + classes[text.charCodeAt(f2 + i)]!]!;
      s3 = delta[s3 + classes[text.charCodeAt(f3 + i)]!]!;
      if (s0 >= threshold || s1 >= threshold || s2 >= threshold || s3 >= threshold) {
        if (s0 >= threshold) ends[0]!.push(i, s0);
        if (s1 >= threshold) ends[1]!.push(f1 + i, s1);
        if (s2 >= threshold) ends[2]!.push(f2 + i, s2);
        if (s3 >= threshold) ends[3]!.push(f3 + i, s3);
      }
    }
    const states = [s0, s1, s2, s3];
    let trig = false;
    for (let k = 0; k < 4; k++) {
      const list = ends[k]!;
      const min = k * q;
      for (let j = 0; j < list.length; j += 2) {
        const at = list[j]!;
        if (at >= min) trig = this.#emit(list[j + 1]!, at, hits) || trig;
      }
      trig = this.#scanRange(text, from[k]! + common, to[k]!, states[k]!, min, hits) || trig;
    }
    return trig;
  }

  /** One automaton over [from, to) from state `st`; reports hits ending at or after `min`. */
  #scanRange(text: string, from: number, to: number, st: number, min: number, hits: number[]): boolean {
    const delta = this.#delta;
    const classes = this.#classes;
    const threshold = this.#threshold;
    let trig = false;
    for (let i = from; i < to; i++) {
      st = delta[st + classes[text.charCodeAt(i)]!]!;
      if (st >= threshold && i >= min) trig = this.#emit(st, i, hits) || trig;
    }
    return trig;
  }

  #emit(st: number, end: number, hits: number[]): boolean {
    let trig = false;
    for (const k of this.#outputs[st / this.#width] ?? []) {
      if (k === TRIGGER) trig = true;
      else hits.push(k, end + 1 - (this.#lengths[k] ?? 0));
    }
    return trig;
  }
}

function setBit(bits: Uint8Array, i: number): void {
  bits[i >> 3] = (bits[i >> 3] ?? 0) | (1 << (i & 7));
}

/** Hash of three ASCII code units into the triple filter. */
function triple(a: number, b: number, c: number): number {
  return ((a * 16381 + b * 127 + c) * 2654435761 >>> 0) % TRIPLE_BITS;
}

/** Aho-Corasick over class sequences, as a dense DFA with output states numbered last and states premultiplied by `width`. */
function compile(words: readonly (readonly number[])[], ids: readonly number[], width: number): { delta: Int32Array; outputs: (readonly number[])[]; threshold: number } {
  const go: Map<number, number>[] = [new Map<number, number>()];
  const out: number[][] = [[]];
  words.forEach((w, i) => {
    let st = 0;
    for (const c of w) {
      let next = go[st]?.get(c);
      if (next === undefined) {
        next = go.length;
        go.push(new Map<number, number>());
        out.push([]);
        go[st]?.set(c, next);
      }
      st = next;
    }
    out[st]?.push(ids[i] ?? 0);
  });
  const n = go.length;
  const delta = new Int32Array(n * width);
  const fail = new Int32Array(n);
  const queue: number[] = [];
  for (let c = 1; c < width; c++) {
    const t = go[0]?.get(c);
    if (t !== undefined) {
      delta[c] = t;
      queue.push(t);
    }
  }
  for (let qi = 0; qi < queue.length; qi++) {
    const st = queue[qi] ?? 0;
    const f = fail[st] ?? 0;
    if (st !== f) out[st] = [...(out[st] ?? []), ...(out[f] ?? [])];
    for (let c = 1; c < width; c++) {
      const t = go[st]?.get(c);
      if (t !== undefined) {
        fail[t] = delta[f * width + c] ?? 0;
        delta[st * width + c] = t;
        queue.push(t);
      } else {
        delta[st * width + c] = delta[f * width + c] ?? 0;
      }
    }
  }
  const order = [...Array(n).keys()].sort((a, b) => Number((out[a]?.length ?? 0) > 0) - Number((out[b]?.length ?? 0) > 0));
  const newId = new Int32Array(n);
  order.forEach((old, i) => {
    newId[old] = i;
  });
  const firstOut = order.findIndex((old) => (out[old]?.length ?? 0) > 0);
  const table = new Int32Array(n * width);
  const outputs: (readonly number[])[] = new Array<readonly number[]>(n);
  for (let old = 0; old < n; old++) {
    const ns = newId[old] ?? 0;
    outputs[ns] = out[old] ?? [];
    for (let c = 0; c < width; c++) table[ns * width + c] = (newId[delta[old * width + c] ?? 0] ?? 0) * width;
  }
  return { delta: table, outputs, threshold: (firstOut < 0 ? n : firstOut) * width };
}
