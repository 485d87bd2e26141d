/**
 * Keyword prefilter: finds every occurrence of every keyword (exact bytes) in
 * one pass, so detectors' regexes run only in windows around the hits.
 *
 * Two stages. A filter looks at each position's first three bytes: a table of
 * 64 KiB indexed by the byte pair says which low 3 bits of the third byte can
 * follow in some keyword (all of them for keywords of one or two bytes). No
 * state is carried from byte to byte, so the loop is not bound by a chain of
 * table loads as an automaton is; on source code about 1% of positions pass.
 * Each passing position is then verified by walking a trie of the keywords
 * from it. The loops run as WebAssembly assembled from this repository's
 * source (`prefilter-wasm.ts`), over 64 KiB chunks copied into its memory;
 * where WebAssembly is unavailable (`--jitless`) the same algorithm runs in
 * JavaScript.
 */
import { createPrefilterInstance, prefilterWasmAvailable, type PrefilterExports } from './prefilter-wasm.js';
import { teddyTables } from './teddy.js';

export interface KeywordHit {
  /** Index of the keyword in the list the prefilter was built from. */
  readonly keyword: number;
  /** Offset of the keyword's first byte. */
  readonly start: number;
}

export type PrefilterBackend = 'wasm' | 'js';

export interface PrefilterOptions {
  /** `js` forces the JavaScript loops (tests compare the two); default: WebAssembly when available. */
  readonly backend?: PrefilterBackend;
}

/** Start positions scanned per call into WebAssembly. */
const CHUNK = 64 * 1024;
/** Inputs shorter than this are scanned by the JavaScript loops. */
const WASM_MIN = 1024;
/** (start, node) pairs collected per verify call. */
const HIT_CAP = 16 * 1024;

const align = (n: number): number => (n + 63) & ~63;

interface WasmState {
  readonly exports: PrefilterExports;
  readonly mem: Uint8Array;
  readonly i32: Int32Array;
  readonly at: { readonly classes: number; readonly tab: number; readonly bm: number; readonly term: number; readonly trie: number; readonly inp: number; readonly cand: number; readonly hits: number };
}

export class Prefilter {
  readonly keywords: readonly string[];
  readonly backend: PrefilterBackend;
  /** Byte -> class (0: in no keyword). */
  readonly #classes: Uint8Array;
  readonly #width: number;
  /** bm[b0 | b1 << 8] bit (b2 & 7): some keyword starts with b0 b1 and a byte with those low bits. */
  readonly #bm: Uint8Array;
  /** trie[node * width + class] = child node, 0 for none (the root is no one's child). */
  readonly #trie: Uint16Array;
  /** 1 for nodes that end a keyword. */
  readonly #term: Uint8Array;
  readonly #outputs: (readonly number[])[];
  /** The keyword a node ends when it ends exactly one, else -1. */
  readonly #single: Int32Array;
  /** Length in bytes of the longest keyword. */
  readonly #longest: number;
  /** Built on the first input long enough to use it (tables and memory cost milliseconds and ~1 MB); null once it failed. */
  #wasm: WasmState | null | undefined;
  /** Scratch list of hits, reused by every `collect` (which returns a copy). */
  readonly #pairs = new Pairs();

  constructor(keywords: readonly string[], options: PrefilterOptions = {}) {
    this.keywords = keywords;
    const classes = new Uint8Array(256);
    let width = 1;
    const bytes = keywords.map((k) => Buffer.from(k, 'latin1'));
    for (const b of bytes) for (const ch of b) if (classes[ch] === 0) classes[ch] = width++;
    const children: Map<number, number>[] = [new Map<number, number>()];
    const out: number[][] = [[]];
    const bm = new Uint8Array(65536);
    bytes.forEach((b, id) => {
      if (b.length === 0) throw new Error('empty keyword');
      let node = 0;
      for (const ch of b) {
        const c = classes[ch] ?? 0;
        let next = children[node]?.get(c);
        if (next === undefined) {
          next = children.length;
          children.push(new Map<number, number>());
          out.push([]);
          children[node]?.set(c, next);
        }
        node = next;
      }
      out[node]?.push(id);
      const b0 = b[0] ?? 0;
      if (b.length === 1) for (let x = 0; x < 256; x++) bm[b0 | (x << 8)] = 0xff;
      else {
        const h = b0 | ((b[1] ?? 0) << 8);
        bm[h] = (bm[h] ?? 0) | (b.length === 2 ? 0xff : 1 << ((b[2] ?? 0) & 7));
      }
    });
    const n = children.length;
    if (n > 0xffff) throw new Error('too many keyword bytes for the prefilter trie');
    const trie = new Uint16Array(n * width);
    children.forEach((m, node) => {
      for (const [c, child] of m) trie[node * width + c] = child;
    });
    this.#classes = classes;
    this.#width = width;
    this.#bm = bm;
    this.#trie = trie;
    this.#term = Uint8Array.from(out, (o) => (o.length > 0 ? 1 : 0));
    this.#outputs = out;
    this.#single = Int32Array.from(out, (o) => (o.length === 1 ? (o[0] ?? -1) : -1));
    this.#longest = Math.max(1, ...bytes.map((b) => b.length));
    this.backend = options.backend !== 'js' && prefilterWasmAvailable() ? 'wasm' : 'js';
  }

