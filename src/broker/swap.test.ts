import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileHost } from './hosts.js';
import { ResponseRedactor } from './redact-stream.js';
import { swapCredentials, type HeldCredential } from './swap.js';

const cred = (name: string, header: string, hosts: string[], placeholder: string, real: string): HeldCredential => ({ name, header, hosts: hosts.map((h) => compileHost(name, h)), placeholder, real });
const API = cred('API_KEY', 'x-api-key', ['api.example.com'], 'PH-api-0000000000000000', 'REAL-api-111111111111111');
const GH = cred('GH', 'authorization', ['*.github.test', '127.0.0.1:8443'], 'ghp_PLACEHOLDER000000000000000000000', 'ghp_REALREALREAL111111111111111111111');
const dest = (name: string, port = 443, tls = true): { host: { name: string; type: 'dns' | 'ipv4' }; port: number; tls: boolean } => ({ host: { name, type: /^\d/.test(name) ? 'ipv4' : 'dns' }, port, tls });

void describe('swapCredentials', () => {
  void it('replaces a placeholder in its header for its hosts (plain, Bearer, Basic)', () => {
    const a = swapCredentials(['X-Api-Key', API.placeholder, 'Accept', '*/*'], dest('api.example.com'), [API, GH], undefined);
    assert.deepEqual(a.ok && a.headers, ['X-Api-Key', API.real, 'Accept', '*/*']);
    const b = swapCredentials(['Authorization', `Bearer ${GH.placeholder}`], dest('x.github.test'), [API, GH], undefined);
    assert.deepEqual(b.ok && b.headers, ['Authorization', `Bearer ${GH.real}`]);
    const basic = `Basic ${Buffer.from(`user:${GH.placeholder}`).toString('base64')}`;
    const c = swapCredentials(['Authorization', basic], dest('127.0.0.1', 8443), [GH], undefined);
    assert.ok(c.ok);
    assert.equal(Buffer.from((c.headers[1] ?? '').slice(6), 'base64').toString(), `user:${GH.real}`);
  });
  void it('refuses another host, another port, another header, clear text to a port-less pattern, and no placeholder at all', () => {
    const no = (r: ReturnType<typeof swapCredentials>): string => (r.ok ? 'ok' : r.reason);
    assert.match(no(swapCredentials(['X-Api-Key', API.placeholder], dest('evil.test'), [API], undefined)), /not for this destination/);
    assert.match(no(swapCredentials(['X-Api-Key', API.placeholder], dest('api.example.com', 8443), [API], undefined)), /not for this destination/);
    assert.match(no(swapCredentials(['X-Api-Key', API.placeholder], dest('api.example.com', 443, false), [API], undefined)), /not for this destination/);
    assert.match(no(swapCredentials(['Authorization', `Bearer ${API.placeholder}`], dest('api.example.com'), [API], undefined)), /in header authorization, not in x-api-key/);
    assert.match(no(swapCredentials(['Authorization', `Bearer ${GH.placeholder}`], dest('github.test'), [GH], undefined)), /not for this destination/, '*.x matches subdomains only');
    assert.match(no(swapCredentials(['Accept', '*/*'], dest('api.example.com'), [API], undefined)), /no placeholder/);
  });
});

void describe('ResponseRedactor', () => {
  void it('replaces a real value split across chunks by its placeholder, keeping the length', () => {
    const r = new ResponseRedactor([['REAL-secret-value', 'PLAC-holder-value']]);
    const body = 'echo: REAL-secret-value and again REAL-secret-value.';
    let out = '';
    for (let i = 0; i < body.length; i += 5) out += r.push(Buffer.from(body.slice(i, i + 5))).toString();
    out += r.end().toString();
    assert.equal(out, 'echo: PLAC-holder-value and again PLAC-holder-value.');
  });
});
