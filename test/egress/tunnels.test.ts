/** CONNECT and SOCKS5 through the proxy on real loopback sockets, with a TLS upstream signed by a test CA. */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect, createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { proxyFor, raw, tcpUpstream, type TestProxy } from './helpers.js';
import { makePki, type TestPki } from './tls-fixture.js';

function once(s: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const on = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= n) {
        s.off('data', on);
        resolve(buf);
      }
    };
    s.on('data', on);
    s.once('error', reject);
    s.once('close', () => resolve(buf));
  });
}

/** CONNECT through the proxy, then TLS to the upstream, verified against the test CA. */
function httpsViaConnect(proxyPort: number, target: string, pki: TestPki): Promise<{ head: string; body?: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: proxyPort });
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    let head = '';
    const onData = (c: Buffer): void => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      if (!head.startsWith('HTTP/1.1 200')) {
        s.on('data', (d: Buffer) => (head += d.toString('latin1')));
        s.on('close', () => resolve({ head }));
        return;
      }
      const t = tlsConnect({ socket: s, ca: pki.ca, servername: 'tls.test' }, () => t.write('GET / HTTP/1.1\r\nHost: tls.test\r\nConnection: close\r\n\r\n'));
      let body = '';
      t.on('data', (d: Buffer) => (body += d.toString()));
      t.on('end', () => resolve({ head, body }));
      t.on('error', reject);
    };
    s.on('data', onData);
    s.on('error', reject);
  });
}

