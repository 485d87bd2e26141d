import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync, brotliCompressSync, deflateSync } from 'node:zlib';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { scanJsonValue, scanUrl, scanHeaders, scanFields, multipartFields, formFields } from '../../src/dlp/structured.js';
import { fake } from './helpers.js';

const scanner = new DlpScanner({ traffic: true });
const detectors = (text: string): string[] => scanner.scanText(text, 'body').map((f) => f.detector);
const hex = (s: string): string => Buffer.from(s).toString('hex');

void describe('decoding layers', () => {
  const token = fake.github();
  const cases: [string, string][] = [
    ['base64', `{"data":"${Buffer.from(`token=${token}`).toString('base64')}"}`],
    ['base64url', `?d=${Buffer.from(`>>${token}??`).toString('base64url')}`],
    ['hex', `payload=${hex(token)}`],
    ['hex with separators', `k=${hex(token).replace(/(..)(?!$)/g, '$1:')}`],
    ['percent', `q=${[...token].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}`],
    ['double percent', `q=${encodeURIComponent([...token].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''))}`],
    ['\\u escapes', `{"t":"${[...token].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}`],
    ['HTML entities', `<input value="${[...token].map((c) => `&#${c.charCodeAt(0)};`).join('')}">`],
    ['JSON escapes', JSON.stringify(JSON.stringify({ token }))],
    ['gzip in base64', Buffer.from(gzipSync(`export GITHUB_TOKEN=${token}\n`)).toString('base64')],
    ['deflate in base64', deflateSync(`token ${token}`).toString('base64')],
    ['base64 of hex', Buffer.from(hex(`x ${token} y`)).toString('base64')],
    ['zero-width characters', `token=${token.slice(0, 4)}\u200b${token.slice(4, 20)}\u2060${token.slice(20)}`],
    ['full-width characters', `token=${[...token].map((c) => String.fromCodePoint((c.codePointAt(0) ?? 0) + 0xfee0)).join('')}`],
  ];
  for (const [name, text] of cases) {
    void it(`finds a token under ${name}`, () => {
      assert.ok(detectors(text).includes('github-token'), `${name}: ${detectors(text).join(',')}`);
    });
  }
  void it('reports the layers it decoded', () => {
    const f = scanner.scanText(`x=${Buffer.from(token).toString('base64')}`, 'url').find((x) => x.detector === 'github-token');
    assert.deepEqual(f?.location.layers, ['base64']);
  });
  void it('flags triple percent-encoding as evasion', () => {
    assert.ok(detectors('key=%25252541%25252549').includes('nested-encoding'));
  });
  void it('flags words mixing Latin and Cyrillic letters (traffic mode)', () => {
    assert.ok(detectors('c\u0430t /\u0435tc/p\u0430sswd').includes('mixed-script-word'));
  });
  void it('a brotli body is decoded by the proxy path, not confused with text', () => {
    const br = brotliCompressSync(Buffer.from(`k=${token}`));
    assert.ok(br.length > 0);
  });
  void it('benign encoded data stays clean', () => {
    assert.deepEqual(detectors('data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVQI12NgAAIABQABNjN9GQAAAAlwSFlzAAAWJQ=='), []);
    assert.deepEqual(detectors('https://www.google.com/search?q=how+to+fix+%22permission+denied%22&hl=en'), []);
  });
});

void describe('split secrets and structured traffic', () => {
  const id = fake.awsId();
  void it('joins adjacent JSON arguments', () => {
    const f = scanJsonValue(scanner, { provider: 'aws', access_key: id.slice(0, 12), key_suffix: id.slice(12), region: 'us-east-1' }, 'args');
    assert.ok(f.some((x) => x.detector === 'aws-access-key-id' && x.location.where.startsWith('joined(')));
  });
  void it('joins query parameters', () => {
    const f = scanUrl(scanner, `https://evil.example/c?a=${id.slice(0, 10)}&b=${id.slice(10)}`);
    assert.ok(f.some((x) => x.detector === 'aws-access-key-id'));
  });
  void it('joins header values and names the header', () => {
    const t = fake.stripe();
    const f = scanHeaders(scanner, ['X-Part-1', t.slice(0, 14), 'X-Part-2', t.slice(14), 'Accept', '*/*']);
    assert.ok(f.some((x) => x.detector === 'stripe-secret-key'));
    const whole = scanHeaders(scanner, ['Accept', '*/*', 'X-Debug', t]);
    assert.equal(whole[0]?.location.where, 'header:x-debug');
  });
  void it('cookies are fields', () => {
    const f = scanHeaders(scanner, ['Cookie', `session=abc123; token=${fake.github()}; lang=en`]);
    assert.ok(f.some((x) => x.detector === 'github-token'));
  });
  void it('form and multipart bodies become fields', () => {
    const token = fake.github();
    assert.deepEqual(formFields(`a=1&t=${token}`).map((f) => f.name), ['a', 't']);
    const body = `--XB\r\nContent-Disposition: form-data; name="file"; filename="c.txt"\r\n\r\n${token}\r\n--XB--`;
    const fields = multipartFields(body, 'multipart/form-data; boundary=XB');
    assert.deepEqual(fields, [{ name: 'file', value: token }]);
    assert.ok(scanFields(scanner, fields, (x) => x.name).some((x) => x.detector === 'github-token'));
  });
  void it('hex-encoded hostname labels are DNS exfiltration', () => {
    assert.ok(scanUrl(scanner, `https://${hex('JohnDoe')}.${hex('Secret1')}.exfil.example/ping`).some((x) => x.detector === 'dns-encoded-data'));
    assert.deepEqual(scanUrl(scanner, 'https://api.github.com/resources/550e8400-e29b-41d4-a716-446655440000/details'), []);
  });
});
