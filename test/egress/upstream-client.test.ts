/**
 * The proxy's own upstream HTTP/1.1 client (src/egress/upstream-http.ts)
 * against scripted raw upstreams on loopback: every body framing, interim
 * responses, bodies larger than its read buffer, malformed and cut
 * responses, stale keep-alive connections, chunked request bodies.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { SessionCa } from '../../src/egress/tls-ca.js';
import { makePki } from './tls-fixture.js';
import { after, describe, it } from 'node:test';
import { proxyFor, viaProxy, type TestProxy } from './helpers.js';

/** Pseudo-random bytes (so a misplaced or reused slice shows in the hash). */
function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 1) b[i] = (i * 7 + (i >> 13)) & 0xff;
  return b;
}

interface Scripted {
  readonly port: number;
  /** Raw request bytes received, per connection. */
  readonly received: string[];
  connections: number;
}

/** A TCP upstream that answers each complete request head (and body, per Content-Length or chunked end) with `answer`. */
async function scripted(answer: (head: string, socket: Socket, conn: number) => void): Promise<Scripted & { close: () => Promise<void> }> {
  const s: Scripted = { port: 0, received: [], connections: 0 };
  const server = createServer((socket) => {
    const conn = s.connections++;
    s.received.push('');
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      s.received[conn] = (s.received[conn] ?? '') + d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end);
        let bodyEnd = end + 4;
        const cl = /content-length: (\d+)/i.exec(head);
        if (cl !== null) bodyEnd += Number(cl[1]);
        else if (/transfer-encoding: chunked/i.test(head)) {
          const z = buf.indexOf('0\r\n\r\n', end + 4);
          if (z < 0) return;
          bodyEnd = z + 5;
        }
        if (buf.length < bodyEnd) return;
        buf = buf.slice(bodyEnd);
        answer(head, socket, conn);
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(s, { port: (server.address() as AddressInfo).port, close: () => new Promise<void>((r) => server.close(() => r())) });
}

/** GET through the proxy; `stall`: stop reading for that long after the first chunk (the proxy's writes to the client back up). */
function getBytes(proxyPort: number, url: string, method = 'GET', agent?: Agent, stall = 0): Promise<{ status: number; body: Buffer; complete: boolean; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, method, path: url, ...(agent === undefined ? {} : { agent }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        if (chunks.length === 0 && stall > 0) {
          res.pause();
          setTimeout(() => res.resume(), stall);
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete }));
      res.on('error', (e) => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: false, error: e.message }));
      res.on('aborted', () => undefined);
    });
    req.on('error', (e) => resolve({ status: 0, body: Buffer.alloc(0), complete: false, error: e.message }));
    req.end();
  });
}

