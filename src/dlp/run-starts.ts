/**
 * Where runs of base64 characters (16 or more), of digits (13 or more) and
 * of separated hex bytes may start in a buffer, 16
 * positions at a time with WebAssembly SIMD: the decoding layers' base64
 * and separated-hex runs and the card-number check look only there instead
 * of stepping through the text character by character (on prose, where
 * nearly every character is a letter, that stepping was the largest cost of
 * the proxy's body scan after the prefilter).
 *
 * `runStarts(buf)` gives two 32-bit words per block of 16 bytes that has
 * any bit set, and the list of those blocks (on prose, nearly none, so
 * `nextRunStart` skips the rest): in word 0 of block `k`, bit `i` (0-15) is
 * set when bytes `16k + i` to `16k + i + 15` are all in the base64
 * alphabets (`A-Za-z0-9+/_-`), bit `16 + i` when bytes `16k + i` to
 * `16k + i + 12` are all ASCII digits; in word 1, bit `i` when bytes
 * `16k + i` to `16k + i + 14` are two hex digits and a separator (`-`, `:`,
 * space, comma) five times over: how every separated-hex match begins.
 * Positions past the end count as none of them. Each byte's classes come
 * from two 16-entry nibble tables (one lookup each, as in the prefilter);
 * the runs are found on 64-bit masks of four blocks at a time, three blocks
 * per step (a run read from block `k` needs 15 bits of block `k + 1`).
 * The module is assembled from this source (`wasm-asm.ts`) on first use;
 * without WebAssembly (`--jitless`) `runStarts` returns undefined and the
 * callers step through the text as before.
 */
import { enableRelaxedSimd } from './prefilter-wasm.js';
import { assembleModule, op, type WasmFunction } from './wasm-asm.js';

/** Blocks of 16 bytes classified per call (64 KiB of input). */
const SEG_BLOCKS = 4096;
/** Input area: a segment, the block after it, and zeros (a step reads up to three blocks past its first). */
const INPUT_BYTES = (SEG_BLOCKS + 4) * 16;
/** The blocks with any bit set: (block, word 0, word 1) each. */
const LIST = INPUT_BYTES;
const MEMORY_BYTES = LIST + SEG_BLOCKS * 12;

/**
 * Each byte's classes as bits of one byte, `lo[b & 15] & hi[b >> 4]` (each bit is a set of low nibbles times a
 * set of high nibbles): 7 digits, 6 `A-O` `a-o`, 5 `P-Z` `p-z`, 4 `+` `-` `/`, 3 `_` (bits 3-7: the base64
 * alphabets, so a byte is one of them when its class byte is above 7), 2 `A-F` `a-f` (with bit 7: hex
 * digits), 1 space, comma, `-`, 0 `:` (bits 0-1: the separators). Bytes of 0x80 and up have none.
 */
const CLASS_RECTANGLES: readonly (readonly [number, readonly number[], readonly number[]])[] = [
  [7, [3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
  [6, [4, 6], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]],
  [5, [5, 7], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]],
  [4, [2], [0xb, 0xd, 0xf]],
  [3, [5], [0xf]],
  [2, [4, 6], [1, 2, 3, 4, 5, 6]],
  [1, [2], [0, 0xc, 0xd]],
  [0, [3], [0xa]],
];

function classTables(): { lo: number[]; hi: number[] } {
  const lo = Array<number>(16).fill(0);
  const hi = Array<number>(16).fill(0);
  for (const [bit, his, los] of CLASS_RECTANGLES) {
    for (const h of his) hi[h] = (hi[h] ?? 0) | (1 << bit);
    for (const l of los) lo[l] = (lo[l] ?? 0) | (1 << bit);
  }
  return { lo, hi };
}

function splat(b: number): number[] {
  return op.v128Const(Array<number>(16).fill(b));
}

