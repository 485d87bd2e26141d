/** The proxy's plain HTTP path on real loopback sockets: forwarding, refusals, keep-alive, hygiene, limits. */
import assert from 'node:assert/strict';
import { Agent } from 'node:http';
import { after, describe, it } from 'node:test';
import { httpUpstream, proxyFor, raw, viaProxy, type TestProxy, type Upstream } from './helpers.js';

void describe('egress proxy: plain HTTP', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup) await c();
  });
  async function setup(rules: (port: number) => { deny?: string[]; ask?: string[]; allow?: string[] }, extra = {}): Promise<{ up: Upstream; p: TestProxy }> {
    const up = await httpUpstream();
    const p = await proxyFor(rules(up.port), extra);
    cleanup.push(() => up.close(), () => p.proxy.close());
    return { up, p };
  }

  void it('forwards an allowed request to the upstream, rewriting Host and stripping hop-by-hop headers', async () => {
    const { up, p } = await setup((port) => ({ allow: [`Net(127.0.0.1:${port})`] }));
    const r = await viaProxy(p.port, 'GET', `http://127.0.0.1:${up.port}/a/../b?q=1`, { headers: { Host: 'evil.example', 'Proxy-Authorization': 'Basic eA==', Connection: 'x-secret', 'x-secret': '1' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'ok GET /b?q=1\n');
    assert.equal(r.headers['x-upstream'], 'yes');
    assert.equal(r.headers['x-hop'], undefined, 'a header named in Connection is dropped on the way back');
    assert.deepEqual(up.seen, [`GET /b?q=1 127.0.0.1:${up.port}`]);
    assert.equal(p.events.at(-1)?.decision, 'allow');
  });

  void it('refuses a denied destination with 403, the cordon headers and a policy body; upstream sees nothing', async () => {
    const { up, p } = await setup((port) => ({ deny: [`Net(127.0.0.1:${port})`], allow: ['Net(127.0.0.1)'] }));
    const r = await viaProxy(p.port, 'GET', `http://127.0.0.1:${up.port}/x`);
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-cordon-decision'], 'deny');
    assert.match(String(r.headers['x-cordon-rule']), new RegExp(`^deny Net\\(127\\.0\\.0\\.1:${up.port}\\) \\(cli, .*policy\\.yaml:\\d+:\\d+\\)$`));
    assert.match(r.body, /security policy, not a network fault/);
    assert.match(r.body, /cordon policy explain 'Http\(GET 127\.0\.0\.1:\d+\/x\)'/);
    assert.equal(up.connections, 0);
    assert.equal(p.events.at(-1)?.decision, 'deny');
  });

  void it('denies by default and suggests the rule to add; a port-scoped rule does not cover another port', async () => {
    const { up, p } = await setup((port) => ({ allow: [`Net(127.0.0.1:${port + 1})`] }));
    const r = await viaProxy(p.port, 'GET', `http://127.0.0.1:${up.port}/`);
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-cordon-rule'], 'default');
    assert.match(r.body, new RegExp(`adding "Net\\(127\\.0\\.0\\.1:${up.port}\\)" to permissions\\.allow`));
    assert.equal(up.connections, 0);
  });

  void it('treats ask as deny with a clear reason when no approval service runs', async () => {
    const { up, p } = await setup((port) => ({ ask: [`Http(POST 127.0.0.1:${port}/upload)`], allow: [`Net(127.0.0.1:${port})`] }));
    const r = await viaProxy(p.port, 'POST', `http://127.0.0.1:${up.port}/upload`, { body: 'data' });
    assert.equal(r.status, 403);
    assert.match(r.body, /no approval service is running/);
    assert.equal(up.connections, 0);
    const ok = await viaProxy(p.port, 'POST', `http://127.0.0.1:${up.port}/other`, { body: 'data' });
    assert.equal(ok.body, 'data');
  });

  void it('report-only forwards a would-deny and records it; metadata stays denied', async () => {
    const { up, p } = await setup(() => ({}), { reportOnly: true });
    const r = await viaProxy(p.port, 'GET', `http://localhost:${up.port}/`);
    assert.equal(r.status, 403, 'report-only never lifts the address check for loopback');
    const m = await viaProxy(p.port, 'GET', 'http://169.254.169.254/latest/meta-data/');
    assert.equal(m.status, 403);
    assert.match(m.body, /mandatory protection/);
    const reported = p.events.filter((e) => e.reportOnly === true);
    assert.equal(reported.length, 1);
  });

  void it('keeps connections alive on both sides', async () => {
    const { up, p } = await setup((port) => ({ allow: [`Net(127.0.0.1:${port})`] }));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 5; i += 1) {
      const r = await viaProxy(p.port, 'GET', `http://127.0.0.1:${up.port}/${i}`, { agent });
      assert.equal(r.status, 200);
    }
    assert.equal(up.connections, 1, 'one upstream connection reused');
    assert.equal(p.proxy.connections(), 1, 'one client connection reused');
    agent.destroy();
  });

  void it('answers malformed and oversized requests with a clear error and no crash', async () => {
    const { up, p } = await setup((port) => ({ allow: [`Net(127.0.0.1:${port})`] }), { limits: { maxHeaderBytes: 2048, maxRequestBodyBytes: 1000 } });
    const cases: [string, RegExp][] = [
      ['garbage\r\n\r\n', /^HTTP\/1\.1 400 /],
      [`GET http://127.0.0.1:${up.port}/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
      ['GET /relative HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400 [^]*absolute-form/],
      ['GET https://127.0.0.1/ HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400 [^]*CONNECT/],
      [`GET http://user:pw@127.0.0.1:${up.port}/ HTTP/1.1\r\nHost: x\r\n\r\n`, /^HTTP\/1\.1 400 [^]*credentials/],
      [`GET http://127.0.0.1:${up.port}/ HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, /^HTTP\/1\.1 400 /],
      [`POST http://127.0.0.1:${up.port}/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n${'b'.repeat(5000)}`, /^HTTP\/1\.1 413 [^]*larger than 1000/],
      [`GET http://127.0.0.1:${up.port}/ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`, /^HTTP\/1\.1 400 [^]*Sec-WebSocket-Key/],
    ];
    for (const [input, want] of cases) {
      const r = await raw(p.port, input);
      assert.match(r.data.toString('latin1'), want, JSON.stringify(input.slice(0, 60)));
      assert.equal(r.closed, true, `closed after ${JSON.stringify(input.slice(0, 40))}`);
    }
    assert.deepEqual(up.seen.filter((s) => !s.startsWith('POST')), [], 'no malformed request reached upstream');
    const ok = await viaProxy(p.port, 'GET', `http://127.0.0.1:${up.port}/still-alive`);
    assert.equal(ok.status, 200);
  });

  void it('closes a connection that sends an incomplete head within the headers timeout', async () => {
    const { p } = await setup(() => ({}), { limits: { headersTimeoutMs: 300 } });
    const started = Date.now();
    const r = await raw(p.port, 'GET http://x/ HTTP/1.1\r\nHost: x\r\n', 5000);
    assert.equal(r.closed, true);
    assert.ok(Date.now() - started < 4000);
  });
});
