/**
 * The zero-copy relay inside the proxy (src/egress/zero-copy.ts): plain HTTP
 * Content-Length bodies and opaque tunnels, on real loopback sockets.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RELAY_AFTER_BYTES } from '../../src/egress/tunnel.js';
import { zeroCopyStats, zeroCopyStatus } from '../../src/egress/zero-copy.js';
import { proxyFor, type TestProxy } from './helpers.js';

const status = zeroCopyStatus();
const skip = status.available ? false : `the zero-copy addon is not available: ${status.reason}`;

const BODY = Buffer.alloc(24 * 1024 * 1024);
for (let i = 0; i < BODY.length; i += 8) BODY.writeUInt32LE((i * 2654435761) >>> 0, i);
const BODY_SHA = createHash('sha256').update(BODY).digest('hex');

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RawResponse {
  readonly head: string;
  readonly body: Buffer;
}

/**
 * A keep-alive client on one connection: sends each request, reads the head and exactly Content-Length bytes.
 * Rejects when the connection closes before a response is complete.
 */
class RawClient {
  readonly socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #wake: (() => void) | undefined;
  closed = false;

  constructor(port: number) {
    this.socket = connect({ host: '127.0.0.1', port });
    this.socket.on('data', (c: Buffer) => {
      this.#buf = this.#buf.length === 0 ? c : Buffer.concat([this.#buf, c]);
      this.#wake?.();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.#wake?.();
    });
  }

