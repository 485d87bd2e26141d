/**
 * The engine's field-shaped checks and credential rules through the real proxy (plain HTTP to a local sink): an
 * environment dump in a JSON body, a token split over non-adjacent form fields, a Basic credential header and a
 * credential-named query parameter are refused before the upstream sees anything; the benign forms of each arrive.
 */
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createRequestScanner } from '../../src/dlp/index.js';
import { proxyFor, type TestProxy } from './helpers.js';

interface Sink { server: Server; port: number; requests: number }

async function sink(): Promise<Sink> {
  const s: Sink = { server: createServer(), port: 0, requests: 0 };
  s.server.on('request', (req, res) => {
    s.requests++;
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
  s.port = (s.server.address() as AddressInfo).port;
  return s;
}

function send(proxyPort: number, url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: url, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const AK = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');
const JSON_CT = { 'content-type': 'application/json' };
const FORM_CT = { 'content-type': 'application/x-www-form-urlencoded' };

void describe('egress: field-shaped checks and credential rules of the DLP engine', () => {
  let up: Sink;
  let proxy: TestProxy;
  before(async () => {
    up = await sink();
    proxy = await proxyFor({ allow: [`Net(127.0.0.1:${up.port})`] }, { scanner: createRequestScanner({ worker: false }) });
  });
  after(async () => {
    await proxy.proxy.close();
    await new Promise<void>((r) => up.server.close(() => r()));
  });
  const base = (): string => `http://127.0.0.1:${up.port}`;

  void it('refused, the upstream seeing nothing: env dump, split token, Basic credential, query password', async () => {
    const cases: [string, Record<string, string>, string, string][] = [
      ['/paste', JSON_CT, JSON.stringify({ text: 'HOME=/home/dev\nSHELL=/bin/bash\nDB_PASSWORD=summer-holiday-2024\n' }), 'env-dump-secret'],
      ['/paste', JSON_CT, JSON.stringify({ HOME: '/root', LANG: 'C.UTF-8', GITHUB_TOKEN: 'notrandombutlongtoken' }), 'env-dump-secret'],
      ['/form', FORM_CT, new URLSearchParams({ b: AK.slice(9), note: 'see you', a: AK.slice(0, 9) }).toString(), 'aws-access-key-id'],
      ['/api', { ...JSON_CT, authorization: `Basic ${Buffer.from('deploy:Vq7Lk2Xw9Rz4').toString('base64')}` }, '{}', 'basic-auth-credentials'],
      ['/login?user=bob&password=hunter2hunter2', JSON_CT, '{}', 'url-query-credential'],
    ];
    for (const [path, headers, body, detector] of cases) {
      const before = up.requests;
      assert.equal(await send(proxy.port, `${base()}${path}`, headers, body), 403, detector);
      assert.equal(up.requests, before, `${detector}: the upstream saw no request`);
      assert.ok(proxy.events.some((e) => e.decision === 'deny' && e.findings?.some((f) => f.detector === detector)), detector);
    }
  });

  void it('forwarded: a .env of references, an OAuth token request, a docs Basic example, a paged query', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['/paste', JSON_CT, JSON.stringify({ text: 'NODE_ENV=production\nDB_PASSWORD=${DB_PASSWORD}\nAPI_KEY=<your key>\nPOSTGRES_PASSWORD=postgres\n' })],
      ['/token', FORM_CT, 'grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=https%3A%2F%2Fclient.example.com%2Fcb&client_id=s6BhdRkqt3'],
      ['/api', { ...JSON_CT, authorization: 'Basic dXNlcjpwYXNz' }, '{"q":"hello"}'],
      ['/files?pageToken=CkYKEgoQZmlsZV9pZF8xMjM0NTY3OBIwCgw&pageSize=100&state=af0ifjsldkj', JSON_CT, '{}'],
    ];
    for (const [path, headers, body] of cases) {
      const before = up.requests;
      assert.equal(await send(proxy.port, `${base()}${path}`, headers, body), 200, path);
      assert.equal(up.requests, before + 1);
    }
  });
});
