/**
 * The prefilter's two loops as WebAssembly, assembled from this source
 * (`wasm-asm.ts`) on first use:
 *
 * - `filter(inp, len, bm, cand)`: for every position i < len, whether the
 *   byte pair at i starts a keyword and the third byte's low 3 bits are
 *   allowed after it (`bm[b0 | b1 << 8] >> (b2 & 7) & 1`); positions are
 *   written branch-free to `cand` (the slot is always written, the count
 *   grows by the flag). Unrolled by four, so it may report up to three
 *   positions at or after `len` (the caller drops them).
 * - `verify(inp, len, cand, from, n, trie, width, term, hits, capLimit, classes)`:
 *   walks the keyword trie (dense, u16, `trie[node * width + class]`, 0 = no
 *   edge) from each candidate, writing (start, node) pairs for nodes that end
 *   a keyword; stops before a candidate once more than `capLimit` hits are
 *   written, and stores the next candidate index at address 0.
 *
 * Memory is imported, so one compiled module serves every prefilter.
 */
import { setFlagsFromString } from 'node:v8';
import { assembleModule, op, type WasmFunction } from './wasm-asm.js';

export interface PrefilterExports {
  teddy(inp: number, len: number, tab: number, cand: number, bm: number): number;
  verify(inp: number, len: number, cand: number, from: number, n: number, trie: number, width: number, term: number, hits: number, capLimit: number, classes: number): number;
}

/** Bytes of each position a SIMD block tests, and the bytes of tables per tested byte. */
export const TEDDY_BYTES = 4;
export const TEDDY_TABLE = 64;

function teddyFunction(relaxed: boolean): WasmFunction {
  // params: 0 inp, 1 len, 2 tab, 3 cand, 4 bm; i32 locals: 5 i, 6 n, 7 bits, 8 p, 9 pos, 10 w; v128 locals: 11 lo, 12 hi, 13 a, 14 b, 15 v
  const [LEN, TAB, CAND, BM, I, N, BITS, P, POS, W, LO, HI, A, B, V] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  const INP = 0;
  const nibble = op.v128Const(Array<number>(16).fill(0x0f));
  const zero = op.v128Const(Array<number>(16).fill(0));
  // Nibbles are always below 16, where the relaxed lookup is defined and equal to the plain one.
  const lookup = relaxed ? op.relaxedSwizzle : op.swizzle;
  const test = (k: number): number[][] => {
    const t = TEDDY_TABLE * k;
    const half = (into: number, off: number): number[][] => [
      op.get(TAB), op.v128Load(t + off), op.get(LO), lookup(),
      op.get(TAB), op.v128Load(t + off + 16), op.get(HI), lookup(), op.v128And(),
      ...(k === 0 ? [] : [op.get(into), op.v128And()]), op.set(into),
    ];
    return [
      op.get(P), op.v128Load(k), op.tee(V), nibble, op.v128And(), op.set(LO),
      op.get(V), op.const(4), op.i16x8ShrU(), nibble, op.v128And(), op.set(HI),
      ...half(A, 0), ...half(B, 32),
    ];
  };
  const tests: number[][] = [];
  for (let k = 0; k < TEDDY_BYTES; k++) tests.push(...test(k));
  return {
    name: 'teddy', params: 5, locals: 6, vectors: 5,
    body: [
      op.block(), op.loop(),
      op.get(I), op.get(LEN), op.geU(), op.brIf(1),
      op.get(INP), op.get(I), op.add(), op.set(P),
      ...tests,
      op.get(A), op.get(B), op.v128Or(), op.tee(V), op.anyTrue(),
      op.if(),
      op.get(V), zero, op.i8x16Ne(), op.i8x16Bitmask(), op.set(BITS),
      op.block(), op.loop(),
      op.get(BITS), op.eqz(), op.brIf(1),
      // The exact test of the first two bytes and the third's low bits (`bm`), branch-free: the slot is always written.
      op.get(I), op.get(BITS), op.ctz(), op.add(), op.set(POS),
      op.get(CAND), op.get(N), op.const(2), op.shl(), op.add(), op.get(POS), op.store(),
      op.get(INP), op.get(POS), op.add(), op.load(), op.set(W),
      op.get(BM), op.get(W), op.const(0xffff), op.and(), op.add(), op.load8u(),
      op.get(W), op.const(16), op.shrU(), op.const(7), op.and(), op.shrU(), op.const(1), op.and(),
      op.get(N), op.add(), op.set(N),
      op.get(BITS), op.get(BITS), op.const(1), op.sub(), op.and(), op.set(BITS),
      op.br(0),
      op.end(), op.end(),
      op.end(),
      op.get(I), op.const(16), op.add(), op.set(I),
      op.br(0),
      op.end(), op.end(),
      op.get(N),
    ],
  };
}

