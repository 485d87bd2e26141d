/**
 * Keyword prefilter: an Aho-Corasick automaton compiled to a dense DFA over
 * byte classes. One pass over the bytes, a table load per byte, no
 * backtracking; detectors' regexes then run only in windows around the hits.
 */

/** Inputs at least this long are scanned as four interleaved streams. */
const INTERLEAVE_MIN = 4096;

export interface KeywordHit {
  /** Index of the keyword in the list the prefilter was built from. */
  readonly keyword: number;
  /** Offset of the keyword's first byte. */
  readonly start: number;
}

export class Prefilter {
  readonly keywords: readonly string[];
  readonly #classes: Uint8Array;
  readonly #width: number;
  /** delta[state + class] = next state, premultiplied by the width. */
  readonly #delta: Int32Array;
  /** States at or above this (premultiplied) value have outputs. */
  readonly #threshold: number;
  readonly #outputs: (readonly number[])[];
  /** Length in bytes of the longest keyword. */
  readonly #longest: number;

  constructor(keywords: readonly string[]) {
    this.keywords = keywords;
    const classes = new Uint8Array(256);
    let width = 1;
    const bytes = keywords.map((k) => Buffer.from(k, 'latin1'));
    for (const b of bytes) for (const ch of b) if (classes[ch] === 0) classes[ch] = width++;
    const go: Map<number, number>[] = [new Map<number, number>()];
    const out: number[][] = [[]];
    bytes.forEach((b, id) => {
      if (b.length === 0) throw new Error('empty keyword');
      let st = 0;
      for (const ch of b) {
        const c = classes[ch] ?? 0;
        let next = go[st]?.get(c);
        if (next === undefined) {
          next = go.length;
          go.push(new Map<number, number>());
          out.push([]);
          go[st]?.set(c, next);
        }
        st = next;
      }
      out[st]?.push(id);
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
      out[st] = [...(out[st] ?? []), ...(out[f] ?? [])];
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
    // Renumber so that states with outputs come last; premultiply by the width.
    // The scan loop then needs one comparison per byte to notice an output.
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
    // The start state must stay state 0 (it has no outputs, so it sorts first).
    this.#classes = classes;
    this.#width = width;
    this.#delta = table;
    this.#outputs = outputs;
    this.#threshold = (firstOut < 0 ? n : firstOut) * width;
    this.#longest = Math.max(1, ...bytes.map((b) => b.length));
  }

  /**
   * Calls `onHit` for every keyword occurrence (overlapping ones included), in
   * order of their end. Long inputs run as four interleaved automata over four
   * quarters (each quarter but the first starts `longest - 1` bytes early, so its
   * state is exact from its own first byte on): one automaton is bound by the
   * latency of its table load, four overlap it.
   */
  scan(bytes: Uint8Array, onHit: (keyword: number, start: number) => void): void {
    const len = bytes.length;
    if (len < INTERLEAVE_MIN || len < this.#longest * 16) {
      this.#scanRange(bytes, 0, len, 0, 0, onHit);
      return;
    }
    const delta = this.#delta;
    const classes = this.#classes;
    const threshold = this.#threshold;
    const back = this.#longest - 1;
    const q = Math.ceil(len / 4);
    // Stream k reads [from[k], to[k]); it reports hits ending at or after k * q.
    const from = [0, q - back, 2 * q - back, 3 * q - back];
    const to = [q, 2 * q, 3 * q, len];
    const hits: number[][] = [[], [], [], []];
    const common = Math.min(to[0]! - from[0]!, to[1]! - from[1]!, to[2]! - from[2]!, to[3]! - from[3]!);
    const f1 = from[1]!;
    const f2 = from[2]!;
    const f3 = from[3]!;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < common; i++) {
      s0 = delta[s0 + classes[bytes[i]!]!]!;
      s1 = delta[s1 + classes[bytes[f1 + i]!]!]!;
      s2 = delta[s2 + classes[bytes[f2 + i]!]!]!;
      s3 = delta[s3 + classes[bytes[f3 + i]!]!]!;
      if (s0 >= threshold || s1 >= threshold || s2 >= threshold || s3 >= threshold) {
        if (s0 >= threshold) hits[0]!.push(i, s0);
        if (s1 >= threshold) hits[1]!.push(f1 + i, s1);
        if (s2 >= threshold) hits[2]!.push(f2 + i, s2);
        if (s3 >= threshold) hits[3]!.push(f3 + i, s3);
      }
    }
    const states = [s0, s1, s2, s3];
    for (let k = 0; k < 4; k++) {
      const list = hits[k]!;
      const min = k * q;
      for (let j = 0; j < list.length; j += 2) {
        const at = list[j]!;
        if (at >= min) this.#emit(list[j + 1]!, at, onHit);
      }
      this.#scanRange(bytes, from[k]! + common, to[k]!, states[k]!, min, onHit);
    }
  }

  /** One automaton over [from, to) starting in state `st`; reports hits ending at or after `min`. */
  #scanRange(bytes: Uint8Array, from: number, to: number, st: number, min: number, onHit: (keyword: number, start: number) => void): void {
    const delta = this.#delta;
    const classes = this.#classes;
    const threshold = this.#threshold;
    for (let i = from; i < to; i++) {
      st = delta[st + classes[bytes[i]!]!]!;
      if (st >= threshold && i >= min) this.#emit(st, i, onHit);
    }
  }

  #emit(st: number, i: number, onHit: (keyword: number, start: number) => void): void {
    for (const k of this.#outputs[st / this.#width] ?? []) onHit(k, i + 1 - (this.keywords[k]?.length ?? 0));
  }

  hits(bytes: Uint8Array): KeywordHit[] {
    const out: KeywordHit[] = [];
    this.scan(bytes, (keyword, start) => out.push({ keyword, start }));
    return out;
  }
}
