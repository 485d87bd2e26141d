/** With DLP on, a request body is scanned whole before any of it is sent: a secret in a late chunk means the upstream gets nothing. */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createRequestScanner } from '../../src/dlp/index.js';
import { freeSlabs } from '../../src/egress/body-slabs.js';
import { proxyFor, type TestProxy } from './helpers.js';

interface Sink { server: Server; port: number; bodies: string[]; requests: number }

async function sink(): Promise<Sink> {
  const s: Sink = { server: createServer(), port: 0, bodies: [], requests: 0 };
  s.server.on('request', (req, res) => {
    s.requests++;
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      s.bodies.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
  s.port = (s.server.address() as AddressInfo).port;
  return s;
}

/** Sends a body in separate chunks, with a pause between them. */
function chunked(proxyPort: number, url: string, chunks: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: url, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    let i = 0;
    const next = (): void => {
      const c = chunks[i++];
      if (c === undefined) return void req.end();
      req.write(c);
      setTimeout(next, 30);
    };
    next();
  });
}

/** Sends a body with Content-Length, in 64 KiB writes. */
function sized(proxyPort: number, url: string, body: Buffer): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: url, headers: { 'content-type': 'text/plain', 'content-length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    let at = 0;
    const pump = (): void => {
      while (at < body.length) {
        const ok = req.write(body.subarray(at, at + 65536));
        at += 65536;
        if (!ok) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

void describe('egress DLP on request bodies', () => {
  let up: Sink;
  let proxy: TestProxy;
  before(async () => {
    up = await sink();
    proxy = await proxyFor({ allow: [`Net(127.0.0.1:${up.port})`] }, { scanner: createRequestScanner() });
  });
  after(async () => {
    await proxy.proxy.close();
    await new Promise<void>((r) => up.server.close(() => r()));
  });

  void it('a secret in the last chunk: 403 and the upstream received nothing', async () => {
    const key = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
    const filler = 'x'.repeat(64 * 1024);
    const status = await chunked(proxy.port, `http://127.0.0.1:${up.port}/upload`, [filler, filler, `aws_access_key_id=${key}\n`]);
    assert.equal(status, 403);
    assert.equal(up.requests, 0, 'the upstream saw no request at all');
    assert.ok(proxy.events.some((e) => e.decision === 'deny' && e.findings?.some((f) => f.detector === 'aws-access-key-id')));
  });

  void it('a large body (scanned in the DLP worker while the next MiB arrives) with a secret in its last MiB: 403 and the upstream received nothing', async () => {
    const key = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
    const before = up.requests;
    const big = Buffer.alloc(3 * 1024 * 1024 + 100, 'lorem ipsum dolor sit amet ');
    big.write(` aws_access_key_id=${key}\n`, big.length - 2000, 'latin1');
    const status = await sized(proxy.port, `http://127.0.0.1:${up.port}/upload`, big);
    assert.equal(status.status, 403);
    assert.equal(up.requests, before, 'the upstream saw no request at all');
    assert.ok(proxy.events.some((e) => e.decision === 'deny' && e.findings?.some((f) => f.detector === 'aws-access-key-id')));
  });

  void it('a clean large body arrives whole', async () => {
    const before = up.requests;
    const big = Buffer.alloc(5 * 1024 * 1024 + 7, 'lorem ipsum dolor sit amet ');
    const r = await sized(proxy.port, `http://127.0.0.1:${up.port}/upload`, big);
    assert.equal(r.status, 200);
    assert.equal(up.requests, before + 1);
    assert.equal(up.bodies.at(-1)?.length, big.length);
    assert.equal(up.bodies.at(-1), big.toString());
  });

  void it('a secret across the end of the first batch (2 MiB) or of a held slab (at 6 MiB): 403 and the upstream received nothing', async () => {
    const key = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
    for (const at of [2, 6]) {
      const before = up.requests;
      const big = Buffer.alloc(8 * 1024 * 1024, 'lorem ipsum dolor sit amet ');
      big.write(` aws_access_key_id=${key} `, at * 1024 * 1024 - 20, 'latin1');
      const status = await sized(proxy.port, `http://127.0.0.1:${up.port}/upload`, big);
      assert.equal(status.status, 403, `secret across ${at} MiB`);
      assert.equal(up.requests, before, 'the upstream saw no request at all');
    }
  });

  void it('slabs written upstream are given back and reused: the next large bodies arrive whole, byte for byte', async () => {
    for (const [i, words] of ['alpha beta gamma delta ', 'one two three four five '].entries()) {
      const before = up.requests;
      const big = Buffer.alloc(7 * 1024 * 1024 + 999 * i, words);
      const r = await sized(proxy.port, `http://127.0.0.1:${up.port}/upload`, big);
      assert.equal(r.status, 200);
      assert.equal(up.requests, before + 1);
      assert.equal(up.bodies.at(-1), big.toString());
      // Given back at the upstream socket's drain, which came before the upstream answered.
      assert.ok(freeSlabs() >= 2, `free slabs after a 7 MiB body: ${freeSlabs()}`);
    }
  });

  void it('a clean multi-chunk body arrives whole', async () => {
    const before = up.requests;
    const status = await chunked(proxy.port, `http://127.0.0.1:${up.port}/upload`, ['hello ', 'world ', 'again']);
    assert.equal(status, 200);
    assert.equal(up.requests, before + 1);
    assert.equal(up.bodies.at(-1), 'hello world again');
  });
});
