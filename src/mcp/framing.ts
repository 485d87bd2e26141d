/**
 * Bounded newline-delimited framing for the stdio transport. Bytes are held
 * only until a newline arrives; a line that grows past the limit is discarded
 * as it streams (never buffered whole) and reported once, so a hostile peer
 * can neither exhaust memory nor stall the stream. Chunks are kept as they
 * came (views, not copies: a caller must not reuse a buffer it pushed) and a
 * line is decoded once, straight from its chunk when it lies within one (a
 * long ASCII line as Latin-1: the same string, without the UTF-8 decoder).
 */
import { isAscii } from 'node:buffer';

export type FrameEvent =
  | { readonly kind: 'line'; readonly text: string }
  | { readonly kind: 'oversized'; readonly bytes: number; readonly head: string };

const NL = 0x0a;
/** Bytes of an oversized line kept to find its `id` (for a JSON-RPC error). */
const HEAD_BYTES = 512;
/** Lines at least this long are checked for ASCII first (a 1 MB ASCII line: about 0.85 ms instead of 1.2). */
const ASCII_CHECK_BYTES = 4096;

function decode(b: Buffer, start: number, end: number): string {
  if (end - start >= ASCII_CHECK_BYTES && isAscii(b.subarray(start, end))) return b.toString('latin1', start, end);
  return b.toString('utf8', start, end);
}

export class LineFramer {
  readonly #max: number;
  #parts: Buffer[] = [];
  #size = 0;
  /** Bytes of the current line discarded so far (it went over the limit). */
  #skipping = -1;
  #head = '';

  constructor(maxBytes: number) {
    this.#max = maxBytes;
  }

  /** Feeds a chunk; returns the complete lines (and oversize reports) it finished. */
  push(chunk: Buffer): FrameEvent[] {
    const out: FrameEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NL, start);
      if (nl === -1) {
        this.#take(chunk.subarray(start));
        break;
      }
      if (this.#size === 0 && this.#skipping < 0 && nl - start <= this.#max) this.#line(decode(chunk, start, nl), out);
      else {
        this.#take(chunk.subarray(start, nl));
        this.#finish(out);
      }
      start = nl + 1;
    }
    return out;
  }

  /** Called at end of stream: a last line without a newline is still a line. */
  end(): FrameEvent[] {
    const out: FrameEvent[] = [];
    if (this.#size > 0 || this.#skipping >= 0) this.#finish(out);
    return out;
  }

  #take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#skipping >= 0) {
      this.#skipping += piece.length;
      return;
    }
    if (this.#size + piece.length > this.#max) {
      const all = Buffer.concat([...this.#parts, piece]);
      this.#head = all.subarray(0, HEAD_BYTES).toString('utf8');
      this.#skipping = all.length;
      this.#parts = [];
      this.#size = 0;
      return;
    }
    this.#parts.push(piece);
    this.#size += piece.length;
  }

  #finish(out: FrameEvent[]): void {
    if (this.#skipping >= 0) {
      out.push({ kind: 'oversized', bytes: this.#skipping, head: this.#head });
      this.#skipping = -1;
      this.#head = '';
      return;
    }
    const buf = this.#parts.length === 1 ? (this.#parts[0] ?? Buffer.alloc(0)) : Buffer.concat(this.#parts, this.#size);
    this.#parts = [];
    this.#size = 0;
    this.#line(decode(buf, 0, buf.length), out);
  }

  #line(text: string, out: FrameEvent[]): void {
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() !== '') out.push({ kind: 'line', text });
  }
}