  async #until(ok: () => boolean): Promise<void> {
    while (!ok()) {
      if (this.closed) throw new Error(`connection closed with ${this.#buf.length} bytes unread`);
      await new Promise<void>((r) => (this.#wake = r));
    }
  }

  async get(url: string): Promise<RawResponse> {
    this.socket.write(`GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await this.#until(() => this.#buf.includes('\r\n\r\n'));
    const end = this.#buf.indexOf('\r\n\r\n');
    const head = this.#buf.subarray(0, end).toString('latin1');
    this.#buf = this.#buf.subarray(end + 4);
    const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? '0');
    const chunks: Buffer[] = [];
    let got = 0;
    await this.#until(() => {
      const take = Math.min(length - got, this.#buf.length);
      if (take > 0) {
        chunks.push(this.#buf.subarray(0, take));
        this.#buf = this.#buf.subarray(take);
        got += take;
      }
      return got === length;
    });
    return { head, body: Buffer.concat(chunks) };
  }
}

void describe('egress proxy: zero-copy relay of plain HTTP bodies', () => {
  let upstream: HttpServer;
  let upPort = 0;
  const upstreamSockets = new Set<Socket>();
  let p: TestProxy;
  let slowProxy: TestProxy;
  before(async () => {
    upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
      upstreamSockets.add(req.socket);
      const url = req.url ?? '';
      if (url === '/big') {
        res.writeHead(200, { 'content-length': String(BODY.length) });
        res.end(BODY);
        return;
      }
      if (url === '/short') {
        // Declares 8 MiB, sends 1 MiB, closes.
        res.writeHead(200, { 'content-length': String(8 * 1024 * 1024) });
        res.write(BODY.subarray(0, 1024 * 1024), () => setTimeout(() => req.socket.destroy(), 100));
        return;
      }
      if (url === '/slow' || url === '/stall') {
        // 1 MiB at once, then 4 KiB every 100 ms for 2.5 s (/slow), or nothing more (/stall).
        const total = 1024 * 1024 + 25 * 4096;
        res.writeHead(200, { 'content-length': String(total) });
        res.write(BODY.subarray(0, 1024 * 1024));
        if (url === '/stall') return;
        let sent = 1024 * 1024;
        const timer = setInterval(() => {
          if (res.destroyed) {
            clearInterval(timer);
            return;
          }
          const n = Math.min(4096, total - sent);
          res.write(BODY.subarray(sent, sent + n));
          sent += n;
          if (sent >= total) {
            clearInterval(timer);
            res.end();
          }
        }, 100);
        return;
      }
      res.writeHead(404, { 'content-length': '0' });
      res.end();
    });
    upstream.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upPort = (upstream.address() as AddressInfo).port;
    p = await proxyFor({ allow: ['Net(127.0.0.1)'] });
    slowProxy = await proxyFor({ allow: ['Net(127.0.0.1)'] }, { limits: { idleTimeoutMs: 1000 } });
  });
  after(async () => {
    await p.proxy.close();
    await slowProxy.proxy.close();
    upstream.closeAllConnections();
    upstream.close();
  });

  void it('a large body arrives whole (SHA-256), moved by the relay', { skip }, async () => {
    const before = zeroCopyStats.relays;
    const c = new RawClient(p.port);
    const r = await c.get(`http://127.0.0.1:${upPort}/big`);
    assert.match(r.head, /^HTTP\/1.1 200/);
    assert.equal(r.body.length, BODY.length);
    assert.equal(createHash('sha256').update(r.body).digest('hex'), BODY_SHA);
    assert.equal(zeroCopyStats.relays, before + 1);
    c.socket.destroy();
  });

  void it('keep-alive: two large responses on one client connection over one pooled upstream connection', { skip }, async () => {
    upstreamSockets.clear();
    const before = zeroCopyStats.relays;
    const c = new RawClient(p.port);
    for (let i = 0; i < 2; i += 1) {
      const r = await c.get(`http://127.0.0.1:${upPort}/big`);
      assert.equal(createHash('sha256').update(r.body).digest('hex'), BODY_SHA);
    }
    // And a small one after them on the same connection (the JS path, the connection handed back intact).
    const small = await c.get(`http://127.0.0.1:${upPort}/none`);
    assert.match(small.head, /^HTTP\/1.1 404/);
    assert.equal(zeroCopyStats.relays, before + 2);
    assert.equal(upstreamSockets.size, 1, 'one upstream connection served all three');
    c.socket.destroy();
  });

  void it('an upstream closing early cuts the client connection (no hang)', { skip }, async () => {
    const c = new RawClient(p.port);
    await assert.rejects(c.get(`http://127.0.0.1:${upPort}/short`), /connection closed/);
    assert.equal(c.closed, true);
  });

  void it('a client going away mid-body destroys the upstream connection; no descriptor leaks', { skip }, async () => {
    // Warm: the pool may hold a connection from earlier tests; count with it closed.
    const fds = openFds();
    upstreamSockets.clear();
    const c = connect({ host: '127.0.0.1', port: p.port });
    c.write(`GET http://127.0.0.1:${upPort}/big HTTP/1.1\r\nHost: x\r\n\r\n`);
    let got = 0;
    await new Promise<void>((resolve) => {
      c.on('data', (d: Buffer) => {
        got += d.length;
        if (got > 4 * 1024 * 1024) {
          c.destroy();
          resolve();
        }
      });
    });
    const up = [...upstreamSockets][0];
    assert.ok(up !== undefined);
    const t0 = Date.now();
    while (!up.destroyed && Date.now() - t0 < 3000) await sleep(20);
    assert.equal(up.destroyed, true, 'the upstream connection was closed');
    await sleep(100);
    assert.ok(openFds() <= fds, `descriptors: ${openFds()} after, ${fds} before`);
  });

  void it('a slow but moving body is not cut by the idle timeout (1 s); a stalled one is', { skip }, async () => {
    const before = zeroCopyStats.relays;
    const c = new RawClient(slowProxy.port);
    const r = await c.get(`http://127.0.0.1:${upPort}/slow`);
    assert.equal(r.body.length, 1024 * 1024 + 25 * 4096);
    assert.equal(zeroCopyStats.relays, before + 1);
    c.socket.destroy();
    const s = new RawClient(slowProxy.port);
    const t0 = Date.now();
    await assert.rejects(s.get(`http://127.0.0.1:${upPort}/stall`), /connection closed/);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 5000, `cut after ${took} ms`);
  });

  void it('CORDON_NO_SPLICE=1: the same body through the JavaScript path', async () => {
    process.env.CORDON_NO_SPLICE = '1';
    try {
      const before = zeroCopyStats.relays;
      const c = new RawClient(p.port);
      const r = await c.get(`http://127.0.0.1:${upPort}/big`);
      assert.equal(createHash('sha256').update(r.body).digest('hex'), BODY_SHA);
      assert.equal(zeroCopyStats.relays, before, 'no relay started');
      c.socket.destroy();
    } finally {
      delete process.env.CORDON_NO_SPLICE;
    }
  });
});

