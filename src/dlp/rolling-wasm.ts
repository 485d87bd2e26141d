/**
 * The known-secret matcher's rolling pass (`fingerprint.ts`) as WebAssembly,
 * assembled from this source (`wasm-asm.ts`) on first use: for every 16-byte
 * window of the input, the keyed rolling hash and its bit in the matcher's
 * bitmap; the windows whose bit is set are listed (branch-free: the slot is
 * always written, the count grows by the bit). Two hashes roll side by side,
 * over the two halves of each chunk, so the multiply of one overlaps the
 * other's (one alone is bound by the latency of a multiply and an add per
 * byte), and a small bitmap is read first (see `FIRST_BYTES`). In
 * JavaScript the same loop cost ~15 ns per byte here (50 MiB of an upload:
 * 800-1000 ms of CPU, ten times the rest of its scan).
 *
 * The hash is `h(i + 1) = h(i) * base - in[i] * base^16 + in[i + 16]`
 * (32-bit wrapping), the same recurrence as the JavaScript one.
 */
import { assembleModule, op, type WasmFunction } from './wasm-asm.js';

/** Window starts tested per call. */
export const ROLL_CHUNK = 64 * 1024;
/** The matcher's bitmap: 2^24 bits, indexed by bits 3-23 of the hash (byte) and 0-2 (bit). */
export const ROLL_BITMAP_BYTES = 1 << 21;
/**
 * A first bitmap of 2^20 bits (128 KiB, which stays in a core's cache) indexed by bits 12-31 of the hash: the 2 MiB
 * one is read only where it has a bit. One random read of the 2 MiB bitmap per byte missed the cache nearly every
 * time (~6.6 ns per byte in this loop, against ~1 with the small one first).
 */
const FIRST_BYTES = 1 << 17;
/** Memory: the bitmap, the first bitmap, the input (a chunk, its last window's 15 bytes, padding), two candidate lists. */
const FIRST = ROLL_BITMAP_BYTES;
const INPUT = FIRST + FIRST_BYTES;
const INPUT_BYTES = ROLL_CHUNK + 64;
const CAND_A = INPUT + INPUT_BYTES;
const CAND_B = CAND_A + ROLL_CHUNK * 4;
/** Where the first half's count is stored. */
const COUNT_A = CAND_B + ROLL_CHUNK * 4;
const MEMORY_BYTES = COUNT_A + 16;

function rollFunction(): WasmFunction {
  // params: 0 n (window starts 0..n-1), 1 half, 2 hA (hash of window 0), 3 hB (of window `half`), 4 base,
  // 5 outMul (base^16: the leaving byte's weight once the hash is multiplied by base); locals: 6 i, 7 j, 8 cA, 9 cB
  const [NN, HALF, HA, HB, BASE, OUTM, I, J, CA, CB] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const INP = INPUT;
  /** Where h's bit is set in the first bitmap: cand[c] = pos; c += its bit in the bitmap (h, pos and c are locals). */
  const test = (h: number, pos: number, c: number, cand: number): number[][] => [
    op.get(h), op.const(15), op.shrU(), op.load8u(FIRST),
    op.get(h), op.const(12), op.shrU(), op.const(7), op.and(), op.shrU(), op.const(1), op.and(),
    op.if(),
    op.get(c), op.const(2), op.shl(), op.get(pos), op.store(cand),
    op.get(h), op.const(3), op.shrU(), op.const(ROLL_BITMAP_BYTES - 1), op.and(), op.load8u(),
    op.get(h), op.const(7), op.and(), op.shrU(), op.const(1), op.and(),
    op.get(c), op.add(), op.set(c),
    op.end(),
  ];
  /** h = h * base - in[pos] * outMul + in[pos + 16]. */
  const roll = (h: number, pos: number): number[][] => [
    op.get(h), op.get(BASE), op.mul(),
    op.get(pos), op.load8u(INP), op.get(OUTM), op.mul(), op.sub(),
    op.get(pos), op.load8u(INP + 16), op.add(), op.set(h),
  ];
  return {
    name: 'roll', params: 6, locals: 4,
    body: [
      op.get(HALF), op.set(J),
      // Both halves together while the first has windows left (the second is never shorter).
      op.block(), op.loop(),
      op.get(I), op.get(HALF), op.geU(), op.brIf(1),
      ...test(HA, I, CA, CAND_A), ...test(HB, J, CB, CAND_B),
      ...roll(HA, I), ...roll(HB, J),
      op.get(I), op.const(1), op.add(), op.set(I),
      op.get(J), op.const(1), op.add(), op.set(J),
      op.br(0),
      op.end(), op.end(),
      // The second half's rest (one window when n is odd).
      op.block(), op.loop(),
      op.get(J), op.get(NN), op.geU(), op.brIf(1),
      ...test(HB, J, CB, CAND_B),
      ...roll(HB, J),
      op.get(J), op.const(1), op.add(), op.set(J),
      op.br(0),
      op.end(), op.end(),
      op.const(COUNT_A), op.get(CA), op.store(),
      op.get(CB),
    ],
  };
}

/** The part of the WebAssembly JS API used here (the project's type libraries do not declare it). */
interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: object };
  readonly Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
}

let compiled: object | null | undefined;

/** One matcher's rolling pass: its bitmap is copied in once; `candidates` lists the windows whose bit is set, in order. */
export interface RollingPass {
  /** Window starts in `bytes` (which has `n + 15` bytes or more) whose hash has its bitmap bit set, ascending, into `out`. */
  candidates(bytes: Uint8Array, n: number, hashAt: (from: number) => number, out: number[]): void;
}

/** A rolling pass over `bitmap` (`ROLL_BITMAP_BYTES`, the bits of `hashes`), or undefined without WebAssembly. */
export function createRollingPass(bitmap: Uint8Array, hashes: Iterable<number>, base: number, outPow: number): RollingPass | undefined {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined || compiled === null || bitmap.length !== ROLL_BITMAP_BYTES) return undefined;
  let exports: { roll: (n: number, half: number, hA: number, hB: number, base: number, outMul: number) => number };
  let mem: Uint8Array;
  try {
    compiled ??= new api.Module(assembleModule([rollFunction()]));
    const memory = new api.Memory({ initial: Math.ceil(MEMORY_BYTES / 65536) });
    exports = new api.Instance(compiled, { env: { mem: memory } }).exports as typeof exports;
    mem = new Uint8Array(memory.buffer);
  } catch {
    compiled = null;
    return undefined;
  }
  mem.set(bitmap, 0);
  for (const h of hashes) mem[FIRST + (h >>> 15)] = mem[FIRST + (h >>> 15)]! | (1 << ((h >>> 12) & 7));
  const i32 = new Int32Array(mem.buffer);
  const outMul = Math.imul(outPow, base);
  return {
    candidates(bytes, n, hashAt, out) {
      for (let from = 0; from < n; from += ROLL_CHUNK) {
        const m = Math.min(ROLL_CHUNK, n - from);
        const have = Math.min(bytes.length, from + m + 16) - from;
        mem.set(bytes.subarray(from, from + have), INPUT);
        mem.fill(0, INPUT + have, INPUT + m + 17);
        const half = m >>> 1;
        const cb = exports.roll(m, half, hashAt(from), hashAt(from + half), base, outMul);
        const ca = i32[COUNT_A >> 2]!;
        for (let k = 0; k < ca; k++) out.push(from + i32[(CAND_A >> 2) + k]!);
        for (let k = 0; k < cb; k++) out.push(from + i32[(CAND_B >> 2) + k]!);
      }
    },
  };
}
