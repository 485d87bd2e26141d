/** parseAuthority and hostFromUrl (src/egress/hostname.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CordonError } from '../errors.js';
import { formatAuthority, hostFromUrl, parseAuthority } from './hostname.js';

function rejects(fn: () => unknown, pattern: RegExp): string {
  let message = '';
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CordonError, `expected CordonError, got ${String(e)}`);
    assert.equal(e.code, 'CORDON_HOST_INVALID');
    assert.match(e.message, pattern);
    message = e.message;
    return true;
  });
  return message;
}

/** [authority, defaultPort, `host:port` as formatted by formatAuthority]. */
const AUTHORITIES: readonly (readonly [string, number | undefined, string])[] = [
  ['example.com:443', undefined, 'example.com:443'],
  ['example.com:80', undefined, 'example.com:80'],
  ['example.com:80', 443, 'example.com:80'],
  ['example.com:443', 80, 'example.com:443'],
  ['EXAMPLE.com.:8080', undefined, 'example.com:8080'],
  ['example.com:0080', undefined, 'example.com:80'],
  ['example.com:65535', undefined, 'example.com:65535'],
  ['example.com', 443, 'example.com:443'],
  ['[::1]:8443', undefined, '[::1]:8443'],
  ['[::1]', 443, '[::1]:443'],
  ['[::ffff:127.0.0.1]:80', undefined, '[::ffff:7f00:1]:80'],
  ['0x7f.1:22', undefined, '127.0.0.1:22'],
  ['2130706433:443', undefined, '127.0.0.1:443'],
  ['bücher.example:443', undefined, 'xn--bcher-kva.example:443'],
];

const BAD_AUTHORITIES: readonly (readonly [string, number | undefined, RegExp])[] = [
  ['', 443, /empty/],
  ['example.com', undefined, /has no port/],
  ['example.com:', 443, /empty port/],
  ['example.com:0', undefined, /port 0/],
  ['example.com:65536', undefined, /not a valid host:port/],
  ['example.com:-1', undefined, /not a valid host:port/],
  ['example.com:8o', undefined, /not a valid host:port/],
  ['example.com:+443', undefined, /not a valid host:port/],
  ['example.com:443/path', undefined, /a path/],
  ['example.com:443?x', undefined, /a query/],
  ['::1:443', undefined, /IPv6 needs brackets/],
  [':443', undefined, /not a valid host:port/],
  ['%65xample.com:443', undefined, /percent-encoding/],
  ['exa\tmple.com:443', undefined, /control character/],
  ['example.com:443 ', undefined, /whitespace/],
  ['evil\x00.allowed.com:443', undefined, /control character/],
  ['[fe80::1%25eth0]:443', undefined, /zone ids/],
  ['256.1.1.1:443', undefined, /not a valid host:port/],
  ['a..b:443', undefined, /empty label/],
];

void describe('parseAuthority', () => {
  for (const [authority, defaultPort, expected] of AUTHORITIES) {
    void it(`parses ${JSON.stringify(authority)} (default ${String(defaultPort)})`, () => {
      const { host, port } = parseAuthority(authority, defaultPort);
      assert.equal(formatAuthority(host, port), expected);
      assert.deepEqual(parseAuthority(expected), { host, port }, 'formatted form parses back to itself');
    });
  }
  for (const [authority, defaultPort, pattern] of BAD_AUTHORITIES) {
    void it(`rejects ${JSON.stringify(authority)}`, () => {
      rejects(() => parseAuthority(authority, defaultPort), pattern);
    });
  }
  void it('rejects userinfo without echoing the credentials', () => {
    const message = rejects(() => parseAuthority('user:hunter2@example.com:443'), /userinfo/);
    assert.doesNotMatch(message, /hunter2/);
  });
  void it('rejects a default port that is not a port', () => {
    assert.throws(() => parseAuthority('example.com', 0), RangeError);
    assert.throws(() => parseAuthority('example.com', 70000), RangeError);
  });
});

