/**
 * The broker re-signing AWS SigV4 requests, in this process on its Unix
 * socket, against an HTTPS upstream on loopback that checks every signature
 * itself with the real key pair (generated at run time): a presigned URL made
 * with the placeholder key id is re-signed (X-Amz-Credential and
 * X-Amz-Signature); header-signed requests with UNSIGNED-PAYLOAD and
 * STREAMING-UNSIGNED-PAYLOAD-TRAILER are re-signed; a chunk-signed
 * aws-chunked body (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) is re-signed chunk by
 * chunk; a signed trailer and a placeholder outside X-Amz-Credential are
 * refused with the reason, and the upstream receives nothing of them.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DecisionEvent } from '../../src/audit/record.js';
import { compileHost } from '../../src/broker/hosts.js';
import { startBroker, type RunningBroker } from '../../src/broker/server.js';
import { chunkSignature } from '../../src/broker/aws-chunked.js';
import { authorization, canonicalRequest, parseAuthorization, signingKey, stringToSign } from '../../src/broker/sigv4.js';
import type { HeldCredential } from '../../src/broker/swap.js';
import { makePki, type TestPki } from '../egress/tls-fixture.js';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const pick = (n: number, alphabet: string): string => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
// Generated at run time: no real-shaped secret is in this file.
const REAL_AKID = `AKIA${pick(16, B32)}`;
const REAL_SECRET = randomBytes(30).toString('base64');
const PH_AKID = `AKIA${pick(16, B32)}`;
const PH_SECRET = randomBytes(30).toString('base64');

interface Seen { method: string; url: string; headers: string[]; body: Buffer; verified: boolean }

function send(socket: string, method: string, target: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((ok, bad) => {
    const r = request({ socketPath: socket, method, path: target, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: b }));
    });
    r.on('error', bad);
    r.end(body);
  });
}

/** The upstream's own check of a presigned URL, with the real secret: the signature over everything but X-Amz-Signature. */
function presignedValid(method: string, url: string, raw: readonly string[]): boolean {
  const u = new URL(url, 'https://x');
  const cred = (u.searchParams.get('X-Amz-Credential') ?? '').split('/');
  const amzDate = u.searchParams.get('X-Amz-Date') ?? '';
  const signed = (u.searchParams.get('X-Amz-SignedHeaders') ?? '').split(';');
  const given = u.searchParams.get('X-Amz-Signature') ?? '';
  if (cred[0] !== REAL_AKID || cred.length !== 5) return false;
  const query = url.slice(url.indexOf('?') + 1).split('&').filter((p) => !p.startsWith('X-Amz-Signature=')).join('&');
  const canonical = canonicalRequest({ method, target: `${u.pathname}?${query}`, headers: raw, signedHeaders: signed, payloadHash: 'UNSIGNED-PAYLOAD', service: cred[3] ?? '' });
  const scope = cred.slice(1).join('/');
  const want = createHmac('sha256', signingKey(REAL_SECRET, cred[1] ?? '', cred[2] ?? '', cred[3] ?? '')).update(stringToSign(amzDate, scope, canonical)).digest('hex');
  return want === given;
}

/** The upstream's own check of an Authorization header, with the real pair. */
function headerValid(method: string, url: string, raw: readonly string[], headers: Record<string, string | string[] | undefined>): boolean {
  const a = parseAuthorization(String(headers.authorization ?? ''));
  if (a?.accessKeyId !== REAL_AKID) return false;
  const want = authorization({
    accessKeyId: REAL_AKID, secret: REAL_SECRET, amzDate: String(headers['x-amz-date'] ?? ''), region: a.region, service: a.service,
    method, target: url, headers: raw, signedHeaders: a.signedHeaders, payloadHash: String(headers['x-amz-content-sha256'] ?? ''),
  });
  return want === headers.authorization;
}

/** The upstream's check of an aws-chunked body's chunk signatures, chained from the header's signature, with the real secret. */
function chunksValid(body: Buffer, headers: Record<string, string | string[] | undefined>): boolean {
  const a = parseAuthorization(String(headers.authorization ?? ''));
  if (a === undefined) return false;
  const s = { signingKey: signingKey(REAL_SECRET, a.date, a.region, a.service), amzDate: String(headers['x-amz-date'] ?? ''), scope: `${a.date}/${a.region}/${a.service}/aws4_request` };
  let previous = a.signature;
  let rest = body;
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const m = /^([0-9a-f]+);chunk-signature=([0-9a-f]{64})$/.exec(rest.subarray(0, eol).toString('latin1'));
    if (eol < 0 || m === null) return false;
    const size = parseInt(m[1] ?? '', 16);
    const data = rest.subarray(eol + 2, eol + 2 + size);
    if (chunkSignature(s, previous, data) !== m[2]) return false;
    previous = m[2];
    rest = rest.subarray(eol + 2 + size + 2);
    if (size === 0) return rest.length === 0;
  }
}

