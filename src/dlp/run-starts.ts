/**
 * Where runs of base64 characters (16 or more), of digits (13 or more) and
 * of separated hex bytes may start in a buffer, 16
 * positions at a time with WebAssembly SIMD: the decoding layers' base64
 * and separated-hex runs and the card-number check look only there instead
 * of stepping through the text character by character (on prose, where
 * nearly every character is a letter, that stepping was the largest cost of
 * the proxy's body scan after the prefilter).
 *
 * `runStarts(buf)` gives two 32-bit words per 16 bytes: in word 0 of block
 * `k`, bit `i` (0-15) is set when bytes `16k + i` to `16k + i + 15` are all
 * in the base64 alphabets (`A-Za-z0-9+/_-`), bit `16 + i` when bytes `16k + i`
 * to `16k + i + 12` are all ASCII digits; in word 1, bit `i` when bytes
 * `16k + i` to `16k + i + 14` are two hex digits and a separator (`-`, `:`,
 * space, comma) five times over: how every separated-hex match begins.
 * Positions past the end count as none of them. It also lists the blocks
 * with any bit set, so `nextRunStart` skips the rest (on prose, nearly all).
 * The module is assembled from this source (`wasm-asm.ts`) on first use;
 * without WebAssembly (`--jitless`) `runStarts` returns undefined and the
 * callers step through the text as before.
 */
import { assembleModule, op, type WasmFunction } from './wasm-asm.js';

/** Blocks of 16 bytes classified per call (64 KiB of input). */
const SEG_BLOCKS = 4096;
/** Input area: a segment, the block after it, and zeros. */
const INPUT_BYTES = (SEG_BLOCKS + 1) * 16;
/** Two words per block, then the list of blocks with any bit set. */
const OUT = INPUT_BYTES;
const LIST = OUT + SEG_BLOCKS * 8;
const MEMORY_BYTES = LIST + SEG_BLOCKS * 4;

function splat(b: number): number[] {
  return op.v128Const(Array<number>(16).fill(b));
}