  #instantiate(): WasmState | undefined {
    const classes = 16;
    const tab = classes + 256;
    const tables = teddyTables(this.keywords.map((k) => Buffer.from(k, 'latin1')));
    const bm = align(tab + tables.length);
    const term = align(bm + this.#bm.length);
    const trie = align(term + this.#term.length);
    const inp = align(trie + this.#trie.byteLength);
    const cand = align(inp + CHUNK + this.#longest + 64);
    const hits = align(cand + 4 * (CHUNK + 16));
    const total = hits + 8 * HIT_CAP;
    const instance = createPrefilterInstance(total);
    if (instance === undefined) return undefined;
    const mem = new Uint8Array(instance.buffer);
    mem.set(this.#classes, classes);
    mem.set(tables, tab);
    mem.set(this.#bm, bm);
    mem.set(this.#term, term);
    mem.set(new Uint8Array(this.#trie.buffer, this.#trie.byteOffset, this.#trie.byteLength), trie);
    return { exports: instance.exports, mem, i32: new Int32Array(instance.buffer), at: { classes, tab, bm, term, trie, inp, cand, hits } };
  }

  /**
   * Calls `onHit` for every keyword occurrence (overlapping ones included), in
   * order of their start, and at one start in order of their length.
   */
  scan(bytes: Uint8Array, onHit: (keyword: number, start: number) => void): void {
    const found = this.collect(bytes);
    for (let i = 0; i < found.length; i += 2) onHit(found[i + 1]!, found[i]!);
  }

  /** Every keyword occurrence as (start, keyword) pairs, in the order `scan` reports them. */
  collect(bytes: Uint8Array): Int32Array {
    const out = this.#pairs;
    out.clear();
    // Short inputs (a URL, a header) stay in JavaScript: copying them into WebAssembly memory costs more than it saves.
    const wasm = this.backend === 'wasm' && bytes.length >= WASM_MIN ? (this.#wasm ??= this.#instantiate() ?? null) : null;
    if (wasm !== null) this.#collectWasm(wasm, bytes, out);
    else this.#collectJs(bytes, out);
    return out.take();
  }

  #collectWasm(w: WasmState, bytes: Uint8Array, out: Pairs): void {
    const { exports, mem, i32, at } = w;
    const len = bytes.length;
    const hits = at.hits >> 2;
    for (let base = 0; base < len; base += CHUNK) {
      const limit = Math.min(CHUNK, len - base);
      const copied = Math.min(len, base + limit + this.#longest - 1) - base;
      mem.set(bytes.subarray(base, base + copied), at.inp);
      mem.fill(0, at.inp + copied, at.inp + copied + 64);
      let n = exports.teddy(at.inp, limit, at.tab, at.cand, at.bm);
      while (n > 0 && (i32[(at.cand >> 2) + n - 1] ?? 0) >= limit) n--;
      for (let ci = 0; ci < n;) {
        const h = exports.verify(at.inp, copied, at.cand, ci, n, at.trie, this.#width, at.term, at.hits, HIT_CAP - this.#longest - 1, at.classes);
        ci = i32[0] ?? n;
        for (let k = 0; k < h; k++) this.#emit(out, base + i32[hits + 2 * k]!, i32[hits + 2 * k + 1]!);
      }
    }
  }

  #emit(out: Pairs, start: number, node: number): void {
    const only = this.#single[node]!;
    if (only >= 0) out.push(start, only);
    else for (const kw of this.#outputs[node] ?? []) out.push(start, kw);
  }

  #collectJs(bytes: Uint8Array, out: Pairs): void {
    const bm = this.#bm;
    const len = bytes.length;
    const end = len - 2;
    for (let i = 0; i < end; i++) {
      if (((bm[bytes[i]! | (bytes[i + 1]! << 8)]! >> (bytes[i + 2]! & 7)) & 1) !== 0) this.#walk(bytes, i, out);
    }
    for (let i = Math.max(0, end); i < len; i++) {
      const b1 = i + 1 < len ? bytes[i + 1]! : 0;
      if ((bm[bytes[i]! | (b1 << 8)]! & 1) !== 0) this.#walk(bytes, i, out);
    }
  }

  /** Every keyword starting at `i`. */
  #walk(bytes: Uint8Array, i: number, out: Pairs): void {
    const trie = this.#trie;
    const classes = this.#classes;
    const width = this.#width;
    let node = 0;
    for (let j = i; j < bytes.length; j++) {
      node = trie[node * width + classes[bytes[j]!]!]!;
      if (node === 0) return;
      if (this.#term[node] === 1) this.#emit(out, i, node);
    }
  }

  hits(bytes: Uint8Array): KeywordHit[] {
    const out: KeywordHit[] = [];
    this.scan(bytes, (keyword, start) => out.push({ keyword, start }));
    return out;
  }
}

/** A growing list of (start, keyword) pairs. */
class Pairs {
  #buf = new Int32Array(256);
  #n = 0;
  clear(): void {
    this.#n = 0;
  }
  push(start: number, keyword: number): void {
    if (this.#n + 2 > this.#buf.length) {
      const bigger = new Int32Array(this.#buf.length * 2);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    this.#buf[this.#n++] = start;
    this.#buf[this.#n++] = keyword;
  }
  /** A copy of the pairs (the scratch list is reused by the next scan). */
  take(): Int32Array {
    return this.#buf.slice(0, this.#n);
  }
}
