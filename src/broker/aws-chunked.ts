/**
 * Re-signs an `aws-chunked` body whose chunks carry SigV4 signatures
 * (`x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD`). Each chunk is
 * `<hex size>;chunk-signature=<64 hex>\r\n<data>\r\n`, the last one of size 0;
 * its signature is HMAC(signing key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n"
 * scope "\n" previous signature "\n" sha256("") "\n" sha256(data)), chained
 * from the seed (the Authorization header's signature). The agent's
 * signatures are made with the placeholder secret; this recomputes every one
 * with the real key, chained from the re-signed seed. A chunk is emitted only
 * once it is whole and re-signed (never a placeholder-signed byte), with its
 * size written as it came, so the body keeps its length. Anything malformed
 * (a bad header line, a chunk over `maxChunk`, bytes after the last chunk, a
 * body that ends early) is an error: the caller aborts the upstream request.
 */
import { createHash, createHmac, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { EMPTY_SHA256 } from './sigv4.js';

export interface ChunkSigning {
  readonly signingKey: Buffer;
  /** `x-amz-date`. */
  readonly amzDate: string;
  /** `YYYYMMDD/region/service/aws4_request`. */
  readonly scope: string;
  /** The re-signed seed signature (the request's Authorization header). */
  readonly seedSignature: string;
  /** Largest chunk held to hash it (default 16 MiB). */
  readonly maxChunk?: number;
}

const MAX_HEADER_LINE = 4096;
const HEADER = /^([0-9a-fA-F]{1,8});chunk-signature=[0-9a-f]{64}$/;

export function chunkSignature(s: Pick<ChunkSigning, 'signingKey' | 'amzDate' | 'scope'>, previous: string, data: Buffer): string {
  return signatureOfHash(s, previous, createHash('sha256').update(data).digest('hex'));
}

function signatureOfHash(s: Pick<ChunkSigning, 'signingKey' | 'amzDate' | 'scope'>, previous: string, dataSha256: string): string {
  const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, previous, EMPTY_SHA256, dataSha256].join('\n');
  return createHmac('sha256', s.signingKey).update(toSign, 'utf8').digest('hex');
}

const CRLF = Buffer.from('\r\n', 'latin1');

interface Chunk {
  readonly hex: string;
  readonly size: number;
  readonly hash: Hash;
  readonly parts: Buffer[];
  have: number;
  crlf: number;
}

/**
 * States: reading a header line (kept until its CRLF, at most 4 KiB), the
 * chunk's data (the incoming buffers kept by reference and hashed as they
 * come, no copying), its closing CRLF; after the empty chunk, nothing more.
 */
export class ChunkResigner extends Transform {
  readonly #s: ChunkSigning;
  readonly #maxChunk: number;
  #previous: string;
  #line: Buffer[] = [];
  #lineLength = 0;
  #chunk: Chunk | undefined;
  #finished = false;

  constructor(s: ChunkSigning) {
    super();
    this.#s = s;
    this.#maxChunk = s.maxChunk ?? 16 * 1024 * 1024;
    this.#previous = s.seedSignature;
  }

  override _transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.#take(data);
      done();
    } catch (e) {
      done(e instanceof Error ? e : new Error(String(e)));
    }
  }

  override _flush(done: TransformCallback): void {
    done(this.#finished ? null : new Error('the aws-chunked body ended before its last (empty) chunk'));
  }

  #take(data: Buffer): void {
    let off = 0;
    while (off < data.length) {
      if (this.#finished) throw new Error('bytes after the last aws-chunked chunk');
      const c = this.#chunk;
      if (c === undefined) {
        const nl = data.indexOf(0x0a, off);
        const end = nl < 0 ? data.length : nl + 1;
        this.#line.push(data.subarray(off, end));
        this.#lineLength += end - off;
        off = end;
        if (this.#lineLength > MAX_HEADER_LINE) throw new Error('an aws-chunked chunk header line is too long');
        if (nl < 0) return;
        this.#header(Buffer.concat(this.#line, this.#lineLength).toString('latin1'));
        this.#line = [];
        this.#lineLength = 0;
        continue;
      }
      if (c.have < c.size) {
        const piece = data.subarray(off, off + Math.min(c.size - c.have, data.length - off));
        c.hash.update(piece);
        c.parts.push(piece);
        c.have += piece.length;
        off += piece.length;
        continue;
      }
      if (data[off] !== CRLF[c.crlf]) throw new Error('an aws-chunked chunk does not end with CRLF after its size');
      off++;
      if (++c.crlf === 2) this.#emit(c);
    }
  }

  #header(line: string): void {
    const m = HEADER.exec(line.endsWith('\r\n') ? line.slice(0, -2) : '\n');
    if (m === null) throw new Error('a malformed aws-chunked chunk header (expected <hex size>;chunk-signature=<64 hex>)');
    const hex = m[1] ?? '';
    const size = parseInt(hex, 16);
    if (size > this.#maxChunk) throw new Error(`an aws-chunked chunk of ${size} bytes is larger than the ${this.#maxChunk} the broker holds to sign it`);
    this.#chunk = { hex, size, hash: createHash('sha256'), parts: [], have: 0, crlf: 0 };
  }

  /** A whole chunk: re-signed, then sent (header, the data as it came, CRLF). */
  #emit(c: Chunk): void {
    const sig = signatureOfHash(this.#s, this.#previous, c.hash.digest('hex'));
    this.#previous = sig;
    this.push(Buffer.from(`${c.hex};chunk-signature=${sig}\r\n`, 'latin1'));
    for (const p of c.parts) this.push(p);
    this.push(CRLF);
    this.#chunk = undefined;
    if (c.size === 0) this.#finished = true;
  }
}
