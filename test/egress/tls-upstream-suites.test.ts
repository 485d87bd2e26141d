/**
 * The suites the inspecting proxy offers upstream servers (src/egress/tls-ciphers.ts, upstream-http.ts): AES-128-GCM
 * alone first for TLS 1.3, so a server preferring AES-256-GCM (Node's default) uses AES-128-GCM; a TLS 1.3 server
 * without it refuses the handshake and is asked again with every suite (the request, body included, arrives once and
 * whole), and is remembered; a TLS 1.2 server gets the full TLS 1.2 list at once. Real TLS servers on loopback.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer as createHttpsServer, type Server, type ServerOptions } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, describe, it } from 'node:test';
import { SessionCa } from '../../src/egress/tls-ca.js';
import { proxyFor } from './helpers.js';
import { makePki, type TestPki } from './tls-fixture.js';

interface Upstream {
  readonly server: Server;
  readonly port: number;
  /** `METHOD url body-length body-sha256 protocol suite` per request. */
  readonly seen: string[];
  /** Handshakes the server refused (tlsClientError). */
  refused: number;
}

/** An HTTPS upstream with `opts` that closes the connection after each response (every request needs a new one). */
async function upstream(pki: TestPki, opts: ServerOptions): Promise<Upstream> {
  const server = createHttpsServer({ key: pki.key, cert: pki.cert, ...opts });
  const u = { server, port: 0, seen: [] as string[], refused: 0 };
  server.on('tlsClientError', () => (u.refused += 1));
  server.on('request', (req, res) => {
    const h = createHash('sha256');
    let n = 0;
    req.on('data', (c: Buffer) => {
      h.update(c);
      n += c.length;
    });
    req.on('end', () => {
      const s = req.socket as TLSSocket;
      const line = `${req.method ?? ''} ${req.url ?? ''} ${n} ${h.digest('hex').slice(0, 16)} ${s.getProtocol() ?? ''} ${s.getCipher().name}`;
      u.seen.push(line);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(line)), connection: 'close' });
      res.end(line);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(u, { port: (server.address() as AddressInfo).port });
}

/** CONNECT, TLS to the proxy with the session CA, one request; the response and the client leg's suite. */
function inspected(proxyPort: number, target: string, ca: string, request: Buffer): Promise<{ response: string; suite: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: proxyPort });
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    s.on('error', reject);
    s.once('data', (d: Buffer) => {
      if (!d.toString('latin1').startsWith('HTTP/1.1 200')) {
        reject(new Error(`CONNECT refused: ${d.toString('latin1')}`));
        return;
      }
      const t = tlsConnect({ socket: s, ca, host: '127.0.0.1' }, () => t.write(request));
      let response = '';
      t.on('data', (c: Buffer) => {
        response += c.toString('latin1');
        // One response with its Content-Length: done (the proxy keeps the client connection).
        const end = response.indexOf('\r\n\r\n');
        const cl = /content-length: (\d+)/i.exec(response.slice(0, Math.max(0, end)));
        if (end >= 0 && cl !== null && response.length >= end + 4 + Number(cl[1])) {
          const suite = t.getCipher().name;
          t.destroy();
          resolve({ response, suite });
        }
      });
      t.on('error', reject);
    });
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex').slice(0, 16);

void describe('egress proxy: the TLS suites offered to upstream servers', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  async function setUp(opts: ServerOptions): Promise<{ u: Upstream; target: string; proxyPort: number; ca: SessionCa }> {
    const pki = makePki();
    const u = await upstream(pki, opts);
    const target = `127.0.0.1:${u.port}`;
    const ca = await SessionCa.create('suites-test');
    const p = await proxyFor({ allow: [`Net(${target})`] }, { tls: { ca, roots: pki.ca } });
    cleanup.push(() => new Promise<void>((r) => u.server.close(() => r())), () => p.proxy.close());
    return { u, target, proxyPort: p.port, ca };
  }

  void it('a server preferring AES-256-GCM (Node\'s default order) uses AES-128-GCM; the client leg too', async () => {
    const { u, target, proxyPort, ca } = await setUp({});
    const r = await inspected(proxyPort, target, ca.certPem, Buffer.from(`GET /a HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    assert.match(r.response, /^HTTP\/1\.1 200 /);
    assert.deepEqual(u.seen, ['GET /a 0 e3b0c44298fc1c14 TLSv1.3 TLS_AES_128_GCM_SHA256']);
    assert.equal(r.suite, 'TLS_AES_128_GCM_SHA256');
    assert.equal(u.refused, 0);
  });

  void it('a TLS 1.3 server without AES-128-GCM refuses the first offer once: the request goes again with every suite (a body arrives once and whole), and the server is remembered', async () => {
    const { u, target, proxyPort, ca } = await setUp({ ciphers: 'TLS_AES_256_GCM_SHA384', minVersion: 'TLSv1.3' });
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i += 1) body[i] = 97 + ((i * 7) % 26);
    const post = Buffer.concat([Buffer.from(`POST /p HTTP/1.1\r\nHost: ${target}\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
    const r1 = await inspected(proxyPort, target, ca.certPem, post);
    assert.match(r1.response, /^HTTP\/1\.1 200 /);
    assert.equal(u.refused, 1, 'one refused handshake');
    // A new connection (the server closes each): asked with every suite at once.
    const r2 = await inspected(proxyPort, target, ca.certPem, Buffer.from(`GET /g HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    assert.match(r2.response, /^HTTP\/1\.1 200 /);
    assert.deepEqual(u.seen, [`POST /p ${body.length} ${sha(body)} TLSv1.3 TLS_AES_256_GCM_SHA384`, 'GET /g 0 e3b0c44298fc1c14 TLSv1.3 TLS_AES_256_GCM_SHA384']);
    assert.equal(u.refused, 1, 'the second request was not refused');
  });

  void it('a chunked request body to such a server arrives once and whole too', async () => {
    const { u, target, proxyPort, ca } = await setUp({ ciphers: 'TLS_CHACHA20_POLY1305_SHA256', minVersion: 'TLSv1.3' });
    const part = Buffer.from('x'.repeat(40_000));
    const chunked = Buffer.concat([Buffer.from(`POST /c HTTP/1.1\r\nHost: ${target}\r\nTransfer-Encoding: chunked\r\n\r\n`), Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n0\r\n\r\n')]);
    const r = await inspected(proxyPort, target, ca.certPem, chunked);
    assert.match(r.response, /^HTTP\/1\.1 200 /);
    assert.deepEqual(u.seen, [`POST /c ${part.length} ${sha(part)} TLSv1.3 TLS_CHACHA20_POLY1305_SHA256`]);
    assert.equal(u.refused, 1);
  });

  void it('a TLS 1.2 server gets the whole TLS 1.2 list in the first offer (no refusal)', async () => {
    const { u, target, proxyPort, ca } = await setUp({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384' });
    const r = await inspected(proxyPort, target, ca.certPem, Buffer.from(`GET /t HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    assert.match(r.response, /^HTTP\/1\.1 200 /);
    assert.deepEqual(u.seen, [`GET /t 0 e3b0c44298fc1c14 TLSv1.2 ${u.seen[0]?.split(' ').pop() ?? ''}`]);
    assert.equal(u.refused, 0);
  });
});
