/**
 * WebSocket through the real proxy on loopback: plain upgrades and upgrades
 * inside a TLS-inspected tunnel, with the real DLP scanner. Both sides are
 * checked: the client gets a 1008 close, and the upstream's receiving end
 * never saw the frame that carried (or completed) the secret.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { createRequestScanner } from '../../src/dlp/index.js';
import { SessionCa } from '../../src/egress/tls-ca.js';
import { encodeFrame, FrameReader, OPCODE } from '../../src/egress/ws-frame.js';
import { proxyFor, type TestProxy } from './helpers.js';
import { makePki, type TestPki } from './tls-fixture.js';

const KEY = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A WebSocket upstream: records every frame payload (unmasked, as sent) and every complete message (inflated), echoes text. */
interface WsUpstream {
  server: Server;
  port: number;
  frames: Buffer[];
  messages: string[];
  deflateAccepted: number;
  /** Upgraded sockets (closed by the test's teardown). */
  sockets: Set<Socket>;
}

function serveUpgrades(server: Server, u: WsUpstream): void {
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key'] ?? ''}${GUID}`).digest('base64');
    const deflate = (req.headers['sec-websocket-extensions'] ?? '').includes('permessage-deflate');
    if (deflate) u.deflateAccepted += 1;
    u.sockets.add(socket);
    socket.once('close', () => u.sockets.delete(socket));
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${deflate ? 'Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n' : ''}\r\n`);
    const r = new FrameReader({ masked: true, maxFrameBytes: 1 << 24, deflate });
    let parts: Buffer[] = [];
    let compressed = false;
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => {
      r.push(c);
      for (let x = r.next(); x.kind === 'frame'; x = r.next()) {
        const f = x.frame;
        u.frames.push(f.payload);
        if (f.opcode === OPCODE.close) {
          socket.end();
          return;
        }
        if (f.opcode === OPCODE.ping || f.opcode === OPCODE.pong) continue;
        if (f.opcode !== OPCODE.continuation) compressed = f.rsv1;
        parts.push(f.payload);
        if (!f.fin) continue;
        const whole = Buffer.concat(parts);
        parts = [];
        const text = (compressed ? inflateRawSync(Buffer.concat([whole, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH }) : whole).toString();
        u.messages.push(text);
        socket.write(encodeFrame({ opcode: OPCODE.text, payload: Buffer.from(`echo ${text}`) }));
      }
    });
  });
}

async function wsUpstream(pki?: TestPki): Promise<WsUpstream> {
  const server = pki === undefined ? createServer() : createHttpsServer({ key: pki.key, cert: pki.cert });
  const u: WsUpstream = { server, port: 0, frames: [], messages: [], deflateAccepted: 0, sockets: new Set() };
  serveUpgrades(server, u);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  u.port = (server.address() as AddressInfo).port;
  return u;
}

/** A minimal WebSocket client over an already connected stream (plain or TLS). */
class Client {
  readonly reader = new FrameReader({ masked: false, maxFrameBytes: 1 << 24, deflate: false });
  readonly got: string[] = [];
  closeCode: number | undefined;
  closed: Promise<void>;
  readonly s: Socket;
  constructor(s: Socket, head: Buffer) {
    this.s = s;
    this.closed = new Promise((resolve) => s.once('close', () => resolve()));
    s.on('error', () => undefined);
    s.on('data', (c: Buffer) => this.#data(c));
    if (head.length > 0) this.#data(head);
  }
  #data(c: Buffer): void {
    this.reader.push(c);
    for (let x = this.reader.next(); x.kind === 'frame'; x = this.reader.next()) {
      if (x.frame.opcode === OPCODE.close) this.closeCode = x.frame.payload.readUInt16BE(0);
      else this.got.push(x.frame.payload.toString());
    }
  }
  send(payload: string | Buffer, o: { opcode?: number; fin?: boolean; rsv1?: boolean } = {}): void {
    const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
    this.s.write(encodeFrame({ opcode: o.opcode ?? OPCODE.text, fin: o.fin ?? true, rsv1: o.rsv1 ?? false, payload: p, mask: randomBytes(4) }));
  }
  async until(pred: () => boolean, ms = 3000): Promise<void> {
    const t0 = Date.now();
    while (!pred() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends the upgrade request on `s` and waits for the response head. */
function upgrade(s: Socket, target: string, host: string, deflate: boolean): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const on = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      s.off('data', on);
      resolve({ head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4) });
    };
    s.on('data', on);
    s.on('close', () => resolve({ head: buf.toString('latin1'), rest: Buffer.alloc(0) }));
    s.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${deflate ? 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-unknown-ext\r\n' : ''}\r\n`);
  });
}

async function plainClient(proxyPort: number, upPort: number, deflate = false): Promise<{ c: Client; head: string }> {
  const s = connect({ host: '127.0.0.1', port: proxyPort });
  const { head, rest } = await upgrade(s, `http://127.0.0.1:${upPort}/chat`, `127.0.0.1:${upPort}`, deflate);
  return { c: new Client(s, rest), head };
}

/** Compresses one message as clients do (sync flush, tail removed, fresh context). */
function deflateMessage(text: string): Buffer {
  return deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
}

const sawKey = (u: WsUpstream): boolean => u.frames.some((f) => f.includes('RTX7WZ5KDN2M') || f.includes(KEY)) || u.messages.some((m) => m.includes(KEY));