void describe('egress proxy: its upstream HTTP client', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup) await c();
  });
  async function setup(answer: Parameters<typeof scripted>[0]): Promise<{ up: Scripted; p: TestProxy; url: (path: string) => string }> {
    const up = await scripted(answer);
    const p = await proxyFor({ allow: [`Net(127.0.0.1:${up.port})`] });
    // The proxy first: its pooled idle connections would hold the upstream's close until they time out.
    cleanup.push(() => p.proxy.close(), () => up.close());
    return { up, p, url: (path) => `http://127.0.0.1:${up.port}${path}` };
  }

  void it('forwards chunked, close-delimited and interim-then-final responses; HEAD has no body', async () => {
    const { p, url } = await setup((head, socket) => {
      if (head.startsWith('GET /chunked')) socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n');
      else if (head.startsWith('GET /close')) socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
      else if (head.startsWith('GET /interim')) socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
    });
    assert.deepEqual(await viaProxy(p.port, 'GET', url('/chunked')).then((r) => [r.status, r.body]), [200, 'hello world']);
    assert.deepEqual(await viaProxy(p.port, 'GET', url('/close')).then((r) => [r.status, r.body]), [200, 'until the end']);
    assert.deepEqual(await viaProxy(p.port, 'GET', url('/interim')).then((r) => [r.status, r.body]), [200, 'final']);
    const h = await viaProxy(p.port, 'HEAD', url('/head'));
    assert.equal(h.status, 200);
    assert.equal(h.headers['content-length'], '5');
    assert.equal(h.body, '');
  });

  void it('streams a body many times its read buffer intact, with Content-Length and chunked; the upstream connection is reused after each', async () => {
    const big = pattern(5 * 1024 * 1024 + 17);
    const { up, p, url } = await setup((head, socket) => {
      if (head.startsWith('GET /cl')) {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`);
        for (let i = 0; i < big.length; i += 100_000) socket.write(big.subarray(i, i + 100_000));
      } else {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
        for (let i = 0; i < big.length; i += 300_000) {
          const part = big.subarray(i, i + 300_000);
          socket.write(`${part.length.toString(16)}\r\n`);
          socket.write(part);
          socket.write('\r\n');
        }
        socket.write('0\r\n\r\n');
      }
    });
    const want = createHash('sha256').update(big).digest('hex');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (const [path, stall] of [['/cl', 0], ['/chunked', 0], ['/cl', 300], ['/chunked', 300]] as const) {
      const r = await getBytes(p.port, url(path), 'GET', agent, stall);
      assert.equal(r.status, 200);
      assert.equal(r.body.length, big.length, path);
      assert.equal(createHash('sha256').update(r.body).digest('hex'), want, path);
      // Released to the pool after a stalled client too (a response ending while paused for 'drain' once kept it until the idle timeout).
      assert.equal(up.connections, 1, `${path} stall ${stall}: one upstream connection`);
    }
    agent.destroy();
  });

  void it('a malformed response is a 502; a response cut short is cut short for the client too', async () => {
    const { p, url } = await setup((head, socket) => {
      if (head.startsWith('GET /bad')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx');
      else if (head.startsWith('GET /split')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: a\nb\r\n\r\nabc');
      else {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
        socket.end(Buffer.alloc(50_000, 0x61));
      }
    });
    const bad = await viaProxy(p.port, 'GET', url('/bad'));
    assert.equal(bad.status, 502);
    assert.match(bad.body, /Content-Length/);
    assert.equal((await viaProxy(p.port, 'GET', url('/split'))).status, 502);
    const cut = await getBytes(p.port, url('/cut'));
    assert.equal(cut.status, 200);
    assert.equal(cut.complete, false, 'the client sees an incomplete response, never a silently short one');
    assert.ok(cut.body.length < 100_000);
  });

  void it('keeps one upstream connection across requests; a pooled connection the upstream closed is replaced without an error', async () => {
    const { up, p, url } = await setup((head, socket, conn) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${conn}`);
      // The first connection is closed by the upstream after its second response (a server's keep-alive timeout).
      if (conn === 0 && head.startsWith('GET /2')) setTimeout(() => socket.destroy(), 20);
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const bodies: string[] = [];
    for (const i of [1, 2, 3, 4]) {
      if (i === 3) await new Promise((r) => setTimeout(r, 100));
      const r = await viaProxy(p.port, 'GET', url(`/${i}`), { agent });
      assert.equal(r.status, 200);
      bodies.push(r.body);
    }
    assert.deepEqual(bodies, ['0', '0', '1', '1']);
    assert.equal(up.connections, 2);
    agent.destroy();
  });

  void it('sends a request body without a length chunked, and one with a length as it is', async () => {
    const { up, p, url } = await setup((head, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: p.port, method: 'POST', path: url('/c') }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write('abc');
      setTimeout(() => req.end('def'), 20);
    });
    assert.equal(chunked, 200);
    assert.equal((await viaProxy(p.port, 'POST', url('/l'), { body: 'hello' })).status, 200);
    const all = up.received.join('');
    assert.match(all, /POST \/c HTTP\/1\.1\r\n[^]*Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n/);
    assert.match(all, /POST \/l HTTP\/1\.1\r\n[^]*Content-Length: 5\r\n\r\nhello/i);
  });

  void it('inspected HTTPS: a body many times its read buffer arrives intact, twice over one kept connection (the first read with a stall)', async () => {
    const pki = makePki();
    const big = pattern(6 * 1024 * 1024 + 5);
    const server = createHttpsServer({ key: pki.key, cert: pki.cert }, (_req, res) => {
      res.writeHead(200, { 'content-length': String(big.length) });
      for (let i = 0; i < big.length; i += 200_000) res.write(big.subarray(i, i + 200_000));
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const ca = await SessionCa.create('upstream-client-test');
    const p = await proxyFor({ allow: [`Net(127.0.0.1:${port})`] }, { tls: { ca, roots: pki.ca } });
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())), () => p.proxy.close());
    const want = createHash('sha256').update(big).digest('hex');
    const got = await new Promise<string[]>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: p.port });
      s.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      s.once('data', () => {
        const t = tlsConnect({ socket: s, ca: ca.certPem, host: '127.0.0.1' });
        // Two requests in turn on the one TLS connection; each response read by its Content-Length.
        const results: string[] = [];
        let buf = Buffer.alloc(0);
        let left = -1;
        let h = createHash('sha256');
        let n = 0;
        const ask = (): boolean => t.write(`GET /big HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
        let stalled = false;
        t.on('data', (d: Buffer) => {
          // The client stops reading for a while: the proxy's writes back up, it must pause the upstream and resume it intact.
          if (!stalled) {
            stalled = true;
            t.pause();
            setTimeout(() => t.resume(), 300);
          }
          if (left < 0) {
            buf = Buffer.concat([buf, d]);
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) return;
            left = Number(/content-length: (\d+)/i.exec(buf.toString('latin1', 0, end))?.[1] ?? '0');
            d = buf.subarray(end + 4);
            buf = Buffer.alloc(0);
          }
          h.update(d);
          n += d.length;
          left -= d.length;
          if (left > 0) return;
          results.push(`${n} ${h.digest('hex')}`);
          h = createHash('sha256');
          n = 0;
          left = -1;
          if (results.length === 2) {
            t.destroy();
            resolve(results);
          } else ask();
        });
        t.on('error', reject);
        ask();
      });
      s.on('error', reject);
    });
    assert.deepEqual(got, [`${big.length} ${want}`, `${big.length} ${want}`]);
  });
});