/** [url, `scheme host:port`]. */
const URLS: readonly (readonly [string, string])[] = [
  ['https://example.com/x', 'https example.com:443'],
  ['http://example.com', 'http example.com:80'],
  ['ws://example.com/socket', 'ws example.com:80'],
  ['wss://example.com/socket', 'wss example.com:443'],
  ['HTTPS://EXAMPLE.COM:8443/', 'https example.com:8443'],
  ['https://example.com:443/', 'https example.com:443'],
  ['http://example.com:443/', 'http example.com:443'],
  ['http://[::1]:8080/', 'http [::1]:8080'],
  ['http://0x7f.1/', 'http 127.0.0.1:80'],
  ['http://[::ffff:169.254.169.254]/latest', 'http [::ffff:a9fe:a9fe]:80'],
  ['https://bücher.example/?q=1#f', 'https xn--bcher-kva.example:443'],
  ['https://allowed.com./', 'https allowed.com:443'],
  ['http://example.com\\@evil.com/', 'http example.com:80'],
];

const BAD_URLS: readonly (readonly [string, RegExp])[] = [
  ['http://@example.com/', /userinfo/],
  ['http://allowed.com@evil.com/', /credentials/],
  ['http://%31%32%37.0.0.1/', /percent-encoding/],
  ['http://allowed.com%2eevil.com/', /percent-encoding/],
  ['ftp://example.com/', /scheme "ftp" is not supported/],
  ['file:///etc/passwd', /scheme "file" is not supported/],
  ['javascript:alert(1)', /not supported/],
  ['constructor://example.com/', /scheme "constructor" is not supported/],
  ['http:example.com', /must start with "http:\/\/"/],
  ['http:/example.com', /must start with/],
  ['http:\\\\example.com', /must start with/],
  [' http://example.com', /whitespace/],
  ['http://exa\tmple.com/', /control character/],
  ['http://evil\x00.allowed.com/', /control character/],
  ['http://ex\u200bample.com/', /invisible/],
  ['http://example.com/a b', /whitespace/],
  ['not a url', /whitespace/],
  ['example.com', /Not a valid absolute URL/],
  ['http://example.com:0/', /port 0/],
  ['http://example.com:65536/', /Not a valid absolute URL/],
  ['http://[fe80::1%25eth0]/', /Not a valid absolute URL|zone ids/],
  ['http://256.1.1.1/', /Not a valid absolute URL/],
  ['http:///example.com', /not a valid host:port|empty/],
];

void describe('hostFromUrl', () => {
  for (const [url, expected] of URLS) {
    void it(`reads ${JSON.stringify(url)}`, () => {
      const { host, port, scheme } = hostFromUrl(url);
      assert.equal(`${scheme} ${formatAuthority(host, port)}`, expected);
    });
  }
  for (const [url, pattern] of BAD_URLS) {
    void it(`rejects ${JSON.stringify(url)}`, () => {
      rejects(() => hostFromUrl(url), pattern);
    });
  }
  void it('rejects credentials without echoing them', () => {
    const message = rejects(() => hostFromUrl('https://user:hunter2@example.com/'), /credentials/);
    assert.doesNotMatch(message, /hunter2/);
  });
  void it('bounds the URL length', () => {
    rejects(() => hostFromUrl(`https://example.com/${'a'.repeat(20_000)}`), /longer than/);
  });
});

void describe('hostFromUrl memo', () => {
  void it('gives the same frozen result for a repeated URL and never keeps a refusal', () => {
    const a = hostFromUrl('http://Example.COM:8080/a/../b?q=1');
    const b = hostFromUrl('http://Example.COM:8080/a/../b?q=1');
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
    assert.deepEqual({ ...a, host: { ...a.host } }, { host: { name: 'example.com', type: 'dns' }, port: 8080, scheme: 'http', path: '/b?q=1' });
    for (let i = 0; i < 2; i += 1) assert.throws(() => hostFromUrl('http://user:pw@example.com/'), /credentials/);
  });
});
