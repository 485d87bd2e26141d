/**
 * Removes the `aws-chunked` framing (S3 streaming uploads: `Content-Encoding:
 * aws-chunked`) from a request body as it streams, so the DLP scans the
 * object's bytes and not the framing. A body is a series of chunks
 * `<hex size>[;ext...]\r\n<data>\r\n`, the last of size 0, then trailer lines
 * (`x-amz-checksum-crc32:...`) up to an empty line. Chunk data is returned as
 * `data`; chunk extensions and trailer lines as `meta` (scanned too: an agent
 * could put anything there). Bounded: a header or trailer line over 4 KiB,
 * more than 64 trailer lines, a malformed size or bytes after the end are an
 * error (the proxy refuses the request: fail closed).
 */

export class AwsChunkedError extends Error {
  readonly code = 'CORDON_DLP_AWS_CHUNKED';
}

export interface DeframeResult {
  readonly data: Buffer[];
  readonly meta: string[];
}

const MAX_LINE = 4096;
const MAX_TRAILERS = 64;
const SIZE = /^([0-9a-fA-F]{1,16})(;.*)?$/s;

type State = 'header' | 'data' | 'crlf' | 'trailer' | 'done';

export class AwsChunkedDeframer {
  #state: State = 'header';
  #line: Buffer[] = [];
  #lineLength = 0;
  #left = 0;
  #crlf = 0;
  #trailers = 0;

  /** True once the last chunk and the trailer section have been read. */
  get finished(): boolean {
    return this.#state === 'done';
  }

  /** Takes the next piece of the framed body; throws `AwsChunkedError` on malformed framing. */
  push(chunk: Buffer): DeframeResult {
    const data: Buffer[] = [];
    const meta: string[] = [];
    let off = 0;
    while (off < chunk.length) {
      switch (this.#state) {
        case 'done':
          throw new AwsChunkedError('bytes after the end of an aws-chunked body');
        case 'data': {
          const n = Math.min(this.#left, chunk.length - off);
          data.push(chunk.subarray(off, off + n));
          this.#left -= n;
          off += n;
          if (this.#left === 0) {
            this.#state = 'crlf';
            this.#crlf = 0;
          }
          break;
        }
        case 'crlf':
          if (chunk[off] !== (this.#crlf === 0 ? 0x0d : 0x0a)) throw new AwsChunkedError('an aws-chunked chunk does not end with CRLF after its data');
          off++;
          if (++this.#crlf === 2) this.#state = 'header';
          break;
        case 'header':
        case 'trailer': {
          const nl = chunk.indexOf(0x0a, off);
          const end = nl < 0 ? chunk.length : nl + 1;
          this.#line.push(chunk.subarray(off, end));
          this.#lineLength += end - off;
          off = end;
          if (this.#lineLength > MAX_LINE) throw new AwsChunkedError('an aws-chunked header or trailer line is longer than 4096 bytes');
          if (nl < 0) break;
          const raw = Buffer.concat(this.#line, this.#lineLength).toString('latin1');
          this.#line = [];
          this.#lineLength = 0;
          if (!raw.endsWith('\r\n')) throw new AwsChunkedError('an aws-chunked line does not end with CRLF');
          this.#lineDone(raw.slice(0, -2), meta);
          break;
        }
      }
    }
    return { data, meta };
  }

  #lineDone(line: string, meta: string[]): void {
    if (this.#state === 'trailer') {
      if (line === '') {
        this.#state = 'done';
        return;
      }
      if (++this.#trailers > MAX_TRAILERS) throw new AwsChunkedError(`an aws-chunked body with more than ${MAX_TRAILERS} trailer lines`);
      meta.push(line);
      return;
    }
    const m = SIZE.exec(line);
    if (m === null) throw new AwsChunkedError('a malformed aws-chunked chunk header (expected <hex size>[;extensions])');
    const size = Number.parseInt(m[1] ?? '', 16);
    if (!Number.isSafeInteger(size)) throw new AwsChunkedError('an aws-chunked chunk size out of range');
    if (m[2] !== undefined) meta.push(m[2].slice(1));
    if (size === 0) {
      this.#state = 'trailer';
      return;
    }
    this.#left = size;
    this.#state = 'data';
  }
}

/**
 * Splits a Content-Encoding value: whether `aws-chunked` framing is present
 * and the codings left for the data inside it (identity removed).
 */
export function splitAwsChunked(contentEncoding: string): { framed: boolean; rest: string } {
  const parts = contentEncoding.split(',').map((p) => p.trim().toLowerCase()).filter((p) => p !== '' && p !== 'identity');
  const framed = parts.includes('aws-chunked');
  return { framed, rest: parts.filter((p) => p !== 'aws-chunked').join(', ') };
}
