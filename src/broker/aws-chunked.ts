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
import { createHash, createHmac } from 'node:crypto';
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
  const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, previous, EMPTY_SHA256, createHash('sha256').update(data).digest('hex')].join('\n');
  return createHmac('sha256', s.signingKey).update(toSign, 'utf8').digest('hex');
}

export class ChunkResigner extends Transform {
  readonly #s: ChunkSigning;
  readonly #maxChunk: number;
  #previous: string;
  #buf: Buffer = Buffer.alloc(0);
  /** Size text and size of the chunk being read, once its header line is in. */
  #chunk: { readonly hex: string; readonly size: number } | undefined;
  #finished = false;

  constructor(s: ChunkSigning) {
    super();
    this.#s = s;
    this.#maxChunk = s.maxChunk ?? 16 * 1024 * 1024;
    this.#previous = s.seedSignature;
  }

  override _transform(data: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data]);
    try {
      this.#drain();
      done();
    } catch (e) {
      done(e instanceof Error ? e : new Error(String(e)));
    }
  }

  override _flush(done: TransformCallback): void {
    done(this.#finished && this.#buf.length === 0 ? null : new Error('the aws-chunked body ended before its last (empty) chunk'));
  }

  #drain(): void {
    for (;;) {
      if (this.#finished) {
        if (this.#buf.length > 0) throw new Error('bytes after the last aws-chunked chunk');
        return;
      }
      if (this.#chunk === undefined) {
        const eol = this.#buf.indexOf('\r\n');
        if (eol < 0) {
          if (this.#buf.length > MAX_HEADER_LINE) throw new Error('an aws-chunked chunk header line is too long');
          return;
        }
        const m = HEADER.exec(this.#buf.subarray(0, eol).toString('latin1'));
        if (m === null) throw new Error('a malformed aws-chunked chunk header (expected <hex size>;chunk-signature=<64 hex>)');
        const hex = m[1] ?? '';
        const size = parseInt(hex, 16);
        if (size > this.#maxChunk) throw new Error(`an aws-chunked chunk of ${size} bytes is larger than the ${this.#maxChunk} the broker holds to sign it`);
        this.#chunk = { hex, size };
        this.#buf = this.#buf.subarray(eol + 2);
      }
      const { hex, size } = this.#chunk;
      if (this.#buf.length < size + 2) return;
      if (this.#buf[size] !== 0x0d || this.#buf[size + 1] !== 0x0a) throw new Error('an aws-chunked chunk does not end with CRLF after its size');
      const data = this.#buf.subarray(0, size);
      const sig = chunkSignature(this.#s, this.#previous, data);
      this.#previous = sig;
      this.push(Buffer.concat([Buffer.from(`${hex};chunk-signature=${sig}\r\n`, 'latin1'), data, Buffer.from('\r\n', 'latin1')]));
      this.#buf = this.#buf.subarray(size + 2);
      this.#chunk = undefined;
      if (size === 0) this.#finished = true;
    }
  }
}