void describe('broker: AWS SigV4 presigned URLs and streaming payloads', () => {
  let pki: TestPki;
  let upstream: Server;
  let port = 0;
  let broker: RunningBroker | undefined;
  let socket = '';
  const seen: Seen[] = [];
  const events: DecisionEvent[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-sigv4-'));
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  let authority = '';

  before(async () => {
    pki = makePki();
    upstream = createServer({ key: pki.key, cert: pki.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = req.url ?? '';
        const method = req.method ?? 'GET';
        const body = Buffer.concat(chunks);
        const verified = url.includes('X-Amz-Signature=')
          ? presignedValid(method, url, req.rawHeaders)
          : headerValid(method, url, req.rawHeaders, req.headers) && (req.headers['x-amz-content-sha256'] !== 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || chunksValid(body, req.headers));
        seen.push({ method, url, headers: req.rawHeaders, body, verified });
        res.end(verified ? 'signature ok' : 'signature mismatch');
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    port = (upstream.address() as AddressInfo).port;
    authority = `tls.test:${port}`;
    const held = (name: string, placeholder: string, real: string): HeldCredential => ({ name, header: 'authorization', hosts: [compileHost(name, authority)], placeholder, real });
    const keyId = held('AWS_ACCESS_KEY_ID', PH_AKID, REAL_AKID);
    const secret = held('AWS_SECRET_ACCESS_KEY', PH_SECRET, REAL_SECRET);
    socket = path.join(dir, 'b.sock');
    broker = await startBroker({
      socketPath: socket, publish: (e) => events.push(e), upstreamCa: pki.ca, credentials: [keyId, secret], aws: { keyId, secret },
      resolve: (h) => Promise.resolve(h === 'tls.test' ? [{ address: '127.0.0.1', family: 4 as const }] : []),
    });
  });
  after(async () => {
    await broker?.close();
    await new Promise<void>((r) => upstream.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const presignedQuery = (key: string, extra = ''): string =>
    `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${key}%2F${date}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=${amzDate}&X-Amz-Expires=300&X-Amz-SignedHeaders=host${extra}&X-Amz-Signature=${'0'.repeat(64)}`;
  /** Header-signed with the placeholder pair, as an SDK inside the sandbox would. */
  const signedHeaders = (method: string, target: string, payloadHash: string, extra: Record<string, string> = {}): Record<string, string> => {
    const base = { host: authority, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash, ...extra };
    const raw = Object.entries(base).flat();
    const names = Object.keys(base).sort();
    return { ...base, authorization: authorization({ accessKeyId: PH_AKID, secret: PH_SECRET, amzDate, region: 'us-east-1', service: 's3', method, target, headers: raw, signedHeaders: names, payloadHash }) };
  };

  void it('a presigned GET made with the placeholder key is re-signed with the real pair; the upstream verifies it', async () => {
    const before = seen.length;
    const r = await send(socket, 'GET', `https://${authority}/bucket/object.txt?${presignedQuery(PH_AKID)}`, { host: authority });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.body, 'signature ok');
    const s = seen.slice(before);
    assert.equal(s.length, 1);
    assert.equal(s[0]?.verified, true);
    assert.ok(s[0]?.url.includes(`X-Amz-Credential=${REAL_AKID}%2F`), s[0]?.url);
    assert.equal(s[0]?.url.includes(PH_AKID), false, 'no placeholder upstream');
    assert.ok(events.some((e) => e.decision === 'allow' && /re-signed \(SigV4 presigned URL\)/.test(e.reason)));
    for (const e of events) assert.equal(JSON.stringify(e).includes(REAL_SECRET) || JSON.stringify(e).includes(REAL_AKID), false, 'no real value in a decision');
  });

  void it('header-signed UNSIGNED-PAYLOAD and STREAMING-UNSIGNED-PAYLOAD-TRAILER are re-signed; the upstream verifies them', async () => {
    const before = seen.length;
    const put = await send(socket, 'PUT', `https://${authority}/bucket/a.txt`, signedHeaders('PUT', '/bucket/a.txt', 'UNSIGNED-PAYLOAD'), Buffer.from('hello'));
    assert.equal(put.status, 200, put.body);
    const trailerBody = Buffer.from('5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n');
    const trailer = await send(socket, 'PUT', `https://${authority}/bucket/b.txt`, signedHeaders('PUT', '/bucket/b.txt', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', {
      'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5', 'x-amz-trailer': 'x-amz-checksum-crc32',
    }), trailerBody);
    assert.equal(trailer.status, 200, trailer.body);
    const s = seen.slice(before);
    assert.deepEqual(s.map((x) => x.verified), [true, true]);
    assert.deepEqual(s[1]?.body, trailerBody, 'the aws-chunked body is forwarded as it was');
  });

  void it('a chunk-signed aws-chunked body is re-signed chunk by chunk; the upstream verifies every chunk with the real secret', async () => {
    const before = seen.length;
    const chunk = (data: string): string => `${Buffer.byteLength(data).toString(16)};chunk-signature=${'a'.repeat(64)}\r\n${data}\r\n`;
    const body = Buffer.from(`${chunk('x'.repeat(9000))}${chunk('hello')}${chunk('')}`);
    const r = await send(socket, 'PUT', `https://${authority}/bucket/c.txt`, signedHeaders('PUT', '/bucket/c.txt', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', {
      'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '9005',
    }), body);
    assert.equal(r.status, 200, r.body);
    const s = seen.slice(before);
    assert.equal(s.length, 1);
    assert.equal(s[0]?.verified, true, 'header and every chunk signature verified with the real secret');
    assert.equal(s[0]?.body.length, body.length, 'the body keeps its length');
    assert.equal(s[0]?.body.includes('a'.repeat(64)), false, 'no placeholder-made chunk signature upstream');
    assert.ok(events.some((e) => e.decision === 'allow' && /every chunk of the aws-chunked body/.test(e.reason)));
  });

  void it('a malformed chunk or a signed trailer is refused; nothing placeholder-signed reaches the upstream', async () => {
    const before = seen.length;
    const trailer = await send(socket, 'PUT', `https://${authority}/bucket/t.txt`, signedHeaders('PUT', '/bucket/t.txt', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', {
      'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5', 'x-amz-trailer': 'x-amz-checksum-crc32',
    }), Buffer.from(`5;chunk-signature=${'a'.repeat(64)}\r\nhello\r\n0;chunk-signature=${'b'.repeat(64)}\r\nx-amz-checksum-crc32:NhCmhg==\r\nx-amz-trailer-signature:${'c'.repeat(64)}\r\n\r\n`));
    assert.equal(trailer.status, 400);
    assert.match(trailer.body, /STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.*not signed trailers/s);
    assert.equal(seen.length, before, 'nothing reached the upstream');
    const bad = await send(socket, 'PUT', `https://${authority}/bucket/m.txt`, signedHeaders('PUT', '/bucket/m.txt', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', {
      'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '5',
    }), Buffer.from('5;chunk-signature=short\r\nhello\r\n'));
    assert.equal(bad.status, 400, bad.body);
    assert.match(bad.body, /cannot be re-signed: a malformed aws-chunked chunk header/);
    for (const x of seen.slice(before)) assert.equal(x.body.length, 0, 'the upstream request carried no chunk');
  });

  void it('the placeholder key id outside X-Amz-Credential, or the secret placeholder in the URL, is refused; the upstream receives nothing', async () => {
    const before = seen.length;
    const twice = await send(socket, 'GET', `https://${authority}/bucket/o?${presignedQuery(PH_AKID, `&copy=${PH_AKID}`)}`, { host: authority });
    assert.equal(twice.status, 403);
    assert.match(twice.body, /outside a presigned URL's X-Amz-Credential/);
    const secret = await send(socket, 'GET', `https://${authority}/bucket/o?${presignedQuery(PH_AKID, `&s=${encodeURIComponent(PH_SECRET)}`)}`, { host: authority });
    assert.equal(secret.status, 403);
    assert.match(secret.body, /placeholder of AWS_SECRET_ACCESS_KEY is in the URL/);
    assert.equal(seen.length, before, 'nothing reached the upstream');
  });
});
