import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ScanContext } from '../../src/egress/scanner.js';
import { createRequestScanner } from '../../src/dlp/proxy-scanner.js';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { redactText, StreamScanner } from '../../src/dlp/stream.js';
import { fake, rand } from './helpers.js';

const scanner = new DlpScanner();
const ctx = (): ScanContext => ({ subject: 'Http(POST example.com/x)', method: 'POST', host: 'example.com', port: 443 });

void describe('streaming', () => {
  void it('finds a secret split across two chunks, once, at its absolute offset', () => {
    const token = fake.github();
    const body = `${rand(5000, 'abc ')}token=${token}${rand(3000, 'xyz ')}`;
    const at = body.indexOf(token);
    const s = new StreamScanner(scanner, { where: 'body' });
    const found = [...s.push(Buffer.from(body.slice(0, at + 10))).findings, ...s.push(Buffer.from(body.slice(at + 10))).findings, ...s.end().findings];
    const gh = found.filter((f) => f.detector === 'github-token');
    assert.equal(gh.length, 1);
    assert.equal(gh[0]?.location.offset, at);
  });
  void it('redact mode replaces the secret in the forwarded bytes, across chunk boundaries', () => {
    const token = fake.stripe();
    const body = `{"note":"${rand(300, 'abc ')}","key":"${token}","n":1}`;
    const s = new StreamScanner(scanner, { where: 'body', redact: true, overlap: 256 });
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 97) chunks.push(s.push(Buffer.from(body.slice(i, i + 97))).output);
    chunks.push(s.end().output);
    const out = Buffer.concat(chunks).toString();
    assert.ok(!out.includes(token));
    assert.ok(out.includes('[REDACTED:stripe-secret-key]'));
    assert.equal(out.replace('[REDACTED:stripe-secret-key]', token), body);
  });
  void it('finds every secret of a body pushed in chunks of changing sizes, at the offsets of a whole scan (the joining buffer is reused)', () => {
    const tokens = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? fake.github() : fake.stripe()));
    const body = Buffer.from(tokens.map((t, i) => `${rand(700 + 900 * (i % 5), 'ab c')} key=${t}`).join('\n'));
    const whole = scanner.scanBytes(body, 'body').map((f) => `${f.detector}@${f.location.offset}`);
    const copy = Buffer.from(body);
    const s = new StreamScanner(scanner, { where: 'body', overlap: 512 });
    const found: string[] = [];
    const sizes = [50, 3000, 200, 9000, 700, 1, 40_000, 333];
    for (let at = 0, k = 0; at < body.length; k++) {
      const n = sizes[k % sizes.length] ?? 100;
      found.push(...s.push(body.subarray(at, at + n)).findings.map((f) => `${f.detector}@${f.location.offset}`));
      at += n;
    }
    found.push(...s.end().findings.map((f) => `${f.detector}@${f.location.offset}`));
    assert.deepEqual(found.sort(), whole.sort());
    assert.ok(whole.length >= 12);
    assert.deepEqual(body, copy, 'the pushed chunks are left as they were');
  });
  void it('pushing pieces finds what pushing them joined finds, and the request scanner\'s bodyChunks what bodyChunk finds', async () => {
    const tokens = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? fake.github() : fake.stripe()));
    const body = Buffer.from(tokens.map((t, i) => `${rand(500 + 700 * (i % 4), 'ab c')} key=${t}`).join('\n'));
    // Batches of uneven pieces (a secret split across pieces and across batches).
    const batches: Buffer[][] = [];
    const sizes = [7, 1500, 64, 9000, 3, 2200];
    for (let at = 0, k = 0; at < body.length; ) {
      const batch: Buffer[] = [];
      for (let j = 0; j < 3 && at < body.length; j++, k++) {
        const n = sizes[k % sizes.length] ?? 10;
        batch.push(body.subarray(at, at + n));
        at += n;
      }
      batches.push(batch);
    }
    const key = (f: { detector: string; location: { offset: number } }): string => `${f.detector}@${f.location.offset}`;
    const joined = new StreamScanner(scanner, { where: 'body', overlap: 512 });
    const pieces = new StreamScanner(scanner, { where: 'body', overlap: 512 });
    const a: string[] = [];
    const b: string[] = [];
    for (const batch of batches) {
      a.push(...joined.push(Buffer.concat(batch)).findings.map(key));
      b.push(...pieces.push(batch).findings.map(key));
    }
    a.push(...joined.end().findings.map(key));
    b.push(...pieces.end().findings.map(key));
    assert.deepEqual(b.sort(), a.sort());
    assert.ok(a.length >= 8);
    const rs1 = createRequestScanner();
    const rs2 = createRequestScanner();
    const c1 = ctx();
    const c2 = ctx();
    const one: string[] = [];
    const many: string[] = [];
    for (const batch of batches) {
      one.push(...(await rs1.bodyChunk(c1, Buffer.concat(batch), undefined)).map((f) => f.detector));
      many.push(...(await (rs2.bodyChunks?.(c2, batch, undefined) ?? [])).map((f) => f.detector));
    }
    one.push(...(await rs1.bodyEnd(c1)).map((f) => f.detector));
    many.push(...(await rs2.bodyEnd(c2)).map((f) => f.detector));
    assert.deepEqual(many.sort(), one.sort());
    assert.ok(one.length > 0);
  });
  void it('redactText replaces every secret', () => {
    const a = fake.github();
    const b = fake.awsId();
    const r = redactText(scanner, `a=${a} b=${b}`);
    assert.equal(r.text, 'a=[REDACTED:github-token] b=[REDACTED:aws-access-key-id]');
  });
});

