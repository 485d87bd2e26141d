/**
 * A tiny classic-BPF assembler: instructions with symbolic forward jumps,
 * encoded as `struct sock_filter` (u16 code, u8 jt, u8 jf, u32 k), little-endian.
 */

export const BPF = {
  LD_W_ABS: 0x20, // A = *(u32 *)(data + k)
  ALU_AND_K: 0x54, // A &= k
  JMP_JA: 0x05,
  JEQ_K: 0x15,
  JGE_K: 0x35,
  JSET_K: 0x45,
  RET_K: 0x06,
} as const;

export interface Insn {
  readonly code: number;
  readonly k: number;
  /** Label (or 0 = next instruction) taken when the condition holds. */
  readonly jt?: string;
  /** Label taken when it does not. */
  readonly jf?: string;
}

export type Item = Insn | { readonly label: string };

export interface SockFilter {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

export const ld = (offset: number): Insn => ({ code: BPF.LD_W_ABS, k: offset });
export const and = (mask: number): Insn => ({ code: BPF.ALU_AND_K, k: mask });
export const ret = (value: number): Insn => ({ code: BPF.RET_K, k: value });
export const label = (name: string): Item => ({ label: name });
/** Jump to `yes` when A == k, otherwise fall through (or to `no`). */
export const jeq = (k: number, yes: string, no?: string): Insn => (no === undefined ? { code: BPF.JEQ_K, k, jt: yes } : { code: BPF.JEQ_K, k, jt: yes, jf: no });
export const jge = (k: number, yes: string): Insn => ({ code: BPF.JGE_K, k, jt: yes });
export const jset = (k: number, yes: string): Insn => ({ code: BPF.JSET_K, k, jt: yes });

/** Resolve labels into relative offsets; throws when a jump goes backwards or too far. */
export function assemble(items: readonly Item[]): SockFilter[] {
  const labels = new Map<string, number>();
  const insns: Insn[] = [];
  for (const it of items) {
    if ('label' in it) {
      if (labels.has(it.label)) throw new Error(`duplicate BPF label ${it.label}`);
      labels.set(it.label, insns.length);
    } else {
      insns.push(it);
    }
  }
  const rel = (from: number, name: string | undefined): number => {
    if (name === undefined) return 0;
    const to = labels.get(name);
    if (to === undefined) throw new Error(`unknown BPF label ${name}`);
    const off = to - from - 1;
    if (off < 0 || off > 255) throw new Error(`BPF jump to ${name} out of range (${off})`);
    return off;
  };
  return insns.map((insn, i) => ({ code: insn.code, jt: rel(i, insn.jt), jf: rel(i, insn.jf), k: insn.k >>> 0 }));
}

/** Encode as the bytes of a `struct sock_filter[]` (little-endian). */
export function encode(prog: readonly SockFilter[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  // A DataView, not Buffer's write methods: this runs at every `cordon run`, before any JIT.
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  prog.forEach((f, i) => {
    view.setUint16(i * 8, f.code, true);
    view.setUint8(i * 8 + 2, f.jt);
    view.setUint8(i * 8 + 3, f.jf);
    view.setUint32(i * 8 + 4, f.k, true);
  });
  return buf;
}

export function decode(buf: Buffer): SockFilter[] {
  const out: SockFilter[] = [];
  for (let o = 0; o + 8 <= buf.length; o += 8) {
    out.push({ code: buf.readUInt16LE(o), jt: buf.readUInt8(o + 2), jf: buf.readUInt8(o + 3), k: buf.readUInt32LE(o + 4) });
  }
  return out;
}