/** Reads `s` to its end. */
function readAll(s: Socket): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Reads until `n` bytes arrived; returns them and whatever came after in the same read. */
function readHead(s: Socket, until: (b: Buffer) => number | undefined): Promise<{ head: Buffer; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const on = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const n = until(buf);
      if (n === undefined) return;
      s.off('data', on);
      s.pause();
      resolve({ head: buf.subarray(0, n), rest: buf.subarray(n) });
    };
    s.on('data', on);
    s.once('error', reject);
  });
}

/** Opens a CONNECT tunnel to 127.0.0.1:`to` through the proxy on `proxyPort`; returns the socket (paused) and the bytes after the 200. */
async function openConnect(proxyPort: number, to: number): Promise<{ s: Socket; rest: Buffer }> {
  const s = connect({ host: '127.0.0.1', port: proxyPort });
  s.on('error', () => undefined);
  s.write(`CONNECT 127.0.0.1:${to} HTTP/1.1\r\nHost: 127.0.0.1:${to}\r\n\r\n`);
  const { head, rest } = await readHead(s, (b) => {
    const i = b.indexOf('\r\n\r\n');
    return i < 0 ? undefined : i + 4;
  });
  assert.match(head.toString(), /^HTTP\/1.1 200/);
  return { s, rest };
}

