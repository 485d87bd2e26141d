/**
 * Decoder for a `Transfer-Encoding: chunked` response body (RFC 9112
 * section 7.1) that hands out the chunk data as slices of the input (no
 * copy). Chunk extensions and trailers are read and dropped; size lines and
 * trailers are bounded; anything malformed throws `ResponseHeadError`.
 */
import { ResponseHeadError } from './response-head.js';

/** Decoder states. */
const S = { Size: 0, Ext: 1, SizeLf: 2, Data: 3, DataCr: 4, DataLf: 5, TrailerStart: 6, Trailer: 7, TrailerLf: 8, EndLf: 9, Done: 10 } as const;
type State = (typeof S)[keyof typeof S];

const CR = 13;
const LF = 10;
/** Size line (digits and extensions) and all trailers together. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 32 * 1024;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class ChunkedDecoder {
  #s: State = S.Size;
  #size = 0;
  #digits = 0;
  #line = 0;
  #trailers = 0;

  /** True after the last chunk and the trailers were read. */
  get done(): boolean {
    return this.#s === S.Done;
  }

  /**
   * Consumes bytes of `buf` from `start`, calling `onData` with each data
   * slice. Returns the offset where it stopped: `buf.length`, or less when
   * the body ended (the rest is not part of this body).
   */
  push(buf: Buffer, start: number, onData: (slice: Buffer) => void): number {
    let i = start;
    const n = buf.length;
    const bad = (why: string): never => {
      throw new ResponseHeadError(`the upstream sent a malformed chunked body (${why})`);
    };
    while (i < n && this.#s !== S.Done) {
      if (this.#s === S.Data) {
        const take = Math.min(this.#size, n - i);
        onData(buf.subarray(i, i + take));
        i += take;
        this.#size -= take;
        if (this.#size === 0) this.#s = S.DataCr;
        continue;
      }
      const c = buf[i] ?? 0;
      i += 1;
      switch (this.#s) {
        case S.Size: {
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.#digits > 13) bad('chunk size too large');
            this.#size = this.#size * 16 + v;
          } else if (this.#digits === 0) bad('chunk size expected');
          else if (c === CR) this.#s = S.SizeLf;
          else if (c === 59 || c === 32 || c === 9) this.#s = S.Ext;
          else bad('bad chunk size');
          if (++this.#line > MAX_LINE) bad('chunk size line too long');
          break;
        }
        case S.Ext:
          if (c === CR) this.#s = S.SizeLf;
          else if (c === LF || c === 0) bad('control character in a chunk extension');
          if (++this.#line > MAX_LINE) bad('chunk size line too long');
          break;
        case S.SizeLf:
          if (c !== LF) bad('CR without LF');
          this.#line = 0;
          this.#digits = 0;
          this.#s = this.#size === 0 ? S.TrailerStart : S.Data;
          break;
        case S.DataCr:
          if (c !== CR) bad('chunk data longer than its size');
          this.#s = S.DataLf;
          break;
        case S.DataLf:
          if (c !== LF) bad('CR without LF');
          this.#s = S.Size;
          break;
        case S.TrailerStart:
          this.#s = c === CR ? S.EndLf : S.Trailer;
          if (c === LF || c === 0) bad('control character in a trailer');
          if (++this.#trailers > MAX_TRAILERS) bad('trailers too long');
          break;
        case S.Trailer:
          if (c === CR) this.#s = S.TrailerLf;
          else if (c === LF || c === 0) bad('control character in a trailer');
          if (++this.#trailers > MAX_TRAILERS) bad('trailers too long');
          break;
        case S.TrailerLf:
          if (c !== LF) bad('CR without LF');
          this.#s = S.TrailerStart;
          break;
        case S.EndLf:
          if (c !== LF) bad('CR without LF');
          this.#s = S.Done;
          break;
        default:
          break;
      }
    }
    return i;
  }
}
