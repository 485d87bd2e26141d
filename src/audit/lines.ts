/**
 * Bounded line reading over a log file: forwards (streaming, with the sha256
 * of every line's exact bytes) and backwards (the last few lines without
 * reading the whole file; synchronous, for the writer's resume and `tail`).
 * No more than `maxBytes` of any line is ever held.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { nodeCrypto } from '../lazy-crypto.js';

/** Longest line a record may have; longer lines are reported, never parsed. */
export const MAX_LINE_BYTES = 1024 * 1024;
const CHUNK = 64 * 1024;
const NL = 0x0a;

export interface RawLine {
  /** 1-based line number. */
  readonly number: number;
  /** The line's bytes without the newline, or null when it is longer than the limit. */
  readonly bytes: Buffer | null;
  readonly byteLength: number;
  /** sha256 hex of the line's exact bytes (computed even for overlong lines). */
  readonly sha256: string;
  /** False for a last line that has no newline after it. */
  readonly terminated: boolean;
}

/** Splits a byte stream into lines, keeping at most `maxBytes` of any line. */
export class LineSplitter {
  readonly #maxBytes: number;
  #parts: Buffer[] = [];
  #kept = 0;
  #length = 0;
  #hash = nodeCrypto().createHash('sha256');
  #number = 0;

  constructor(maxBytes = MAX_LINE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Feeds bytes; returns the lines they complete. */
  push(chunk: Buffer): RawLine[] {
    const out: RawLine[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NL, start);
      const piece = chunk.subarray(start, nl === -1 ? chunk.length : nl);
      this.#add(piece);
      if (nl === -1) return out;
      out.push(this.#emit(true));
      start = nl + 1;
    }
  }

  /** Ends the stream; returns the unterminated last line, if any. */
  end(): RawLine | null {
    return this.#length === 0 && this.#parts.length === 0 ? null : this.#emit(false);
  }

  /** Bytes of an unfinished line held so far (0 after a newline). */
  get pending(): number {
    return this.#length;
  }

  #add(piece: Buffer): void {
    if (piece.length === 0) return;
    this.#hash.update(piece);
    this.#length += piece.length;
    if (this.#kept + piece.length <= this.#maxBytes) {
      this.#parts.push(Buffer.from(piece));
      this.#kept += piece.length;
    } else {
      this.#parts = [];
      this.#kept = this.#maxBytes + 1; // over the limit: keep nothing more of this line
    }
  }

  #emit(terminated: boolean): RawLine {
    const over = this.#length > this.#maxBytes;
    const line: RawLine = {
      number: ++this.#number,
      bytes: over ? null : Buffer.concat(this.#parts),
      byteLength: this.#length,
      sha256: this.#hash.digest('hex'),
      terminated,
    };
    this.#parts = [];
    this.#kept = 0;
    this.#length = 0;
    this.#hash = nodeCrypto().createHash('sha256');
    return line;
  }
}

/** Every line of a file, in order, reading `CHUNK` bytes at a time. */
export async function* readLines(path: string, maxBytes = MAX_LINE_BYTES): AsyncGenerator<RawLine> {
  const fh = await open(path, 'r');
  try {
    const splitter = new LineSplitter(maxBytes);
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      yield* splitter.push(buf.subarray(0, bytesRead));
    }
    const last = splitter.end();
    if (last !== null) yield last;
  } finally {
    await fh.close();
  }
}

export interface TailLines {
  /** The last complete (newline-terminated) lines, oldest first; null for a line longer than the limit. */
  readonly lines: readonly (Buffer | null)[];
  /** Bytes after the last newline: a torn or still-being-written final line. */
  readonly fragmentLength: number;
  /** File size when read. */
  readonly size: number;
}

/**
 * The last `count` complete lines, scanning backwards from the end, holding
 * at most `maxBytes` of any one line (so at most about count * maxBytes).
 */
export function readLastLines(path: string, count: number, maxBytes = MAX_LINE_BYTES): TailLines {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const lines: (Buffer | null)[] = [];
    let fragmentLength = -1; // unknown until the last newline is found
    let parts: Buffer[] = [];
    let length = 0;
    const finish = (): void => {
      if (fragmentLength === -1) fragmentLength = length;
      else lines.unshift(length > maxBytes ? null : Buffer.concat(parts));
      parts = [];
      length = 0;
    };
    let pos = size;
    while (pos > 0 && lines.length < count) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const b = Buffer.alloc(len);
      readFully(fd, b, pos);
      let end = len;
      while (lines.length < count) {
        const nl = b.lastIndexOf(NL, end - 1);
        const piece = b.subarray(nl + 1, end);
        length += piece.length;
        if (length <= maxBytes) parts.unshift(piece);
        else parts = [];
        if (nl === -1) break;
        finish();
        end = nl;
        if (end === 0) break;
      }
    }
    if (pos === 0 && lines.length < count && (length > 0 || fragmentLength !== -1)) finish();
    return { lines, fragmentLength: Math.max(fragmentLength, 0), size };
  } finally {
    closeSync(fd);
  }
}

function readFully(fd: number, b: Buffer, position: number): void {
  let off = 0;
  while (off < b.length) {
    const n = readSync(fd, b, off, b.length - off, position + off);
    if (n === 0) throw new Error(`unexpected end of file at byte ${position + off}`);
    off += n;
  }
}