function verifyFunction(): WasmFunction {
  // params: 0 inp, 1 len, 2 cand, 3 from, 4 n, 5 trie, 6 width, 7 term, 8 hits, 9 capLimit, 10 classes
  // locals: 11 ci, 12 i, 13 j, 14 node, 15 h
  const [INP, LEN, CAND, FROM, N, TRIE, WIDTH, TERM, HITS, CAP, CLASSES] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [CI, I, J, NODE, H] = [11, 12, 13, 14, 15];
  return {
    name: 'verify', params: 11, locals: 5,
    body: [
      op.get(FROM), op.set(CI),
      op.block(), op.loop(),
      op.get(CI), op.get(N), op.geU(), op.brIf(1),
      op.get(H), op.get(CAP), op.gtU(), op.brIf(1),
      op.get(CAND), op.get(CI), op.const(2), op.shl(), op.add(), op.load(), op.tee(I), op.set(J),
      op.const(0), op.set(NODE),
      op.block(), op.loop(),
      op.get(J), op.get(LEN), op.geU(), op.brIf(1),
      // node = trie[node * width + classes[inp[j]]]
      op.get(TRIE),
      op.get(NODE), op.get(WIDTH), op.mul(),
      op.get(CLASSES), op.get(INP), op.get(J), op.add(), op.load8u(), op.add(), op.load8u(),
      op.add(), op.const(1), op.shl(), op.add(), op.load16u(), op.tee(NODE),
      op.eqz(), op.brIf(1),
      op.get(TERM), op.get(NODE), op.add(), op.load8u(),
      op.if(),
      op.get(HITS), op.get(H), op.const(3), op.shl(), op.add(), op.get(I), op.store(),
      op.get(HITS), op.get(H), op.const(3), op.shl(), op.add(), op.get(NODE), op.store(4),
      op.get(H), op.const(1), op.add(), op.set(H),
      op.end(),
      op.get(J), op.const(1), op.add(), op.set(J),
      op.br(0),
      op.end(), op.end(),
      op.get(CI), op.const(1), op.add(), op.set(CI),
      op.br(0),
      op.end(), op.end(),
      op.const(0), op.get(CI), op.store(),
      op.get(H),
    ],
  };
}

/** The part of the WebAssembly JS API used here (the project's type libraries do not declare it). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: object };
  readonly Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
}

const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: { readonly module: object; readonly relaxed: boolean } | null | undefined;

/**
 * The compiled module, or undefined where WebAssembly is unavailable
 * (`--jitless`). The relaxed-SIMD lookup is used where the engine accepts it
 * (V8 12 and later, so Node 22; Node 20 once its flag is turned on, see
 * `enableRelaxedSimd`), else the plain one.
 */
function prefilterModule(): { readonly module: object; readonly relaxed: boolean } | undefined {
  if (compiled === undefined) {
    compiled = null;
    for (const relaxed of [true, true, false]) {
      try {
        if (wasmApi !== undefined) compiled = { module: new wasmApi.Module(assembleModule([teddyFunction(relaxed), verifyFunction()])), relaxed };
        break;
      } catch {
        // not supported here: try the next variant (after the first failure, with relaxed SIMD turned on where it is behind a flag)
        if (relaxed) enableRelaxedSimd();
      }
    }
  }
  return compiled ?? undefined;
}

let flagTried = false;

/**
 * V8 11 (Node 20) has relaxed SIMD complete but behind
 * `--experimental-wasm-relaxed-simd` (V8 12, Node 22, ships it): the flag is
 * turned on for this process, once, before the module is compiled again. It
 * only lets modules validate with the relaxed opcodes; the filter uses one,
 * `i8x16.relaxed_swizzle`, on indices below 16, where it is defined and equal
 * to `i8x16.swizzle` (tested in both forms). The filter is ~25% faster with it
 * (a proxy's upload scan: ~1.0 -> ~0.77 ms per MiB here).
 */
export function enableRelaxedSimd(): void {
  if (flagTried) return;
  flagTried = true;
  if (!/^11\./.test(process.versions.v8)) return;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // not settable here: the plain lookup is used
  }
}

/** Whether WebAssembly runs here (compiles the module once). */
export function prefilterWasmAvailable(): boolean {
  return prefilterModule() !== undefined;
}

/** Whether the SIMD filter uses the relaxed lookup in this process (for tests and the benchmark). */
export function prefilterUsesRelaxedSimd(): boolean {
  return prefilterModule()?.relaxed === true;
}

/** An instance with its own memory of at least `bytes` bytes, or undefined without WebAssembly. */
export function createPrefilterInstance(bytes: number): { readonly exports: PrefilterExports; readonly buffer: ArrayBuffer } | undefined {
  const mod = prefilterModule();
  if (mod === undefined || wasmApi === undefined) return undefined;
  const memory = new wasmApi.Memory({ initial: Math.ceil(bytes / 65536) });
  const instance = new wasmApi.Instance(mod.module, { env: { mem: memory } });
  return { exports: instance.exports as PrefilterExports, buffer: memory.buffer };
}
