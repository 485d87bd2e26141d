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
  void it('AWS presigned URLs: the key id placeholder only in X-Amz-Credential, once, to its hosts; nothing else in the URL', () => {
    const KEY = cred('AWS_ACCESS_KEY_ID', 'authorization', ['*.amazonaws.com'], 'AKIAPLACEHOLDER00001', 'AKIAREALREALREAL0001');
    const SECRET = cred('AWS_SECRET_ACCESS_KEY', 'authorization', ['*.amazonaws.com'], 'placeholder-secret-placeholder-secret-00', 'real-secret-real-secret-real-secret-0000');
    const aws = { keyId: KEY, secret: SECRET };
    const no = (r: ReturnType<typeof swapCredentials>): string => (r.ok ? 'ok' : r.reason);
    const target = `/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${KEY.placeholder}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=${'0'.repeat(64)}`;
    const ok = swapCredentials(['Host', 'b.s3.amazonaws.com'], dest('b.s3.amazonaws.com'), [KEY, SECRET, API], aws, target);
    assert.ok(ok.ok);
    assert.equal(ok.presigned?.accessKeyId, KEY.placeholder);
    assert.deepEqual(ok.used, ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
    assert.match(no(swapCredentials([], dest('evil.test'), [KEY, SECRET], aws, target)), /not for this destination/);
    assert.match(no(swapCredentials([], dest('b.s3.amazonaws.com'), [KEY, SECRET], aws, `${target}&copy=${KEY.placeholder}`)), /outside a presigned URL's X-Amz-Credential/);
    assert.match(no(swapCredentials([], dest('b.s3.amazonaws.com'), [KEY, SECRET], aws, `/k?x=${KEY.placeholder}`)), /outside a presigned URL's X-Amz-Credential/);
    assert.match(no(swapCredentials([], dest('b.s3.amazonaws.com'), [KEY, SECRET], aws, `${target}&s=${encodeURIComponent(SECRET.placeholder)}`)), /placeholder of AWS_SECRET_ACCESS_KEY is in the URL/);
    assert.match(no(swapCredentials(['X-Api-Key', API.placeholder], dest('api.example.com'), [API], undefined, `/?k=${API.placeholder}`)), /placeholder of API_KEY is in the URL/);
  });
});