function runStartsFunction(): WasmFunction {
  // params: 0 inp, 1 nblocks, 2 out, 3 list; i32 locals: 4 k, 5 prev, 6 cur, 7 w, 8 r, 9 prevHex, 10 curHex, 11 n, 12 word,
  // 13 digit runs, 14 separators, 15 hex-hex-separator; v128 locals: 16 v, 17 digits, 18 '-', 19 letters shifted
  const [INP, NB, OUTP, LISTP, K, PREV, CUR, W, R, PREVH, CURH, N, WORD, DR, WS, B3, V, D, H, L] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
  /**
   * Leaves the block at inp + 16k + offset as (base64 mask) | (digit mask) << 16; sets `into` to
   * (hex digit mask) | (separator mask) << 16. Ranges are tested with one signed comparison: a byte plus (0x80 - low) wraps
   * into [-128, -128 + size) exactly when it lies in [low, low + size).
   */
  const classify = (offset: number, into: number): number[][] => [
    op.get(INP), op.get(K), op.const(4), op.shl(), op.add(), op.v128Load(offset), op.set(V),
    op.get(V), splat(0x80 - 0x30), op.i8x16Add(), splat(0x80 + 10), op.i8x16LtS(), op.set(D),
    // Letters of either case: (v | 0x20) + (0x80 - 'a').
    op.get(V), splat(0x20), op.v128Or(), splat(0x80 - 0x61), op.i8x16Add(), op.set(L),
    // Hex digits, and (high half) the separators `-`, `:`, space, comma.
    op.get(L), splat(0x80 + 6), op.i8x16LtS(), op.get(D), op.v128Or(), op.i8x16Bitmask(),
    op.get(V), splat(0x20), op.i8x16Eq(),
    op.get(V), splat(0x3a), op.i8x16Eq(), op.v128Or(),
    op.get(V), splat(0x2c), op.i8x16Eq(), op.v128Or(),
    op.get(V), splat(0x2d), op.i8x16Eq(), op.tee(H), op.v128Or(), op.i8x16Bitmask(), op.const(16), op.shl(), op.or(), op.set(into),
    // Base64 alphabets: letters, digits, `-` (in `H`), `+`, `/`, `_`.
    op.get(L), splat(0x80 + 26), op.i8x16LtS(),
    op.get(D), op.v128Or(), op.get(H), op.v128Or(),
    op.get(V), splat(0x2b), op.i8x16Eq(), op.v128Or(),
    op.get(V), splat(0x2f), op.i8x16Eq(), op.v128Or(),
    op.get(V), splat(0x5f), op.i8x16Eq(), op.v128Or(),
    op.i8x16Bitmask(),
    op.get(D), op.i8x16Bitmask(), op.const(16), op.shl(), op.or(),
  ];
  /** The bits of `w` (on the stack) that start runs of set bits as long as the shifts add up to, low 16 only. */
  const runs = (last: number): number[][] => [
    op.tee(W), op.get(W), op.const(1), op.shrU(), op.and(), op.set(R),
    op.get(R), op.get(R), op.const(2), op.shrU(), op.and(), op.set(R),
    op.get(R), op.get(R), op.const(4), op.shrU(), op.and(), op.set(R),
    op.get(R), op.get(R), op.const(last), op.shrU(), op.and(), op.const(0xffff), op.and(),
  ];
  /** The address of this block's two words. */
  const word = (): number[][] => [op.get(OUTP), op.get(K), op.const(3), op.shl(), op.add()];
  return {
    name: 'runStarts', params: 4, locals: 12, vectors: 4,
    body: [
      ...classify(0, PREVH), op.set(PREV),
      op.block(), op.loop(),
      op.get(K), op.get(NB), op.geU(), op.brIf(1),
      ...classify(16, CURH), op.set(CUR),
      // Word 0: base64, 16 in a row (1 + 1 + 2 + 4 + 8) over this block's mask and the next's; digits, 13 (1 + 1 + 2 + 4 + 5).
      ...word(),
      op.get(PREV), op.const(0xffff), op.and(), op.get(CUR), op.const(16), op.shl(), op.or(), ...runs(8),
      // Digit runs only where either block has a digit (none, on most text).
      op.const(0), op.set(DR),
      op.get(PREV), op.get(CUR), op.or(), op.const(0xffff0000), op.and(),
      op.if(),
      op.get(PREV), op.const(16), op.shrU(), op.get(CUR), op.const(0xffff0000), op.and(), op.or(), ...runs(5), op.set(DR),
      op.end(),
      op.get(DR), op.const(16), op.shl(), op.or(), op.tee(WORD),
      op.store(),
      // Word 1: two hex digits and a separator, five times (15 bytes: how every separated-hex match begins).
      ...word(),
      op.get(PREVH), op.const(0xffff), op.and(), op.get(CURH), op.const(16), op.shl(), op.or(), op.set(W),
      op.get(PREVH), op.const(16), op.shrU(), op.get(CURH), op.const(0xffff0000), op.and(), op.or(), op.set(WS),
      // b: hex, hex, separator at i; then 6, 12 and 15 bytes of the pattern.
      op.get(W), op.get(W), op.const(1), op.shrU(), op.and(), op.get(WS), op.const(2), op.shrU(), op.and(), op.set(B3),
      op.get(B3), op.get(B3), op.const(3), op.shrU(), op.and(), op.set(R),
      op.get(R), op.get(R), op.const(6), op.shrU(), op.and(), op.get(B3), op.const(12), op.shrU(), op.and(), op.const(0xffff), op.and(), op.tee(R),
      op.store(4),
      // The block joins the list when either word has a bit (branch-free: the slot is always written).
      op.get(LISTP), op.get(N), op.const(2), op.shl(), op.add(), op.get(K), op.store(),
      op.get(N), op.get(WORD), op.get(R), op.or(), op.eqz(), op.eqz(), op.add(), op.set(N),
      op.get(CUR), op.set(PREV), op.get(CURH), op.set(PREVH),
      op.get(K), op.const(1), op.add(), op.set(K),
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
  readonly run: (inp: number, nblocks: number, out: number, list: number) => number;
  readonly bytes: Uint8Array;
  readonly out: Int32Array;
  readonly list: Int32Array;
}

let classifier: Classifier | null | undefined;

function getClassifier(): Classifier | undefined {
  if (classifier === undefined) {
    classifier = null;
    const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
    try {
      if (api !== undefined) {
        const memory = new api.Memory({ initial: Math.ceil(MEMORY_BYTES / 65536) });
        const instance = new api.Instance(new api.Module(assembleModule([runStartsFunction()])), { env: { mem: memory } });
        const run = (instance.exports as { runStarts: Classifier['run'] }).runStarts;
        classifier = { run, bytes: new Uint8Array(memory.buffer), out: new Int32Array(memory.buffer, OUT, SEG_BLOCKS * 2), list: new Int32Array(memory.buffer, LIST, SEG_BLOCKS) };
      }
    } catch {
      classifier = null; // no WebAssembly or no SIMD here: callers step through the text
    }
  }
  return classifier ?? undefined;
}

/** Whether `runStarts` works in this process (for tests). */
export function runStartsAvailable(): boolean {
  return getClassifier() !== undefined;
}

/** Run starts of one buffer: two words per block of 16 bytes, and the blocks where either has a bit set. */
export interface RunStarts {
  readonly length: number;
  readonly words: Int32Array;
  readonly blocks: Int32Array;
  readonly count: number;
}

/** What a run is made of: 16 base64 characters, 13 digits, or the first 15 characters of separated hex. */
export type RunKind = 'base64' | 'digits' | 'hex-sep';

/** Blocks whose arrays are kept for the next call (inputs up to 2 MiB: the proxy's body batches); larger ones get their own. */
const KEPT_BLOCKS = 2 * 65536;
let keptWords = new Int32Array(0);
let keptBlocks = new Int32Array(0);

/**
 * The run starts of `buf`, or undefined without WebAssembly. For inputs up
 * to 2 MiB the arrays are reused: they hold this result only until the
 * next call.
 */
export function runStarts(buf: Uint8Array): RunStarts | undefined {
  const c = getClassifier();
  if (c === undefined) return undefined;
  const n = buf.length;
  const nb = (n + 15) >>> 4;
  let words = keptWords;
  let blocks = keptBlocks;
  if (nb > KEPT_BLOCKS) {
    words = new Int32Array(2 * nb);
    blocks = new Int32Array(nb);
  } else if (words.length < 2 * nb) {
    keptWords = words = new Int32Array(2 * Math.min(KEPT_BLOCKS, nb + (nb >>> 1)));
    keptBlocks = blocks = new Int32Array(Math.min(KEPT_BLOCKS, nb + (nb >>> 1)));
  }
  let count = 0;
  for (let b0 = 0; b0 < nb; b0 += SEG_BLOCKS) {
    const seg = Math.min(SEG_BLOCKS, nb - b0);
    const from = b0 * 16;
    // The segment and the block after it (its first bytes decide runs that start near the segment's end).
    const to = Math.min(n, from + (seg + 1) * 16);
    c.bytes.set(buf.subarray(from, to), 0);
    c.bytes.fill(0, to - from, (seg + 1) * 16);
    const listed = c.run(0, seg, OUT, LIST);
    words.set(seg === SEG_BLOCKS ? c.out : c.out.subarray(0, 2 * seg), 2 * b0);
    for (let i = 0; i < listed; i++) blocks[count++] = b0 + c.list[i]!;
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
    let r = (w[2 * k + slot]! >>> shift) & 0xffff;
    if (k === first) r &= 0xffff << (from & 15);
    if (r !== 0) return (k << 4) + 31 - Math.clz32(r & -r);
  }
  return -1;
}