void describe('egress proxy: CONNECT and SOCKS5', () => {
  let pki: TestPki;
  let tls: TlsServer;
  let tlsPort = 0;
  let tlsConnections = 0;
  let p: TestProxy;
  before(async () => {
    pki = makePki();
    tls = createTlsServer({ key: pki.key, cert: pki.cert }, (s) => {
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret'));
    });
    tls.on('connection', () => (tlsConnections += 1));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    tlsPort = (tls.address() as AddressInfo).port;
    p = await proxyFor({ allow: [`Net(127.0.0.1:${tlsPort})`] }, { limits: { maxTunnels: 2, maxSocksHandshakeBytes: 600, headersTimeoutMs: 1000 } });
  });
  after(async () => {
    await p.proxy.close();
    await new Promise<void>((r) => tls.close(() => r()));
  });

  void it('tunnels CONNECT to an allowed TLS upstream; the client verifies the upstream with the test CA', async () => {
    const r = await httpsViaConnect(p.port, `127.0.0.1:${tlsPort}`, pki);
    assert.match(r.head, /^HTTP\/1\.1 200 Connection Established/);
    assert.match(r.body ?? '', /secret$/);
  });

  void it('refuses CONNECT to a denied port with 403 and the cordon headers before any tunnel; upstream sees nothing', async () => {
    const other = await tcpUpstream();
    const before = tlsConnections;
    const r = await httpsViaConnect(p.port, `127.0.0.1:${other.port}`, pki);
    assert.match(r.head, /^HTTP\/1\.1 403 Forbidden/);
    assert.match(r.head, /X-Cordon-Decision: deny/);
    assert.match(r.head, /X-Cordon-Rule: default/);
    assert.match(r.head, /security policy/);
    assert.equal(other.connections(), 0);
    assert.equal(tlsConnections, before);
    other.server.close();
  });

  void it('refuses malformed CONNECT targets with 400', async () => {
    for (const target of ['127.0.0.1', '127.0.0.1:0', 'a@127.0.0.1:443', '[::1:443', 'evil\u0000.com:443', '127.0.0.1:99999']) {
      const r = await raw(p.port, `CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 400 /, JSON.stringify(target));
    }
  });

  void it('caps concurrent tunnels and frees slots when tunnels close', async () => {
    const echo = await tcpUpstream();
    const q = await proxyFor({ allow: [`Net(127.0.0.1:${echo.port})`] }, { limits: { maxTunnels: 2 } });
    const open = async (): Promise<{ s: Socket; head: string }> => {
      const s = connect({ host: '127.0.0.1', port: q.port });
      s.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const head = (await once(s, 12)).toString('latin1');
      return { s, head };
    };
    const a = await open();
    const b = await open();
    const c = await open();
    assert.match(a.head, /^HTTP\/1\.1 200/);
    assert.match(b.head, /^HTTP\/1\.1 200/);
    assert.match(c.head, /^HTTP\/1\.1 503/);
    a.s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const d = await open();
    assert.match(d.head, /^HTTP\/1\.1 200/);
    for (const x of [b, c, d]) x.s.destroy();
    await q.proxy.close();
    echo.server.close();
  });

  void it('SOCKS5: connects an allowed IPv4 target and a domain name, refuses a denied one with reply 0x02', async () => {
    const echo = await tcpUpstream();
    const q = await proxyFor({ allow: [`Net(127.0.0.1:${echo.port})`, `Net(localhost:${echo.port})`] });
    const portBytes = [echo.port >> 8, echo.port & 0xff];
    const ok = await raw(q.socksPort, Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, ...portBytes, 0x68, 0x69]), 500);
    assert.deepEqual([...ok.data.subarray(0, 4)], [5, 0, 5, 0]);
    assert.equal(ok.data.subarray(12).toString(), 'hi', 'bytes after the request are tunnelled and echoed');
    const name = Buffer.from('localhost');
    const byName = await raw(q.socksPort, Buffer.from([5, 1, 0, 5, 1, 0, 3, name.length, ...name, ...portBytes]), 500);
    assert.deepEqual([...byName.data.subarray(0, 4)], [5, 0, 5, 0]);
    const before = echo.connections();
    const denied = await raw(q.socksPort, Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, ...[(echo.port + 1) >> 8, (echo.port + 1) & 0xff]]));
    assert.deepEqual([...denied.data], [5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.equal(denied.closed, true);
    assert.equal(echo.connections(), before);
    await q.proxy.close();
    echo.server.close();
  });

  void it('SOCKS5: malformed input gets a failure reply and a close, never a hang or a connection', async () => {
    const echo = await tcpUpstream();
    const q = await proxyFor({ allow: [`Net(127.0.0.1:${echo.port})`, 'Net(allowed.com)'] }, { limits: { headersTimeoutMs: 500 } });
    const pb = [echo.port >> 8, echo.port & 0xff];
    const evil = Buffer.from('evil\u0000.allowed.com', 'latin1');
    const cases: [string, Buffer, number[]][] = [
      ['SOCKS4 greeting', Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]), [5, 0xff]],
      ['no methods', Buffer.from([5, 0]), [5, 0xff]],
      ['auth only', Buffer.from([5, 1, 2]), [5, 0xff]],
      ['BIND command', Buffer.from([5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, ...pb]), [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0]],
      ['UDP ASSOCIATE', Buffer.from([5, 1, 0, 5, 3, 0, 1, 127, 0, 0, 1, ...pb]), [5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0]],
      ['bad address type', Buffer.from([5, 1, 0, 5, 1, 0, 9, 1, 2]), [5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0]],
      ['NUL in domain', Buffer.from([5, 1, 0, 5, 1, 0, 3, evil.length, ...evil, ...pb]), [5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0]],
      ['invalid UTF-8 domain', Buffer.from([5, 1, 0, 5, 1, 0, 3, 2, 0xff, 0xfe, ...pb]), [5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0]],
      ['empty domain', Buffer.from([5, 1, 0, 5, 1, 0, 3, 0, ...pb]), [5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0]],
      ['port 0', Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0, 0]), [5, 0, 5, 4, 0, 1, 0, 0, 0, 0, 0, 0]],
      ['reserved byte set', Buffer.from([5, 1, 0, 5, 1, 1, 1, 127, 0, 0, 1, ...pb]), [5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0]],
      ['oversized greeting', Buffer.concat([Buffer.from([5, 255]), Buffer.alloc(255, 1), Buffer.alloc(400, 1)]), [5, 0xff]],
    ];
    for (const [what, bytes, want] of cases) {
      const r = await raw(q.socksPort, bytes);
      assert.deepEqual([...r.data], want, what);
      assert.equal(r.closed, true, `${what}: closed`);
    }
    const started = Date.now();
    const partial = await raw(q.socksPort, Buffer.from([5, 1, 0, 5, 1, 0, 3, 20, 0x61]), 5000);
    assert.equal(partial.closed, true, 'an incomplete request is closed at the handshake deadline');
    assert.ok(Date.now() - started < 4000);
    assert.equal(echo.connections(), 0);
    await q.proxy.close();
    echo.server.close();
  });
});
