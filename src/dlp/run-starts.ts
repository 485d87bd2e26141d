/**
 * Where runs of base64 characters (16 or more) and of digits (13 or more)
 * may start in a buffer, 16 positions at a time with WebAssembly SIMD: the
 * decoding layers' base64 runs and the card-number check look only there
 * instead of stepping through the text character by character (on prose,
 * where nearly every character is a letter, that stepping was the largest
 * cost of the proxy's body scan after the prefilter).
 *
 * `runStarts(buf)` gives one 32-bit word per 16 bytes: bit `i` (0-15) of
 * word `k` is set when bytes `16k + i` to `16k + i + 15` are all in the
 * base64 alphabets (`A-Za-z0-9+/_-`), bit `16 + i` when bytes `16k + i` to
 * `16k + i + 12` are all ASCII digits. Positions past the end count as
 * neither. `nextRunStart` finds the first such position from a given one.
 * The module is assembled from this source (`wasm-asm.ts`) on first use;
 * without WebAssembly (`--jitless`) `runStarts` returns undefined and the
 * callers step through the text as before.
 */
import { assembleModule, op, type WasmFunction } from './wasm-asm.js';

/** Blocks of 16 bytes classified per call (64 KiB of input). */
const SEG_BLOCKS = 4096;
/** Input area: a segment, the block after it, and zeros. */
const INPUT_BYTES = (SEG_BLOCKS + 1) * 16;
const OUT = INPUT_BYTES;
const MEMORY_BYTES = OUT + SEG_BLOCKS * 4;

/** Base64 characters: at least this many in a row make a run the layers decode. */
export const BASE64_RUN = 16;
/** Digits: at least this many in a row may be a card number. */
export const DIGIT_RUN = 13;

function splat(b: number): number[] {
  return op.v128Const(Array<number>(16).fill(b));
}

function runStartsFunction(): WasmFunction {
  // params: 0 inp, 1 nblocks, 2 out; i32 locals: 3 k, 4 prev, 5 cur, 6 w, 7 r; v128 locals: 8 v, 9 digits
  const [INP, NB, OUTP, K, PREV, CUR, W, R, V, D] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  /** The block at inp + 16k + offset as (base64 mask) | (digit mask) << 16. */
  const classify = (offset: number): number[][] => [
    op.get(INP), op.get(K), op.const(4), op.shl(), op.add(), op.v128Load(offset), op.set(V),
    // Letters: (v | 0x20) - 'a' <= 25 unsigned (bytes of 0x80 and up land above 25).
    op.get(V), splat(0x20), op.v128Or(), splat(0x61), op.i8x16Sub(), splat(25), op.i8x16LeU(),
    op.get(V), splat(0x30), op.i8x16Sub(), splat(9), op.i8x16LeU(), op.tee(D), op.v128Or(),
    op.get(V), splat(0x2b), op.i8x16Eq(), op.v128Or(),
    op.get(V), splat(0x2f), op.i8x16Eq(), op.v128Or(),
    op.get(V), splat(0x5f), op.i8x16Eq(), op.v128Or(),
    op.get(V), splat(0x2d), op.i8x16Eq(), op.v128Or(),
    op.i8x16Bitmask(),
    op.get(D), op.i8x16Bitmask(), op.const(16), op.shl(), op.or(),
  ];
  /** r = bits of `w` (on the stack) that start `need` set bits in a row, low 16 only. */
  const runs = (last: number): number[][] => [
    op.tee(W), op.get(W), op.const(1), op.shrU(), op.and(), op.set(R),
    op.get(R), op.get(R), op.const(2), op.shrU(), op.and(), op.set(R),
    op.get(R), op.get(R), op.const(4), op.shrU(), op.and(), op.set(R),
    op.get(R), op.get(R), op.const(last), op.shrU(), op.and(), op.const(0xffff), op.and(),
  ];
  return {
    name: 'runStarts', params: 3, locals: 5, vectors: 2,
    body: [
      ...classify(0), op.set(PREV),
      op.block(), op.loop(),
      op.get(K), op.get(NB), op.geU(), op.brIf(1),
      ...classify(16), op.set(CUR),
      op.get(OUTP), op.get(K), op.const(2), op.shl(), op.add(),
      // base64: 16 in a row (1 + 1 + 2 + 4 + 8) over this block's mask and the next's.
      op.get(PREV), op.const(0xffff), op.and(), op.get(CUR), op.const(16), op.shl(), op.or(), ...runs(8),
      // digits: 13 in a row (1 + 1 + 2 + 4 + 5).
      op.get(PREV), op.const(16), op.shrU(), op.get(CUR), op.const(0xffff0000), op.and(), op.or(), ...runs(5),
      op.const(16), op.shl(), op.or(),
      op.store(),
      op.get(CUR), op.set(PREV),
      op.get(K), op.const(1), op.add(), op.set(K),
      op.br(0),
      op.end(), op.end(),
      op.get(K),
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
  readonly run: (inp: number, nblocks: number, out: number) => number;
  readonly bytes: Uint8Array;
  readonly out: Int32Array;
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
        classifier = { run, bytes: new Uint8Array(memory.buffer), out: new Int32Array(memory.buffer, OUT, SEG_BLOCKS) };
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

let words = new Int32Array(0);

/**
 * The run-start words of `buf` (one per 16 bytes, then a zero), or undefined
 * without WebAssembly. The array is reused: it holds this result only until
 * the next call.
 */
export function runStarts(buf: Uint8Array): Int32Array | undefined {
  const c = getClassifier();
  if (c === undefined) return undefined;
  const n = buf.length;
  const nb = (n + 15) >>> 4;
  if (words.length < nb + 1) words = new Int32Array(nb + 1 + (nb >>> 2));
  for (let b0 = 0; b0 < nb; b0 += SEG_BLOCKS) {
    const count = Math.min(SEG_BLOCKS, nb - b0);
    const from = b0 * 16;
    // The segment and the block after it (its first bytes decide runs that start near the segment's end).
    const to = Math.min(n, from + (count + 1) * 16);
    c.bytes.set(buf.subarray(from, to), 0);
    c.bytes.fill(0, to - from, (count + 1) * 16);
    c.run(0, count, OUT);
    words.set(count === SEG_BLOCKS ? c.out : c.out.subarray(0, count), b0);
  }
  words[nb] = 0;
  return words.subarray(0, nb + 1);
}

/**
 * The first position p >= from (below `length`) where a run starts: bits 0-15
 * of the words for base64 (`shift` 0), 16-31 for digits (`shift` 16); -1 if none.
 */
export function nextRunStart(starts: Int32Array, from: number, length: number, shift: 0 | 16): number {
  const nb = (length + 15) >>> 4;
  let k = from >>> 4;
  if (k >= nb) return -1;
  let r = ((starts[k]! >>> shift) & 0xffff) & (0xffff << (from & 15));
  while (r === 0) {
    k++;
    if (k >= nb) return -1;
    r = (starts[k]! >>> shift) & 0xffff;
  }
  return (k << 4) + 31 - Math.clz32(r & -r);
}
