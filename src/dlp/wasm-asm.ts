/**
 * A minimal WebAssembly binary writer: just the opcodes the prefilter's loops
 * use, so the module is assembled from this source at load time (no prebuilt
 * binary, no toolchain, no dependency).
 */

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (32-bit). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Signed LEB128 of an integer up to 2^53 in magnitude (i64 constants). */
export function sleb64(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const I32 = 0x7f;
const I64 = 0x7e;
const V128 = 0x7b;
const simd = (code: number, ...imm: number[]): number[] => [0xfd, ...uleb(code), ...imm];

/** Instruction builders: each returns its bytes. Memory immediates are (align log2, offset). */
export const op = {
  block: (): number[] => [0x02, 0x40],
  loop: (): number[] => [0x03, 0x40],
  if: (): number[] => [0x04, 0x40],
  end: (): number[] => [0x0b],
  br: (depth: number): number[] => [0x0c, ...uleb(depth)],
  brIf: (depth: number): number[] => [0x0d, ...uleb(depth)],
  get: (local: number): number[] => [0x20, ...uleb(local)],
  set: (local: number): number[] => [0x21, ...uleb(local)],
  tee: (local: number): number[] => [0x22, ...uleb(local)],
  const: (n: number): number[] => [0x41, ...sleb(n)],
  load: (offset = 0): number[] => [0x28, 0, ...uleb(offset)],
  load8u: (offset = 0): number[] => [0x2d, 0, ...uleb(offset)],
  load16u: (offset = 0): number[] => [0x2f, 0, ...uleb(offset)],
  store: (offset = 0): number[] => [0x36, 0, ...uleb(offset)],
  eqz: (): number[] => [0x45],
  geU: (): number[] => [0x4f],
  gtU: (): number[] => [0x4b],
  add: (): number[] => [0x6a],
  mul: (): number[] => [0x6c],
  and: (): number[] => [0x71],
  or: (): number[] => [0x72],
  shl: (): number[] => [0x74],
  shrU: (): number[] => [0x76],
  sub: (): number[] => [0x6b],
  ctz: (): number[] => [0x68],
  /** i64 instructions (64-bit masks: four blocks of 16 bytes at a time). */
  i64Const: (n: number): number[] => [0x42, ...sleb64(n)],
  i64Eqz: (): number[] => [0x50],
  i64And: (): number[] => [0x83],
  i64Or: (): number[] => [0x84],
  i64Shl: (): number[] => [0x86],
  i64ShrU: (): number[] => [0x88],
  i64ExtendI32U: (): number[] => [0xad],
  i32WrapI64: (): number[] => [0xa7],
  /** SIMD (v128) instructions. */
  v128Load: (offset = 0): number[] => simd(0x00, 0, ...uleb(offset)),
  v128Const: (bytes: readonly number[]): number[] => simd(0x0c, ...bytes),
  swizzle: (): number[] => simd(0x0e),
  /** Relaxed SIMD: the same lookup for indices below 16 without the range fix-up (one instruction on x64). */
  relaxedSwizzle: (): number[] => simd(0x100),
  i8x16Eq: (): number[] => simd(0x23),
  i8x16Ne: (): number[] => simd(0x24),
  i8x16LtS: (): number[] => simd(0x25),
  i8x16LeU: (): number[] => simd(0x2a),
  i8x16GtU: (): number[] => simd(0x28),
  i8x16Add: (): number[] => simd(0x6e),
  i8x16Sub: (): number[] => simd(0x71),
  v128And: (): number[] => simd(0x4e),
  v128Or: (): number[] => simd(0x50),
  anyTrue: (): number[] => simd(0x53),
  i8x16Bitmask: (): number[] => simd(0x64),
  i8x16ShrU: (): number[] => simd(0x6d),
  i16x8ShrU: (): number[] => simd(0x8d),
  i16x8Shl: (): number[] => simd(0x8b),
};

export interface WasmFunction {
  readonly name: string;
  readonly params: number;
  /** Extra i32 locals (numbered after the params). */
  readonly locals: number;
  /** v128 locals (numbered after the i32 locals). */
  readonly vectors?: number;
  /** i64 locals (numbered after the v128 locals). */
  readonly wides?: number;
  readonly body: readonly (readonly number[])[];
}

function section(id: number, payload: readonly number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

function vec(items: readonly (readonly number[])[]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  const b = [...Buffer.from(s, 'utf8')];
  return [...uleb(b.length), ...b];
}

/**
 * A module importing its memory as `env.mem` and exporting `functions`, each
 * taking `params` i32 and returning one i32.
 */
export function assembleModule(functions: readonly WasmFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...uleb(f.params), ...Array<number>(f.params).fill(I32), 1, I32]);
  const imports = [[...name('env'), ...name('mem'), 0x02, 0x00, ...uleb(1)]];
  const funcs = functions.map((_f, i) => uleb(i));
  const exports = functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]);
  const bodies = functions.map((f) => {
    const groups: number[][] = [];
    if (f.locals > 0) groups.push([...uleb(f.locals), I32]);
    if ((f.vectors ?? 0) > 0) groups.push([...uleb(f.vectors ?? 0), V128]);
    if ((f.wides ?? 0) > 0) groups.push([...uleb(f.wides ?? 0), I64]);
    const locals = vec(groups);
    const code = [...locals, ...f.body.flat(), 0x0b];
    return [...uleb(code.length), ...code];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcs)),
    ...section(7, vec(exports)),
    ...section(10, vec(bodies)),
  ]);
}