void describe('egress proxy: WebSocket', () => {
  let up: WsUpstream;
  let p: TestProxy;
  before(async () => {
    up = await wsUpstream();
    p = await proxyFor({ allow: [`Net(127.0.0.1:${up.port})`] }, { scanner: createRequestScanner() });
  });
  after(async () => {
    await p.proxy.close();
    for (const s of up.sockets) s.destroy();
    await new Promise<void>((r) => up.server.close(() => r()));
  });

  void it('forwards a plain upgrade and clean messages both ways', async () => {
    const { c, head } = await plainClient(p.port, up.port);
    assert.match(head, /^HTTP\/1\.1 101 /);
    c.send('hello there');
    await c.until(() => c.got.length > 0);
    assert.deepEqual(c.got, ['echo hello there']);
    assert.ok(up.messages.includes('hello there'));
    assert.ok(p.events.some((e) => e.subject === `Http(GET 127.0.0.1:${up.port}/chat)` && e.decision === 'allow'));
    c.s.destroy();
  });

  void it('a secret in message N closes the connection with 1008 before the frame reaches the upstream', async () => {
    const { c } = await plainClient(p.port, up.port);
    c.send('first clean message');
    c.send('second clean message');
    c.send(`here is the key ${KEY} ok`);
    await c.closed;
    assert.equal(c.closeCode, 1008);
    assert.ok(up.messages.includes('second clean message'));
    assert.equal(sawKey(up), false, 'the upstream never saw the frame with the secret');
    assert.ok(p.events.some((e) => e.decision === 'deny' && e.rule === 'dlp' && e.subject === `Http(GET 127.0.0.1:${up.port}/chat)`));
  });

  void it('a secret split across fragments (and across messages) is found when its last part arrives; that frame is not forwarded', async () => {
    const one = await plainClient(p.port, up.port);
    one.c.send('token AKIAQ3EG', { fin: false });
    one.c.send('RTX7WZ5KDN2M end', { opcode: OPCODE.continuation, fin: true });
    await one.c.closed;
    assert.equal(one.c.closeCode, 1008);
    const two = await plainClient(p.port, up.port);
    two.c.send('token AKIAQ3EG');
    two.c.send('RTX7WZ5KDN2M end');
    await two.c.closed;
    assert.equal(two.c.closeCode, 1008);
    assert.equal(sawKey(up), false);
  });

  void it('permessage-deflate: compressed messages are inflated (bounded) and scanned; unknown extensions are not offered upstream', async () => {
    const { c, head } = await plainClient(p.port, up.port, true);
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /permessage-deflate/i);
    c.send(deflateMessage('compressed hello'), { rsv1: true });
    await c.until(() => c.got.length > 0);
    assert.deepEqual(c.got, ['echo compressed hello']);
    const z = deflateMessage(`aws ${KEY} inside`);
    c.send(z.subarray(0, 5), { rsv1: true, fin: false });
    c.send(z.subarray(5), { opcode: OPCODE.continuation });
    await c.closed;
    assert.equal(c.closeCode, 1008);
    assert.equal(sawKey(up), false);
    assert.ok(up.messages.includes('compressed hello'));
  });

  void it('closes on protocol errors (unmasked client frame: 1002; deflate bomb: 1009) without forwarding', async () => {
    const { c: a } = await plainClient(p.port, up.port);
    const before = up.frames.length;
    a.s.write(encodeFrame({ opcode: OPCODE.text, payload: Buffer.from('not masked') }));
    await a.closed;
    assert.equal(a.closeCode, 1002);
    const { c: b } = await plainClient(p.port, up.port, true);
    b.send(deflateMessage('\u0000'.repeat(8 * 1024 * 1024)), { rsv1: true });
    await b.closed;
    assert.equal(b.closeCode, 1009);
    assert.equal(up.frames.length, before);
  });

  void it('refuses an upgrade to a destination no rule allows with 403, connecting nothing', async () => {
    const other = await wsUpstream();
    const s = connect({ host: '127.0.0.1', port: p.port });
    const { head } = await upgrade(s, `http://127.0.0.1:${other.port}/chat`, `127.0.0.1:${other.port}`, false);
    assert.match(head, /^HTTP\/1\.1 403 /);
    assert.match(head, /X-Cordon-Decision: deny/);
    assert.equal(other.frames.length, 0);
    s.destroy();
    await new Promise<void>((r) => other.server.close(() => r()));
  });
});

void describe('egress proxy: WebSocket inside an inspected TLS tunnel', () => {
  let pki: TestPki;
  let up: WsUpstream;
  let ca: SessionCa;
  let p: TestProxy;
  before(async () => {
    pki = makePki();
    up = await wsUpstream(pki);
    ca = await SessionCa.create('ws');
    p = await proxyFor({ allow: [`Net(127.0.0.1:${up.port})`] }, { scanner: createRequestScanner(), tls: { ca, roots: pki.ca } });
  });
  after(async () => {
    await p.proxy.close();
    for (const s of up.sockets) s.destroy();
    await new Promise<void>((r) => up.server.close(() => r()));
  });

  void it('wss through CONNECT: clean messages pass, a secret closes with 1008 and the upstream never sees it', async () => {
    const target = `127.0.0.1:${up.port}`;
    const s = connect({ host: '127.0.0.1', port: p.port });
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    await new Promise<void>((resolve) => s.once('data', () => resolve()));
    const t = tlsConnect({ socket: s, ca: ca.certPem, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => {
      t.once('secureConnect', resolve);
      t.once('error', reject);
    });
    const { head, rest } = await upgrade(t, '/live', target, true);
    assert.match(head, /^HTTP\/1\.1 101 /);
    const c = new Client(t, rest);
    c.send(deflateMessage('over tls'), { rsv1: true });
    await c.until(() => c.got.length > 0);
    assert.deepEqual(c.got, ['echo over tls']);
    c.send(`secret ${KEY}`);
    await c.closed;
    assert.equal(c.closeCode, 1008);
    assert.equal(sawKey(up), false);
    assert.ok(up.messages.includes('over tls'));
  });
});
