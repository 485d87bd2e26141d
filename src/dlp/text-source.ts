/**
 * What detectors read: a string, or a buffer read as latin1 without decoding
 * the whole of it, and the byte tests run on it before a window is read.
 */
import { isAsciiSpace } from './space-free.js';

/**
 * What detectors read: a string, or a buffer read as latin1 (one character per
 * byte) without decoding the whole of it; windows are decoded when a keyword is hit.
 */
export interface TextSource {
  readonly length: number;
  charCodeAt(index: number): number;
  slice(start: number, end?: number): string;
}

/** A buffer as a latin1 `TextSource`. */
export class ByteSource implements TextSource {
  readonly #buf: Buffer;
  constructor(buf: Buffer) {
    this.#buf = buf;
  }
  get length(): number {
    return this.#buf.length;
  }
  charCodeAt(index: number): number {
    return this.#buf[index] ?? Number.NaN;
  }
  /** Just past the first ASCII whitespace in [from, to), else `to`. */
  firstSpace(from: number, to: number): number {
    const b = this.#buf;
    const end = Math.min(to, b.length);
    for (let i = Math.max(0, from); i < end; i++) {
      const c = b[i]!;
      if (c === 32 || (c >= 9 && c <= 13)) return i + 1;
    }
    return to;
  }
  /** Whether a byte marked 1 in `table` occurs in [from, to) before any marked 2. */
  requiredAhead(from: number, to: number, table: Uint8Array): boolean {
    const b = this.#buf;
    const end = Math.min(to, b.length);
    for (let i = Math.max(0, from); i < end; i++) {
      const t = table[b[i]!];
      if (t === 1) return true;
      if (t === 2) return false;
    }
    return false;
  }
  slice(start: number, end: number = this.#buf.length): string {
    const len = this.#buf.length;
    return this.#buf.toString('latin1', Math.min(len, Math.max(0, start)), Math.min(len, Math.max(0, end)));
  }
}

/** The end of a space-free detector's window: just past the first ASCII whitespace in [from, to), else `to`. */
export function firstSpace(text: TextSource, from: number, to: number): number {
  if (text instanceof ByteSource) return text.firstSpace(from, to);
  for (let i = from; i < to; i++) if (isAsciiSpace(text.charCodeAt(i))) return i + 1;
  return to;
}

/** Whether a character marked 1 in `table` occurs in [from, to) before any marked 2. */
export function requiredAhead(text: TextSource, from: number, to: number, table: Uint8Array): boolean {
  if (text instanceof ByteSource) return text.requiredAhead(from, to, table);
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const t = c < 256 ? table[c] : 0;
    if (t === 1) return true;
    if (t === 2) return false;
  }
  return false;
}

export function byteTable(sought: string, stop: string): Uint8Array {
  const t = new Uint8Array(256);
  const mark = (chars: string, v: number): void => {
    for (let i = 0; i < chars.length; i++) {
      const c = chars.charCodeAt(i);
      if (c >= 256) throw new Error(`requires: ${chars} has a character beyond latin1`);
      t[c] = v;
    }
  };
  mark(stop, 2);
  mark(sought, 1);
  return t;
}
