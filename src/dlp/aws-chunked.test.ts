import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ScanContext } from '../egress/scanner.js';
import { fake, rand } from '../../test/dlp/helpers.js';
import { AwsChunkedDeframer, AwsChunkedError, splitAwsChunked } from './aws-chunked.js';
import { createRequestScanner } from './proxy-scanner.js';
import { DlpScanner } from './scanner.js';

const SIG = ';chunk-signature=' + 'ab'.repeat(32);

/** Frames `data` as aws-chunked in chunks of `size`, optionally with trailers. */
function frame(data: Buffer, size: number, opts: { sig?: boolean; trailers?: string[] } = {}): Buffer {
  const ext = opts.sig === false ? '' : SIG;
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) {
    const c = data.subarray(i, i + size);
    parts.push(Buffer.from(`${c.length.toString(16)}${ext}\r\n`), c, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0${ext}\r\n`));
  for (const t of opts.trailers ?? []) parts.push(Buffer.from(`${t}\r\n`));
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

function deframeAll(body: Buffer, piece: number): { data: Buffer; meta: string[]; finished: boolean } {
  const d = new AwsChunkedDeframer();
  const data: Buffer[] = [];
  const meta: string[] = [];
  for (let i = 0; i < body.length; i += piece) {
    const r = d.push(body.subarray(i, i + piece));
    data.push(...r.data);
    meta.push(...r.meta);
  }
  return { data: Buffer.concat(data), meta, finished: d.finished };
}

const ctx = (): ScanContext => ({ subject: 'Http(PUT bucket.s3.amazonaws.com/k)', method: 'PUT', host: 'bucket.s3.amazonaws.com', port: 443 });
const scanner = new DlpScanner();

void describe('aws-chunked deframing', () => {
  void it('returns the data whatever the pieces it arrives in (signed and unsigned-with-trailer framing)', () => {
    const data = Buffer.from(rand(5000, 'abcdef \n'));
    for (const body of [frame(data, 1024), frame(data, 777, { sig: false, trailers: ['x-amz-checksum-crc32:AAAAAA=='] })]) {
      for (const piece of [1, 3, 64, 1000, body.length]) {
        const r = deframeAll(body, piece);
        assert.equal(r.data.toString(), data.toString(), `piece ${piece}`);
        assert.equal(r.finished, true);
      }
    }
    assert.deepEqual(deframeAll(frame(data, 4096, { sig: false, trailers: ['x-amz-checksum-crc32:AAAAAA=='] }), 50).meta, ['x-amz-checksum-crc32:AAAAAA==']);
  });
  void it('refuses malformed framing with a specific error', () => {
    const bad = [
      'zz\r\nabc\r\n',
      '3\r\nabcX\r\n',
      `3\r\nabc\r\n0\r\n\r\nmore`,
      `${'1'.repeat(5000)}\r\n`,
      '3\nabc\r\n',
    ];
    for (const b of bad) assert.throws(() => new AwsChunkedDeframer().push(Buffer.from(b)), AwsChunkedError, JSON.stringify(b.slice(0, 20)));
    const many = `0\r\n${Array.from({ length: 70 }, (_, i) => `x-t${i}:v\r\n`).join('')}\r\n`;
    assert.throws(() => new AwsChunkedDeframer().push(Buffer.from(many)), /trailer lines/);
  });
  void it('splits Content-Encoding lists', () => {
    assert.deepEqual(splitAwsChunked('aws-chunked'), { framed: true, rest: '' });
    assert.deepEqual(splitAwsChunked('aws-chunked, gzip'), { framed: true, rest: 'gzip' });
    assert.deepEqual(splitAwsChunked('gzip'), { framed: false, rest: 'gzip' });
  });
});

void describe('aws-chunked bodies in the proxy scanner', () => {
  void it('an S3 streaming upload of ordinary data passes (it used to be refused as an unknown encoding)', async () => {
    const rs = createRequestScanner({ scanner });
    const c = ctx();
    const body = frame(Buffer.from(rand(200_000, 'abcdefgh ijk\n')), 65536, { sig: false, trailers: ['x-amz-checksum-crc32:sOO8/Q=='] });
    const found = [];
    for (let i = 0; i < body.length; i += 16384) found.push(...(await rs.bodyChunk(c, body.subarray(i, i + 16384), 'aws-chunked')));
    found.push(...(await rs.bodyEnd(c)));
    assert.deepEqual(found, []);
  });
  void it('finds a secret the chunk framing splits in two', async () => {
    const rs = createRequestScanner({ scanner });
    const c = ctx();
    const token = fake.github();
    const text = `${rand(1000, 'abc ')}token=${token}${rand(1000, 'abc ')}`;
    const at = text.indexOf(token) + 12;
    const first = Buffer.from(text.slice(0, at));
    const body = Buffer.concat([Buffer.from(`${first.length.toString(16)}${SIG}\r\n`), first, Buffer.from('\r\n'), frame(Buffer.from(text.slice(at)), 1 << 20)]);
    assert.ok(!body.toString().includes(token), 'the framing splits the token');
    const found = [...(await rs.bodyChunk(c, body, 'aws-chunked')), ...(await rs.bodyEnd(c))];
    assert.ok(found.some((f) => f.detector === 'github-token'), JSON.stringify(found));
  });
  void it('decodes gzip inside aws-chunked, and scans trailers', async () => {
    const rs = createRequestScanner({ scanner });
    const c = ctx();
    const body = frame(gzipSync(`k=${fake.stripe()}`), 10);
    const found = [...(await rs.bodyChunk(c, body, 'aws-chunked,gzip')), ...(await rs.bodyEnd(c))];
    assert.ok(found.some((f) => f.detector === 'stripe-secret-key'), JSON.stringify(found));
    const rs2 = createRequestScanner({ scanner });
    const c2 = ctx();
    const inTrailer = frame(Buffer.from('hello'), 10, { sig: false, trailers: [`x-amz-meta-note:${fake.github()}`] });
    const f2 = [...(await rs2.bodyChunk(c2, inTrailer, 'aws-chunked')), ...(await rs2.bodyEnd(c2))];
    assert.ok(f2.some((f) => f.detector === 'github-token'), JSON.stringify(f2));
  });
  void it('fails closed on malformed or truncated framing', async () => {
    const rs = createRequestScanner({ scanner });
    const c = ctx();
    assert.equal((await rs.bodyChunk(c, Buffer.from('not-a-size\r\n'), 'aws-chunked'))[0]?.detector, 'dlp-limit');
    const rs2 = createRequestScanner({ scanner });
    const c2 = ctx();
    assert.deepEqual(await rs2.bodyChunk(c2, Buffer.from('5\r\nhello\r\n'), 'aws-chunked'), []);
    const end = await rs2.bodyEnd(c2);
    assert.equal(end[0]?.detector, 'dlp-limit');
    assert.match(end[0]?.sample ?? '', /ended before its last/);
  });
});