function runStartsFunction(relaxed: boolean): WasmFunction {
  // params: 0 inp, 1 nblocks, 2 list; i32 locals: 3 k, 4 n, 5 p, 6 w0, 7 w1, 8 j;
  // v128 locals: 9 v, 10 c, 11 nibble mask, 12 low-nibble table, 13 high-nibble table;
  // i64 locals: 14 base64, 15 digits, 16 hex, 17 separators (masks of four blocks, bit i = byte 16k + i), 18 r, 19 base64 runs, 20 digit runs, 21 hex-sep starts
  const [INP, NB, LISTP, K, N, P, W0, W1, J, V, C, NIB, LOT, HIT, B, D, H, S, R, RB, RD, RH] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21];
  const lookup = relaxed ? op.relaxedSwizzle : op.swizzle;
  const { lo, hi } = classTables();
  /** The class byte of each of the 16 bytes at p + offset, into C. */
  const classify = (offset: number): number[][] => [
    op.get(LOT), op.get(P), op.v128Load(offset), op.tee(V), op.get(NIB), op.v128And(), lookup(),
    op.get(HIT), op.get(V), op.const(4), op.i16x8ShrU(), op.get(NIB), op.v128And(), lookup(),
    op.v128And(), op.set(C),
  ];
  /** ORs the 16-bit mask on the stack into `into` at block `j` of the window. */
  const put = (into: number, j: number): number[][] => [
    op.i64ExtendI32U(), ...(j === 0 ? [] : [op.i64Const(16 * j), op.i64Shl()]), op.get(into), op.i64Or(), op.set(into),
  ];
  /** The four masks of the block at p + 16j, into block j of the window. */
  const masks = (j: number): number[][] => [
    ...classify(16 * j),
    op.get(C), splat(7), op.i8x16GtU(), op.i8x16Bitmask(), ...put(B, j),
    op.get(C), op.i8x16Bitmask(), ...put(D, j),
    op.get(C), op.const(5), op.i16x8Shl(), op.i8x16Bitmask(), op.get(C), op.i8x16Bitmask(), op.or(), ...put(H, j),
    op.get(C), op.const(6), op.i16x8Shl(), op.i8x16Bitmask(), op.get(C), op.const(7), op.i16x8Shl(), op.i8x16Bitmask(), op.or(), ...put(S, j),
  ];
  /** r = x & x >> a; r &= r >> b; ... (bit i: the bits i to i + a + b + ... all set). */
  const andShifts = (x: number, shifts: readonly number[]): number[][] => [
    op.get(x), op.get(x), op.i64Const(shifts[0] ?? 1), op.i64ShrU(), op.i64And(),
    ...shifts.slice(1).flatMap((sh) => [op.tee(R), op.get(R), op.i64Const(sh), op.i64ShrU(), op.i64And()]),
  ];
  /** Bits 16j to 16j + 15 of an i64 local, as an i32. */
  const part = (x: number): number[][] => [
    op.get(x), op.get(J), op.const(4), op.shl(), op.i64ExtendI32U(), op.i64ShrU(), op.i32WrapI64(), op.const(0xffff), op.and(),
  ];
  return {
    name: 'runStarts', params: 3, locals: 6, vectors: 5, wides: 8,
    body: [
      op.v128Const(lo), op.set(LOT), op.v128Const(hi), op.set(HIT), splat(0x0f), op.set(NIB),
      op.get(INP), op.set(P),
      ...masks(0),
      op.block(), op.loop(),
      op.get(K), op.get(NB), op.geU(), op.brIf(1),
      // The window: blocks k to k + 3 (block k's masks were its last block); starts are read for k to k + 2.
      ...masks(1), ...masks(2), ...masks(3),
      // Base64, 16 in a row (1 + 1 + 2 + 4 + 8); digits, 13 (1 + 1 + 2 + 4 + 5), only where there is a digit.
      ...andShifts(B, [1, 2, 4, 8]), op.set(RB),
      op.i64Const(0), op.set(RD),
      op.get(D), op.i64Eqz(), op.eqz(),
      op.if(), ...andShifts(D, [1, 2, 4, 5]), op.set(RD), op.end(),
      // Two hex digits and a separator at i (b), then at i + 3, i + 6, i + 9 and i + 12: 15 bytes.
      op.get(H), op.get(H), op.i64Const(1), op.i64ShrU(), op.i64And(), op.get(S), op.i64Const(2), op.i64ShrU(), op.i64And(), op.set(S),
      ...andShifts(S, [3, 6]), op.get(S), op.i64Const(12), op.i64ShrU(), op.i64And(), op.set(RH),
      // Anything in the three blocks (on prose, almost never): list each block with a bit, below nblocks.
      op.get(RB), op.get(RD), op.i64Or(), op.get(RH), op.i64Or(), op.i64Const(0xffffffffffff), op.i64And(), op.i64Eqz(), op.eqz(),
      op.if(),
      op.const(0), op.set(J),
      op.block(), op.loop(),
      op.get(J), op.const(3), op.geU(), op.brIf(1),
      op.get(K), op.get(J), op.add(), op.get(NB), op.geU(), op.brIf(1),
      ...part(RB), ...part(RD), op.const(16), op.shl(), op.or(), op.set(W0),
      ...part(RH), op.set(W1),
      op.get(W0), op.get(W1), op.or(),
      op.if(),
      op.get(LISTP), op.get(N), op.const(12), op.mul(), op.add(), op.tee(P), op.get(K), op.get(J), op.add(), op.store(),
      op.get(P), op.get(W0), op.store(4),
      op.get(P), op.get(W1), op.store(8),
      op.get(N), op.const(1), op.add(), op.set(N),
      op.end(),
      op.get(J), op.const(1), op.add(), op.set(J),
      op.br(0),
      op.end(), op.end(),
      op.end(),
      // Block k + 3 is the next window's first.
      op.get(B), op.i64Const(48), op.i64ShrU(), op.set(B),
      op.get(D), op.i64Const(48), op.i64ShrU(), op.set(D),
      op.get(H), op.i64Const(48), op.i64ShrU(), op.set(H),
      // S was overwritten by b (hex, hex, separator): its separator mask is rebuilt from block k + 3's class bytes, kept in C.
      op.get(C), op.const(6), op.i16x8Shl(), op.i8x16Bitmask(), op.get(C), op.const(7), op.i16x8Shl(), op.i8x16Bitmask(), op.or(), op.i64ExtendI32U(), op.set(S),
      op.get(K), op.const(3), op.add(), op.tee(K), op.const(4), op.shl(), op.get(INP), op.add(), op.set(P),
      op.br(0),
      op.end(), op.end(),
      op.get(N),
    ],
  };
}

