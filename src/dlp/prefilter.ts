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
  /** delta[state + class] = next state premultiplied by width; negative (-(s)-1) when the state has outputs. */
  readonly #delta: Int32Array;
  readonly #outputs: (readonly number[])[];

  constructor(keywords: readonly string[]) {
    this.keywords = keywords;
    const classes = new Uint8Array(256);
    let width = 1;
    const bytes = keywords.map((k) => Buffer.from(k, 'latin1'));
    for (const b of bytes) for (const ch of b) if (classes[ch] === 0) classes[ch] = width++;
    const go: Map<number, number>[] = [new Map()];
    const out: number[][] = [[]];
    bytes.forEach((b, id) => {
      if (b.length === 0) throw new Error('empty keyword');
      let st = 0;
      for (const ch of b) {
        const c = classes[ch] ?? 0;
        let next = go[st]?.get(c);
        if (next === undefined) {
          next = go.length;
          go.push(new Map());
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
    // Premultiply and mark output states with a negative encoding.
    for (let i = 0; i < delta.length; i++) {
      const t = delta[i] ?? 0;
      delta[i] = (out[t]?.length ?? 0) > 0 ? -(t * width) - 1 : t * width;
    }
    this.#classes = classes;
    this.#width = width;
    this.#delta = delta;
    this.#outputs = out;
  }

  /** Calls `onHit` for every keyword occurrence (overlapping ones included), in order of their end. */
  scan(bytes: Uint8Array, onHit: (keyword: number, start: number) => void): void {
    const delta = this.#delta;
    const classes = this.#classes;
    const width = this.#width;
    const len = bytes.length;
    let st = 0;
    for (let i = 0; i < len; i++) {
      st = delta[st + (classes[bytes[i] ?? 0] ?? 0)] ?? 0;
      if (st < 0) {
        st = -st - 1;
        for (const k of this.#outputs[st / width] ?? []) onHit(k, i + 1 - (this.keywords[k]?.length ?? 0));
      }
    }
  }

  hits(bytes: Uint8Array): KeywordHit[] {
    const out: KeywordHit[] = [];
    this.scan(bytes, (keyword, start) => out.push({ keyword, start }));
    return out;
  }
}
