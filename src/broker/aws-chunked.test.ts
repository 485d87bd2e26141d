/**
 * Chunk-by-chunk re-signing against the documented AWS example of a
 * chunk-signed upload ("Signature Calculations for the Authorization Header:
 * Transferring Payload in Multiple Chunks"): 66560 bytes of "a" in chunks of
 * 65536, 1024 and 0, seed signature 4f232c43…, with the example key pair.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkResigner } from './aws-chunked.js';
import { parseAuthorization, resign, signingKey } from './sigv4.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SEED = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
const SIGS = ['ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648', '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497', 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'];
const SIZES = [65536, 1024, 0];
const body = (sigs: readonly string[]): Buffer => Buffer.concat(SIZES.map((n, i) => Buffer.concat([Buffer.from(`${n.toString(16)};chunk-signature=${sigs[i] ?? ''}\r\n`), Buffer.alloc(n, 'a'), Buffer.from('\r\n')])));
const signing = { signingKey: signingKey(SECRET, '20130524', 'us-east-1', 's3'), amzDate: '20130524T000000Z', scope: '20130524/us-east-1/s3/aws4_request', seedSignature: SEED };

function run(r: ChunkResigner, input: Buffer, piece: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    r.on('data', (c: Buffer) => out.push(c));
    r.on('end', () => resolve(Buffer.concat(out)));
    r.on('error', reject);
    for (let i = 0; i < input.length; i += piece) r.write(input.subarray(i, i + piece));
    r.end();
  });
}

void describe('aws-chunked re-signing (documented example)', () => {
  void it('the seed: the documented chunked PUT re-signed from a placeholder pair has the documented signature', () => {
    const headers = [
      'Host', 's3.amazonaws.com', 'x-amz-date', '20130524T000000Z', 'x-amz-storage-class', 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'Content-Encoding', 'aws-chunked', 'x-amz-decoded-content-length', '66560', 'Content-Length', '66824',
    ];
    const agent = parseAuthorization(`AWS4-HMAC-SHA256 Credential=AKIAPLACEHOLDER00001/20130524/us-east-1/s3/aws4_request, SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class, Signature=${'0'.repeat(64)}`);
    assert.ok(agent);
    const r = resign('PUT', '/examplebucket/chunkObject.txt', headers, agent, { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secret: SECRET }, () => 'unused');
    assert.ok(r.ok);
    assert.ok(r.authorization.endsWith(`Signature=${SEED}`), r.authorization);
    assert.equal(r.chunks?.seedSignature, SEED);
    assert.equal(body(SIGS).length, 66824, 'the documented Content-Length');
  });

  void it('every chunk signature is recomputed as documented, whatever the pieces the body arrives in; the length is kept', async () => {
    for (const piece of [1, 7, 1000, 65536, 70000]) {
      const out = await run(new ChunkResigner(signing), body(['0'.repeat(64), '1'.repeat(64), '2'.repeat(64)]), piece);
      assert.ok(out.equals(body(SIGS)), `pieces of ${piece}`);
    }
  });

  void it('malformed, truncated, oversized or trailing input is an error, and no chunk is emitted before it is whole', async () => {
    const placeholder = body(['0'.repeat(64), '1'.repeat(64), '2'.repeat(64)]);
    await assert.rejects(run(new ChunkResigner(signing), placeholder.subarray(0, 66000), 4096), /ended before its last/);
    await assert.rejects(run(new ChunkResigner(signing), Buffer.concat([placeholder, Buffer.from('x')]), 4096), /bytes after the last/);
    await assert.rejects(run(new ChunkResigner(signing), Buffer.from('zz;chunk-signature=00\r\n'), 4096), /malformed aws-chunked chunk header/);
    await assert.rejects(run(new ChunkResigner({ ...signing, maxChunk: 1024 }), placeholder, 4096), /larger than the 1024/);
    const partial: Buffer[] = [];
    const r = new ChunkResigner(signing);
    r.on('data', (c: Buffer) => partial.push(c));
    r.write(placeholder.subarray(0, 60000));
    assert.equal(partial.length, 0, 'half a chunk: nothing emitted');
    r.destroy();
  });
});
