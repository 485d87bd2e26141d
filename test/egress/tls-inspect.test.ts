/**
 * TLS inspection through the real proxy on loopback: an HTTPS upstream with a
 * test CA (tls.test and 127.0.0.1), clients that trust only the session CA,
 * and both sides checked (the refusal and what the upstream saw).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createRequestScanner } from '../../src/dlp/index.js';
import type { Resolver } from '../../src/egress/resolver.js';
import { SessionCa } from '../../src/egress/tls-ca.js';
import { proxyFor, type TestProxy } from './helpers.js';
import { makePki, type TestPki } from './tls-fixture.js';

const resolver: Resolver = (name) => Promise.resolve(name === 'tls.test' ? [{ address: '127.0.0.1', family: 4 }] : []);

interface HttpsUpstream {
  server: HttpsServer;
  port: number;
  /** `METHOD url host body` per request received. */
  seen: string[];
  handshakes: number;
}

async function httpsUpstream(pki: TestPki): Promise<HttpsUpstream> {
  const u: HttpsUpstream = { server: createHttpsServer({ key: pki.key, cert: pki.cert }), port: 0, seen: [], handshakes: 0 };
  u.server.on('secureConnection', () => (u.handshakes += 1));
  u.server.on('request', (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      u.seen.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers.host ?? ''} ${body}`.trimEnd());
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`hello from upstream ${req.method ?? ''} ${req.url ?? ''}`);
    });
  });
  await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', r));
  u.port = (u.server.address() as AddressInfo).port;
  return u;
}

interface Exchange {
  readonly connect: string;
  readonly response?: string;
  readonly tlsError?: string;
  readonly authorized?: boolean;
}

/** CONNECT through the proxy, TLS with `ca` and `servername`, one HTTP/1.1 request, everything until close. */
function exchange(proxyPort: number, target: string, o: { ca: string; servername?: string; request: string }): Promise<Exchange> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: proxyPort });
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    let head = '';
    s.on('error', () => undefined);
    const onData = (c: Buffer): void => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      s.off('data', onData);
      if (!head.startsWith('HTTP/1.1 200')) {
        s.on('data', (d: Buffer) => (head += d.toString('latin1')));
        s.on('close', () => resolve({ connect: head }));
        return;
      }
      const t = tlsConnect({ socket: s, ca: o.ca, ...(o.servername === undefined ? {} : { servername: o.servername }) }, () => t.write(o.request));
      let response = '';
      t.on('data', (d: Buffer) => (response += d.toString('latin1')));
      t.on('close', () => resolve({ connect: head, response, authorized: t.authorized }));
      t.on('error', (e: Error) => resolve({ connect: head, tlsError: e.message }));
    };
    s.on('data', onData);
  });
}

const get = (host: string, p = '/', extra = ''): string => `GET ${p} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`;

void describe('egress proxy: TLS inspection', () => {
  let pki: TestPki;
  let up: HttpsUpstream;
  let ca: SessionCa;
  let p: TestProxy;
  let target = '';
  before(async () => {
    pki = makePki();
    up = await httpsUpstream(pki);
    ca = await SessionCa.create('test');
    target = `tls.test:${up.port}`;
    p = await proxyFor(
      { allow: [`Net(${target})`], deny: [`Http(POST ${target}/upload)`] },
      { resolver, scanner: createRequestScanner(), tls: { ca, roots: pki.ca }, limits: { headersTimeoutMs: 2000 } },
    );
  });
  after(async () => {
    await p.proxy.close();
    await new Promise<void>((r) => up.server.close(() => r()));
  });

  void it('terminates TLS with a session-CA leaf for the CONNECT host and forwards over verified TLS', async () => {
    const r = await exchange(p.port, target, { ca: ca.certPem, servername: 'tls.test', request: get(target, '/hello?x=1') });
    assert.equal(r.tlsError, undefined);
    assert.equal(r.authorized, true);
    assert.match(r.response ?? '', /^HTTP\/1\.1 200 /);
    assert.match(r.response ?? '', /hello from upstream GET \/hello\?x=1/);
    assert.ok(up.seen.includes(`GET /hello?x=1 ${target}`), up.seen.join('\n'));
    assert.ok(p.events.some((e) => e.subject.startsWith(`Http(GET ${target}/hello?`) && e.decision === 'allow'), JSON.stringify(p.events));
    assert.ok(p.events.some((e) => e.subject === `Net(${target})` && e.decision === 'allow' && e.rule === 'tls inspection'));
  });

  void it('decides each request inside the tunnel: an Http deny rule refuses that request only; the upstream never sees it', async () => {
    const before = up.seen.length;
    const body = 'a=1';
    const r = await exchange(p.port, target, { ca: ca.certPem, servername: 'tls.test', request: `POST /upload HTTP/1.1\r\nHost: ${target}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}` });
    assert.match(r.connect, /^HTTP\/1\.1 200 /, 'the tunnel itself is admitted (inspected)');
    assert.match(r.response ?? '', /^HTTP\/1\.1 403 /);
    assert.match(r.response ?? '', /X-Cordon-Decision: deny/);
    assert.match(r.response ?? '', /X-Cordon-Rule: deny Http\(POST /);
    assert.equal(up.seen.length, before);
  });

  void it('DLP on the decrypted body: a secret is refused with 403 and the upstream receives nothing', async () => {
    const before = up.seen.length;
    const key = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
    const body = JSON.stringify({ note: `aws ${key}` });
    const r = await exchange(p.port, target, { ca: ca.certPem, servername: 'tls.test', request: `POST /notes HTTP/1.1\r\nHost: ${target}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}` });
    assert.match(r.response ?? '', /^HTTP\/1\.1 403 /);
    assert.match(r.response ?? '', /DLP finding/);
    assert.equal(up.seen.length, before);
  });

  void it('refuses a TLS SNI that names another host (domain fronting): the handshake fails, a record is written, no upstream handshake', async () => {
    const handshakes = up.handshakes;
    const r = await exchange(p.port, target, { ca: ca.certPem, servername: 'evil.test', request: get('evil.test') });
    assert.match(r.connect, /^HTTP\/1\.1 200 /);
    assert.notEqual(r.tlsError, undefined, 'the handshake must fail');
    assert.equal(up.handshakes, handshakes);
    assert.ok(p.events.some((e) => e.decision === 'deny' && e.rule === 'tls: the SNI must name the tunnel host' && e.reason.includes('evil.test')), JSON.stringify(p.events.slice(-3)));
  });

  void it('refuses a Host header that names another host (domain fronting) with 403; the upstream sees nothing', async () => {
    const before = up.seen.length;
    for (const host of ['evil.test', `evil.test:${up.port}`, 'tls.test', `tls.test:${up.port}@evil.test`]) {
      const r = await exchange(p.port, target, { ca: ca.certPem, servername: 'tls.test', request: get(host) });
      assert.match(r.response ?? '', /^HTTP\/1\.1 (403|400) /, host);
      assert.match(r.response ?? '', /X-Cordon-Decision: deny/, host);
    }
    assert.equal(up.seen.length, before);
    assert.ok(p.events.some((e) => e.rule === 'tls inspection: the Host must name the tunnel host'));
  });

  void it('refuses non-TLS bytes in a tunnel to an inspected host with a plain 403, and keeps serving', async () => {
    const before = up.seen.length;
    const s = connect({ host: '127.0.0.1', port: p.port });
    const got = await new Promise<string>((resolve) => {
      let out = '';
      s.on('data', (d: Buffer) => (out += d.toString('latin1')));
      s.on('close', () => resolve(out));
      s.on('error', () => undefined);
      s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n${get(target, '/plain')}`);
    });
    assert.match(got, /^HTTP\/1\.1 200 /);
    assert.match(got, /HTTP\/1\.1 403 Forbidden/);
    assert.match(got, /only TLS may cross this tunnel/);
    assert.equal(up.seen.length, before);
    const again = await exchange(p.port, target, { ca: ca.certPem, servername: 'tls.test', request: get(target, '/after') });
    assert.match(again.response ?? '', /^HTTP\/1\.1 200 /);
    for (let i = 0; i < 50 && p.proxy.tunnels() > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(p.proxy.tunnels(), 0, 'every tunnel slot is released');
  });

  void it('a client that does not trust the session CA fails the handshake (trust exists only where the bundle is installed)', async () => {
    const r = await exchange(p.port, target, { ca: pki.ca, servername: 'tls.test', request: get(target) });
    assert.notEqual(r.tlsError, undefined);
  });

  void it('refuses a CONNECT to a host no rule allows before any tunnel, resolving nothing', async () => {
    const r = await exchange(p.port, 'other.test:443', { ca: ca.certPem, request: get('other.test') });
    assert.match(r.connect, /^HTTP\/1\.1 403 /);
    assert.match(r.connect, /X-Cordon-Decision: deny/);
  });

  void it('an upstream whose certificate the proxy does not trust is a 502, never an unverified connection', async () => {
    const q = await proxyFor({ allow: [`Net(${target})`] }, { resolver, tls: { ca, roots: ca.certPem } });
    try {
      const r = await exchange(q.port, target, { ca: ca.certPem, servername: 'tls.test', request: get(target, '/untrusted') });
      assert.match(r.response ?? '', /^HTTP\/1\.1 502 /);
      assert.ok(!up.seen.some((l) => l.includes('/untrusted')));
    } finally {
      await q.proxy.close();
    }
  });

  void it('Http allow rules alone admit an inspected tunnel; each request is decided by path', async () => {
    const q = await proxyFor({ allow: [`Http(GET ${target}/ok/*)`] }, { resolver, tls: { ca, roots: pki.ca } });
    try {
      const ok = await exchange(q.port, target, { ca: ca.certPem, servername: 'tls.test', request: get(target, '/ok/1') });
      assert.match(ok.response ?? '', /^HTTP\/1\.1 200 /);
      const no = await exchange(q.port, target, { ca: ca.certPem, servername: 'tls.test', request: get(target, '/admin') });
      assert.match(no.response ?? '', /^HTTP\/1\.1 403 /);
      assert.ok(!up.seen.some((l) => l.includes('/admin')));
    } finally {
      await q.proxy.close();
    }
  });

  void it('passthrough hosts are not inspected: the client sees the upstream\'s own certificate; a foreign SNI is refused', async () => {
    const q = await proxyFor({ allow: [`Net(${target})`] }, { resolver, tls: { ca, roots: pki.ca, passthrough: ['tls.test'] } });
    try {
      const ok = await exchange(q.port, target, { ca: pki.ca, servername: 'tls.test', request: get(target, '/pinned') });
      assert.equal(ok.authorized, true);
      assert.match(ok.response ?? '', /^HTTP\/1\.1 200 /);
      const handshakes = up.handshakes;
      const bad = await exchange(q.port, target, { ca: pki.ca, servername: 'evil.test', request: get('evil.test') });
      assert.notEqual(bad.tlsError, undefined);
      assert.equal(up.handshakes, handshakes);
      assert.ok(q.events.some((e) => e.rule === 'tls: the SNI must name the tunnel host'));
    } finally {
      await q.proxy.close();
    }
  });

  void it('curl through the proxy trusts the session CA from a bundle file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-ca-'));
    writeFileSync(path.join(dir, 'ca.pem'), ca.certPem);
    const out = await new Promise<string>((resolve, reject) => {
      execFile('curl', ['-sS', '--max-time', '10', '--proxy', `http://127.0.0.1:${p.port}`, '--cacert', path.join(dir, 'ca.pem'), `https://${target}/curl`], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message} ${stderr}`)) : resolve(stdout)));
    });
    assert.equal(out, 'hello from upstream GET /curl');
  });

  void it('an ask rule inside an inspected tunnel holds the request for a person: approved, the exact body goes upstream; refused, nothing does', async () => {
    const pk = makePki();
    const upstream = await httpsUpstream(pk);
    const sessionCa = await SessionCa.create('test-ask');
    const tgt = `tls.test:${upstream.port}`;
    const asked: { host: string; bodySha256: string | undefined }[] = [];
    let answer = true;
    const ask = await proxyFor({ allow: [`Net(${tgt})`], ask: [`Http(POST ${tgt}/deploy)`] }, {
      resolver, scanner: createRequestScanner(), tls: { ca: sessionCa, roots: pk.ca }, limits: { headersTimeoutMs: 2000 },
      approve: (input) => {
        const r = input.request;
        asked.push({ host: r.kind === 'http' ? r.host : '', bodySha256: r.kind === 'http' ? r.bodySha256 : undefined });
        return Promise.resolve({ approved: answer, id: 'a_test', reason: answer ? 'approved by the test' : 'denied by the test' });
      },
    });
    try {
      const body = 'release=v1.2.3';
      const req = `POST /deploy HTTP/1.1\r\nHost: ${tgt}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
      const ok = await exchange(ask.port, tgt, { ca: sessionCa.certPem, servername: 'tls.test', request: req });
      assert.match(ok.response ?? '', /^HTTP\/1\.1 200 /, ok.response);
      assert.deepEqual(upstream.seen, [`POST /deploy ${tgt} ${body}`], 'the approved request arrives once, body byte for byte');
      assert.equal(asked.length, 1);
      assert.match(asked[0]?.bodySha256 ?? '', /^[0-9a-f]{64}$/, 'the approval covered the body by its hash');
      answer = false;
      const no = await exchange(ask.port, tgt, { ca: sessionCa.certPem, servername: 'tls.test', request: req });
      assert.match(no.response ?? '', /^HTTP\/1\.1 403 /);
      assert.equal(upstream.seen.length, 1, 'a refused ask sends nothing upstream');
      assert.equal(asked.length, 2, 'the same request asks again (nothing is cached)');
    } finally {
      await ask.proxy.close();
      await new Promise<void>((r) => upstream.server.close(() => r()));
    }
  });

  void it('a Net ask rule for an inspected host asks for each request inside the tunnel; nothing reaches the upstream before an approval', async () => {
    const pk = makePki();
    const upstream = await httpsUpstream(pk);
    const sessionCa = await SessionCa.create('test-net-ask');
    const tgt = `tls.test:${upstream.port}`;
    const subjects: string[] = [];
    let answer = false;
    const ask = await proxyFor({ ask: [`Net(${tgt})`] }, {
      resolver, scanner: createRequestScanner(), tls: { ca: sessionCa, roots: pk.ca }, limits: { headersTimeoutMs: 2000 },
      approve: (input) => {
        subjects.push(input.subject);
        return Promise.resolve({ approved: answer, id: 'a_test', reason: answer ? 'approved by the test' : 'denied by the test' });
      },
    });
    try {
      const no = await exchange(ask.port, tgt, { ca: sessionCa.certPem, servername: 'tls.test', request: get(tgt, '/a') });
      assert.match(no.connect, /^HTTP\/1\.1 200 /, 'the tunnel is admitted for per-request decisions');
      assert.match(no.response ?? '', /^HTTP\/1\.1 403 /);
      assert.deepEqual(upstream.seen, []);
      answer = true;
      const ok = await exchange(ask.port, tgt, { ca: sessionCa.certPem, servername: 'tls.test', request: get(tgt, '/b') });
      assert.match(ok.response ?? '', /^HTTP\/1\.1 200 /);
      assert.deepEqual(upstream.seen, [`GET /b ${tgt}`]);
      assert.equal(subjects.length, 2);
      assert.ok(subjects.every((x) => x.startsWith('Http(GET ')), subjects.join(', '));
    } finally {
      await ask.proxy.close();
      await new Promise<void>((r) => upstream.server.close(() => r()));
    }
  });
});
