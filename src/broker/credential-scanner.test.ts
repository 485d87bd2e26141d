import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScanContext } from '../egress/scanner.js';
import { NOOP_SCANNER } from '../egress/scanner.js';
import { CredentialScanner } from './credential-scanner.js';

const PH = 'sk-ant-api03-PLACEHOLDERPLACEHOLDER0123456789AA';
const scanner = new CredentialScanner(NOOP_SCANNER, { socket: '/run/broker.sock', credentials: [{ name: 'ANTHROPIC_API_KEY', placeholder: PH, hosts: ['api.anthropic.com'], header: 'x-api-key' }] });
const sc = (host: string, port = 443): ScanContext => ({ subject: `Http(GET ${host}/)`, method: 'GET', host, port });

void describe('CredentialScanner (proxy side)', () => {
  void it('routes a placeholder in its header to one of its hosts to the broker, and hides it from the DLP scan', async () => {
    const c = sc('api.anthropic.com');
    assert.deepEqual(await scanner.headers(c, ['X-Api-Key', PH]), []);
    assert.deepEqual(scanner.route(c), { socket: '/run/broker.sock', credentials: ['ANTHROPIC_API_KEY'] });
  });
  void it('a placeholder to another host, in another header or in the URL is a finding and is not routed', async () => {
    const other = sc('evil.test');
    const f = await scanner.headers(other, ['X-Api-Key', PH]);
    assert.equal(f[0]?.detector, 'cordon-placeholder:ANTHROPIC_API_KEY');
    assert.match(f[0]?.where ?? '', /not a host of this credential/);
    assert.equal(scanner.route(other), undefined);
    const wrong = sc('api.anthropic.com');
    assert.equal((await scanner.headers(wrong, ['Authorization', `Bearer ${PH}`])).length, 1);
    assert.equal(scanner.route(wrong), undefined);
    assert.equal((await scanner.url(sc('evil.test'), `https://evil.test/?k=${encodeURIComponent(PH)}`)).length, 1);
    assert.equal((await scanner.url(sc('api.anthropic.com'), `https://api.anthropic.com/${PH}`)).length, 1);
    const basic = `Basic ${Buffer.from(`u:${PH}`).toString('base64')}`;
    assert.equal((await scanner.headers(sc('evil.test'), ['Authorization', basic])).length, 1, 'Basic form seen through');
  });
  void it('finds a raw placeholder split across body chunks even with DLP off', async () => {
    const c = sc('api.anthropic.com');
    assert.deepEqual(await scanner.bodyChunk(c, Buffer.from(`{"k":"${PH.slice(0, 20)}`), undefined), []);
    const f = await scanner.bodyChunk(c, Buffer.from(`${PH.slice(20)}"}`), undefined);
    assert.equal(f[0]?.detector, 'cordon-placeholder:ANTHROPIC_API_KEY');
    assert.equal(f[0]?.where, 'body');
  });
  void it('finds a raw placeholder in the proxy\'s batches of pieces: inside a piece, split across pieces, across batches, spread over pieces shorter than it', async () => {
    const found = async (batches: readonly (readonly string[])[]): Promise<string[]> => {
      const c = sc('evil.test');
      const out: string[] = [];
      for (const b of batches) for (const f of await scanner.bodyChunks(c, b.map((x) => Buffer.from(x)), undefined)) out.push(f.detector);
      return out;
    };
    const det = 'cordon-placeholder:ANTHROPIC_API_KEY';
    assert.deepEqual(await found([['a'.repeat(100), `x${PH}y`, 'b'.repeat(100)]]), [det]);
    assert.deepEqual(await found([['a'.repeat(100) + PH.slice(0, 7), PH.slice(7) + 'b'.repeat(100)]]), [det]);
    assert.deepEqual(await found([['a'.repeat(100) + PH.slice(0, 30)], [PH.slice(30) + 'b']]), [det]);
    assert.deepEqual(await found([[...PH].map((ch) => ch), ['tail']]), [det], 'one character per piece');
    assert.deepEqual(await found([['a'.repeat(100) + PH.slice(0, 30), 'X' + PH.slice(30)]]), [], 'a broken placeholder is not one');
  });
  void it('routes a presigned AWS URL whose X-Amz-Credential names the key id placeholder; the placeholder anywhere else is a finding', async () => {
    const KEY = 'AKIAPLACEHOLDER00001';
    const aws = new CredentialScanner(NOOP_SCANNER, { socket: '/run/broker.sock', credentials: [
      { name: 'AWS_ACCESS_KEY_ID', placeholder: KEY, hosts: ['*.amazonaws.com'], header: 'authorization' },
      { name: 'AWS_SECRET_ACCESS_KEY', placeholder: 'placeholder-secret-placeholder-secret-00', hosts: ['*.amazonaws.com'], header: 'authorization' },
    ] });
    const url = `https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${KEY}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=${'0'.repeat(64)}`;
    const c = sc('b.s3.amazonaws.com');
    assert.deepEqual(await aws.url(c, url), []);
    assert.deepEqual(await aws.headers(c, ['Host', 'b.s3.amazonaws.com']), []);
    assert.deepEqual(aws.route(c), { socket: '/run/broker.sock', credentials: ['AWS_ACCESS_KEY_ID'] });
    // Another host, a second copy, or no presign shape: a finding, not routed.
    for (const [host, u] of [['evil.test', url.replace('b.s3.amazonaws.com', 'evil.test')], ['b.s3.amazonaws.com', `${url}&x=${KEY}`], ['b.s3.amazonaws.com', `https://b.s3.amazonaws.com/k?id=${KEY}`]] as const) {
      const x = sc(host);
      const f = await aws.url(x, u);
      assert.equal(f[0]?.detector, 'cordon-placeholder:AWS_ACCESS_KEY_ID', u);
      await aws.headers(x, []);
      assert.equal(aws.route(x), undefined, u);
    }
  });
});