void describe('egress proxy: zero-copy tunnels (CONNECT, SOCKS5)', () => {
  // The upstream reads the client's stream to its end (half-close), then answers with its SHA-256 and a large body, then ends.
  let upstream: Server;
  let upPort = 0;
  let p: TestProxy;
  before(async () => {
    upstream = createNetServer({ allowHalfOpen: true }, (s) => {
      const h = createHash('sha256');
      let n = 0;
      s.on('data', (c: Buffer) => {
        h.update(c);
        n += c.length;
      });
      s.on('end', () => {
        s.write(`${n} ${h.digest('hex')}\n`);
        s.end(BODY);
      });
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upPort = (upstream.address() as AddressInfo).port;
    p = await proxyFor({ allow: ['Net(127.0.0.1)'] });
  });
  after(async () => {
    await p.proxy.close();
    upstream.close();
  });

  /** Sends BODY, half-closes, and checks the upstream's digest line and the body coming back. */
  async function bothWays(s: Socket, rest: Buffer): Promise<void> {
    const back = readAll(s);
    s.unshift(rest);
    s.resume();
    s.end(BODY);
    const all = await back;
    const nl = all.indexOf('\n');
    assert.equal(all.subarray(0, nl).toString(), `${BODY.length} ${BODY_SHA}`, 'the upstream got the client stream whole, then its end');
    const body = all.subarray(nl + 1);
    assert.equal(body.length, BODY.length);
    assert.equal(createHash('sha256').update(body).digest('hex'), BODY_SHA);
  }

  void it('CONNECT: both directions relayed, half-close carried both ways', { skip }, async () => {
    const before = zeroCopyStats.relays;
    const tunnels = p.proxy.tunnels();
    const { s, rest } = await openConnect(p.port, upPort);
    await bothWays(s, rest);
    assert.equal(zeroCopyStats.relays, before + 2);
    s.destroy();
    const t0 = Date.now();
    while (p.proxy.tunnels() !== tunnels && Date.now() - t0 < 3000) await sleep(20);
    assert.equal(p.proxy.tunnels(), tunnels, 'the tunnel slot was freed');
  });

  void it('SOCKS5: both directions relayed, half-close carried both ways', { skip }, async () => {
    const before = zeroCopyStats.relays;
    const s = connect({ host: '127.0.0.1', port: p.socksPort });
    s.write(Buffer.from([5, 1, 0]));
    const port = Buffer.alloc(2);
    port.writeUInt16BE(upPort);
    s.write(Buffer.concat([Buffer.from([5, 1, 0, 1, 127, 0, 0, 1]), port]));
    const { head, rest } = await readHead(s, (b) => (b.length >= 12 ? 12 : undefined));
    assert.deepEqual([...head.subarray(0, 4)], [5, 0, 5, 0]);
    await bothWays(s, rest);
    assert.equal(zeroCopyStats.relays, before + 2);
    s.destroy();
  });

  void it('tunnel idle timeout (1 s): a slow but moving relay stays open, a stalled one is closed', { skip }, async () => {
    // The upstream answers the first byte with 1 MiB at once (the direction goes to the relay after RELAY_AFTER_BYTES),
    // then: 's' -> a byte every 100 ms for 2.5 s, then end; 'x' -> nothing more.
    const BURST = Buffer.alloc(1024 * 1024, 0x2d);
    const slowUp = createNetServer((s) => {
      s.on('error', () => undefined);
      s.once('data', (c: Buffer) => {
        s.write(BURST);
        if (c[0] !== 0x73) return;
        let n = 0;
        const timer = setInterval(() => {
          if (s.destroyed) return clearInterval(timer);
          s.write('.');
          n += 1;
          if (n === 25) {
            clearInterval(timer);
            s.end();
          }
        }, 100);
      });
    });
    await new Promise<void>((r) => slowUp.listen(0, '127.0.0.1', r));
    const port = (slowUp.address() as AddressInfo).port;
    const q = await proxyFor({ allow: ['Net(127.0.0.1)'] }, { limits: { idleTimeoutMs: 1000 } });
    try {
      const open = async (first: string): Promise<{ s: Socket; got: Promise<Buffer>; ms: Promise<number> }> => {
        const { s, rest } = await openConnect(q.port, port);
        const t0 = Date.now();
        const got = readAll(s).then((b) => Buffer.concat([rest, b]));
        s.resume();
        s.write(first);
        return { s, got, ms: got.then(() => Date.now() - t0) };
      };
      const before = zeroCopyStats.relays;
      const slow = await open('s');
      const all = await slow.got;
      assert.ok(all.subarray(0, BURST.length).equals(BURST), 'the burst arrived whole');
      assert.equal(all.subarray(BURST.length).toString(), '.'.repeat(25), 'the slow tunnel delivered every byte and its end');
      assert.ok((await slow.ms) >= 2400, 'it ran to the upstream\'s end');
      slow.s.destroy();
      const stalled = await open('x');
      const ms = await stalled.ms;
      assert.equal((await stalled.got).length, BURST.length, 'the stalled tunnel delivered the burst');
      assert.equal(stalled.s.readableEnded || stalled.s.destroyed, true);
      assert.ok(ms >= 900 && ms < 5000, `stalled tunnel closed after ${ms} ms`);
      assert.ok(zeroCopyStats.relays >= before + 2, 'the upstream-to-client direction of both tunnels was relayed');
      stalled.s.destroy();
    } finally {
      await q.proxy.close();
      slowUp.close();
    }
  });

  void it('a tunnel that carries little stays in JavaScript (no kernel pipe held)', async () => {
    const before = zeroCopyStats.relays;
    const echo = createNetServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => undefined);
      s.pipe(s);
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as AddressInfo).port;
    try {
      const { s, rest } = await openConnect(p.port, port);
      const back = readAll(s);
      s.unshift(rest);
      s.resume();
      const small = Buffer.alloc(RELAY_AFTER_BYTES - 1, 0x61);
      s.end(small);
      const got = await back;
      assert.ok(got.equals(small), 'echoed whole, then the end came back (half-close through the JavaScript path)');
      assert.equal(zeroCopyStats.relays, before, 'no relay started');
      s.destroy();
    } finally {
      echo.close();
    }
  });

  void it('CORDON_NO_SPLICE=1: the same tunnel through the JavaScript path', async () => {
    process.env.CORDON_NO_SPLICE = '1';
    try {
      const before = zeroCopyStats.relays;
      const { s, rest } = await openConnect(p.port, upPort);
      await bothWays(s, rest);
      assert.equal(zeroCopyStats.relays, before);
      s.destroy();
    } finally {
      delete process.env.CORDON_NO_SPLICE;
    }
  });
});