/** The part of the WebAssembly JS API used here (the project's type libraries do not declare it). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: object };
  readonly Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
}

interface Classifier {
  readonly run: (inp: number, nblocks: number, list: number) => number;
  readonly bytes: Uint8Array;
  readonly list: Int32Array;
}

let classifier: Classifier | null | undefined;

function getClassifier(): Classifier | undefined {
  if (classifier === undefined) {
    classifier = null;
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    // The relaxed lookup (one instruction) where the engine takes it, turned on as for the prefilter; else the plain one.
    for (const relaxed of [true, true, false]) {
      try {
        if (api === undefined) break;
        const memory = new api.Memory({ initial: Math.ceil(MEMORY_BYTES / 65536) });
        const instance = new api.Instance(new api.Module(assembleModule([runStartsFunction(relaxed)])), { env: { mem: memory } });
        const run = (instance.exports as { runStarts: Classifier['run'] }).runStarts;
        classifier = { run, bytes: new Uint8Array(memory.buffer), list: new Int32Array(memory.buffer, LIST, SEG_BLOCKS * 3) };
        break;
      } catch {
        // not supported here: the next variant (after the first failure, with relaxed SIMD turned on where it is behind a flag);
        // without WebAssembly or SIMD, callers step through the text
        if (relaxed) enableRelaxedSimd();
      }
    }
  }
  return classifier ?? undefined;
}

/** Whether `runStarts` works in this process (for tests). */
export function runStartsAvailable(): boolean {
  return getClassifier() !== undefined;
}

/**
 * Run starts of one buffer: the blocks of 16 bytes where any run starts, in
 * order (`blocks`, the first `count`), and two words for each listed block
 * (`words[2i]`, `words[2i + 1]`, as described above).
 */
export interface RunStarts {
  readonly length: number;
  readonly words: Int32Array;
  readonly blocks: Int32Array;
  readonly count: number;
}

/** What a run is made of: 16 base64 characters, 13 digits, or the first 15 characters of separated hex. */
export type RunKind = 'base64' | 'digits' | 'hex-sep';

/** Listed blocks whose arrays are kept for the next call (up to 2 MiB of input all listed); larger lists get their own. */
const KEPT_BLOCKS = 2 * 65536;
let keptWords = new Int32Array(0);
let keptBlocks = new Int32Array(0);

/**
 * The run starts of `buf`, or undefined without WebAssembly. The arrays are
 * reused while they hold up to `KEPT_BLOCKS` listed blocks: a result is
 * valid only until the next call.
 */
export function runStarts(buf: Uint8Array): RunStarts | undefined {
  const c = getClassifier();
  if (c === undefined) return undefined;
  const n = buf.length;
  const nb = (n + 15) >>> 4;
  let words = keptWords;
  let blocks = keptBlocks;
  let count = 0;
  for (let b0 = 0; b0 < nb; b0 += SEG_BLOCKS) {
    const seg = Math.min(SEG_BLOCKS, nb - b0);
    const from = b0 * 16;
    // The segment and the block after it (its first bytes decide runs that start near the segment's end), then zeros.
    const to = Math.min(n, from + (seg + 1) * 16);
    c.bytes.set(buf.subarray(from, to), 0);
    c.bytes.fill(0, to - from, (seg + 4) * 16);
    const listed = c.run(0, seg, LIST);
    if (listed === 0) continue;
    if (count + listed > blocks.length) {
      const size = Math.min(nb, Math.max(count + listed, 2 * blocks.length, 1024));
      const w = new Int32Array(2 * size);
      const b = new Int32Array(size);
      w.set(words.subarray(0, 2 * count));
      b.set(blocks.subarray(0, count));
      words = w;
      blocks = b;
      if (size <= KEPT_BLOCKS) {
        keptWords = w;
        keptBlocks = b;
      }
    }
    const list = c.list;
    for (let i = 0; i < listed; i++) {
      blocks[count] = b0 + list[3 * i]!;
      words[2 * count] = list[3 * i + 1]!;
      words[2 * count + 1] = list[3 * i + 2]!;
      count++;
    }
  }
  return { length: n, words, blocks, count };
}

/** The first position p >= from where a run of `kind` starts, or -1. */
export function nextRunStart(starts: RunStarts, from: number, kind: RunKind): number {
  const { words: w, blocks: list, count } = starts;
  const first = from >>> 4;
  // The first listed block at or after `first`.
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! < first) lo = mid + 1;
    else hi = mid;
  }
  const slot = kind === 'hex-sep' ? 1 : 0;
  const shift = kind === 'digits' ? 16 : 0;
  for (let i = lo; i < count; i++) {
    const k = list[i]!;
    let r = (w[2 * i + slot]! >>> shift) & 0xffff;
    if (k === first) r &= 0xffff << (from & 15);
    if (r !== 0) return (k << 4) + 31 - Math.clz32(r & -r);
  }
  return -1;
}
