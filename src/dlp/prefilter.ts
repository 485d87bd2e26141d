/**
 * Keyword prefilter: an Aho-Corasick automaton compiled to a dense DFA over
 * byte classes. One pass over the bytes, a table load per byte, no
 * backtracking; detectors' regexes then run only in windows around the hits.
 */

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
  }

  /** Calls `onHit` for every keyword occurrence (overlapping ones included), in order of their end. */
  scan(bytes: Uint8Array, onHit: (keyword: number, start: number) => void): void {
    const delta = this.#delta;
    const classes = this.#classes;
    const threshold = this.#threshold;
    const len = bytes.length;
    let st = 0;
    for (let i = 0; i < len; i++) {
      st = delta[st + classes[bytes[i]!]!]!;
      if (st >= threshold) this.#emit(st, i, onHit);
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