void describe('proxy RequestScanner', () => {
  void it('finds a secret split across consecutive WebSocket frames and names the frame', async () => {
    const rs = createRequestScanner({ scanner });
    const c = ctx();
    const token = fake.anthropic();
    const f1 = await rs.websocketFrame(c, 'up', Buffer.from(`{"msg":"${token.slice(0, 40)}`));
    const f2 = await rs.websocketFrame(c, 'up', Buffer.from(`${token.slice(40)}"}`));
    assert.deepEqual(f1, []);
    assert.equal(f2[0]?.detector, 'anthropic-api-key');
    assert.match(f2[0]?.where ?? '', /^ws:up:frame:2$/);
  });
  void it('decompresses gzip bodies within limits and refuses bombs', async () => {
    const rs = createRequestScanner({ scanner });
    const c = ctx();
    await rs.headers(c, ['Content-Type', 'text/plain']);
    await rs.bodyChunk(c, gzipSync(`k=${fake.github()}`), 'gzip');
    assert.ok((await rs.bodyEnd(c)).some((f) => f.detector === 'github-token'));
    const bomb = createRequestScanner({ scanner });
    const c2 = ctx();
    await bomb.bodyChunk(c2, gzipSync(Buffer.alloc(50 * 1024 * 1024)), 'gzip');
    assert.equal((await bomb.bodyEnd(c2))[0]?.detector, 'dlp-limit');
  });
  void it('scans a compressed body decompressed only: its compressed bytes (not text) give no findings of their own', async () => {
    // Letters and spaces from a hash chain: 260 KB, 155 KB gzipped, whose compressed bytes hold pairs that read as Cyrillic in UTF-8.
    const words: string[] = [];
    let h = createHash('sha256').update('seed').digest();
    for (let i = 0; i < 40_000; i++) {
      h = createHash('sha256').update(h).digest();
      words.push(Array.from(h.subarray(0, 2 + (h[31]! % 8)), (b) => String.fromCharCode(97 + (b % 26))).join(''));
    }
    const key = fake.awsId();
    for (const [plain, want] of [[words.join(' '), []], [`${words.join(' ')} aws_access_key_id=${key}\n`, ['aws-access-key-id']]] as const) {
      const rs = createRequestScanner({ worker: false });
      const c = ctx();
      await rs.headers(c, ['Content-Type', 'text/plain', 'Content-Encoding', 'gzip']);
      const gz = gzipSync(plain);
      const found: string[] = [];
      for (let at = 0; at < gz.length; at += 256 * 1024) for (const f of await rs.bodyChunk(c, gz.subarray(at, at + 256 * 1024), 'gzip')) found.push(f.detector);
      for (const f of await rs.bodyEnd(c)) found.push(f.detector);
      assert.deepEqual(found, want);
    }
  });
  void it('JSON bodies are scanned field by field (split values)', async () => {
    const rs = createRequestScanner({ scanner });
    const c = ctx();
    const id = fake.awsId();
    await rs.headers(c, ['Content-Type', 'application/json']);
    await rs.bodyChunk(c, Buffer.from(JSON.stringify({ a: id.slice(0, 8), b: id.slice(8) })), undefined);
    assert.ok((await rs.bodyEnd(c)).some((f) => f.detector === 'aws-access-key-id'));
  });
  void it('benign traffic passes', async () => {
    const rs = createRequestScanner({ scanner });
    const c = ctx();
    assert.deepEqual(await rs.url(c, 'https://api.github.com/repos/golang/go/issues?state=open&page=2'), []);
    assert.deepEqual(await rs.headers(c, ['Authorization', 'Bearer mF_9.B5f-4.1JqM', 'Cookie', 'session_id=abc123def456; theme=dark']), []);
  });
});
