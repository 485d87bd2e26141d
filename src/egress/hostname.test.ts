import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CordonError } from '../errors.js';
import { canonicalizeHost, formatHost, isLoopbackName } from './hostname.js';

/** Asserts a CORDON_HOST_INVALID whose message matches `pattern`; returns the message. */
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

const LABEL_63 = 'a'.repeat(63);
const NAME_253 = [LABEL_63, LABEL_63, LABEL_63, 'b'.repeat(61)].join('.');

/** input -> `type:name`. */
const ACCEPTED: readonly (readonly [string, string])[] = [
  ['allowed.com', 'dns:allowed.com'],
  ['allowed.com.', 'dns:allowed.com'],
  ['ALLOWED.com', 'dns:allowed.com'],
  ['ALLOWED.COM.', 'dns:allowed.com'],
  ['xn--bcher-kva.example', 'dns:xn--bcher-kva.example'],
  ['XN--BCHER-KVA.EXAMPLE', 'dns:xn--bcher-kva.example'],
  ['bücher.example', 'dns:xn--bcher-kva.example'],
  ['BÜCHER.example.', 'dns:xn--bcher-kva.example'],
  ['faß.de', 'dns:xn--fa-hia.de'],
  ['example.com\u3002', 'dns:example.com'],
  ['\ufb03.com', 'dns:ffi.com'],
  ['0x.com', 'dns:0x.com'],
  ['exa_mple.com', 'dns:exa_mple.com'],
  ['-a.com', 'dns:-a.com'],
  ['a.b.c.d.e.f', 'dns:a.b.c.d.e.f'],
  ['localhost', 'dns:localhost'],
  ['localhost.', 'dns:localhost'],
  ['LOCALHOST', 'dns:localhost'],
  ['foo.localhost', 'dns:foo.localhost'],
  [`${LABEL_63}.com`, `dns:${LABEL_63}.com`],
  [NAME_253, `dns:${NAME_253}`],
  [`${NAME_253}.`, `dns:${NAME_253}`],
  ['127.0.0.1', 'ipv4:127.0.0.1'],
  ['127.0.0.1.', 'ipv4:127.0.0.1'],
  ['0x7f.1', 'ipv4:127.0.0.1'],
  ['0177.0.0.1', 'ipv4:127.0.0.1'],
  ['2130706433', 'ipv4:127.0.0.1'],
  ['127.1', 'ipv4:127.0.0.1'],
  ['127.0.1', 'ipv4:127.0.0.1'],
  ['0x7f000001', 'ipv4:127.0.0.1'],
  ['017700000001', 'ipv4:127.0.0.1'],
  ['0X7F.0.0.1', 'ipv4:127.0.0.1'],
  ['\uff11\uff12\uff17.0.0.1', 'ipv4:127.0.0.1'],
  ['0', 'ipv4:0.0.0.0'],
  ['0.0.0.0', 'ipv4:0.0.0.0'],
  ['0x0', 'ipv4:0.0.0.0'],
  ['169.254.169.254', 'ipv4:169.254.169.254'],
  ['0xa9.0xfe.0xa9.0xfe', 'ipv4:169.254.169.254'],
  ['0251.0376.0251.0376', 'ipv4:169.254.169.254'],
  ['2852039166', 'ipv4:169.254.169.254'],
  ['169.254.43518', 'ipv4:169.254.169.254'],
  ['1.2.3.4', 'ipv4:1.2.3.4'],
  ['8.8.8.8', 'ipv4:8.8.8.8'],
  ['010.0.0.1', 'ipv4:8.0.0.1'],
  ['4294967295', 'ipv4:255.255.255.255'],
  ['[::1]', 'ipv6:::1'],
  ['::1', 'ipv6:::1'],
  ['[0:0:0:0:0:0:0:1]', 'ipv6:::1'],
  ['[::]', 'ipv6:::'],
  ['::', 'ipv6:::'],
  ['[::ffff:169.254.169.254]', 'ipv6:::ffff:a9fe:a9fe'],
  ['::FFFF:1.2.3.4', 'ipv6:::ffff:102:304'],
  ['[64:ff9b::a9fe:a9fe]', 'ipv6:64:ff9b::a9fe:a9fe'],
  ['[64:ff9b::169.254.169.254]', 'ipv6:64:ff9b::a9fe:a9fe'],
  ['2002:a9fe:a9fe::1', 'ipv6:2002:a9fe:a9fe::1'],
  ['FE80::1', 'ipv6:fe80::1'],
  ['[2001:DB8:0:0:0:0:0:1]', 'ipv6:2001:db8::1'],
  ['[fd00:0ec2:0000::0254]', 'ipv6:fd00:ec2::254'],
  ['1:0:0:2:0:0:0:3', 'ipv6:1:0:0:2::3'],
];

/** input -> what the message must say. */
const REJECTED: readonly (readonly [string, RegExp])[] = [
  ['', /empty/],
  ['evil\x00.allowed.com', /control character \(U\+0000\) at offset 4/],
  ['allowed.com\x00', /control character/],
  ['evil\r\nallowed.com', /control character \(U\+000D\)/],
  ['exa\tmple.com', /control character \(U\+0009\)/],
  ['exa\x7fmple.com', /control character \(U\+007F\)/],
  ['exa\u0085mple.com', /control character \(U\+0085\)/],
  ['exa mple.com', /whitespace \(U\+0020\)/],
  [' example.com', /whitespace/],
  ['example.com\u00a0', /whitespace \(U\+00A0\)/],
  ['exa\u3000mple.com', /whitespace/],
  ['ex\u200bample.com', /invisible or bidirectional character \(U\+200B\)/],
  ['ex\u00adample.com', /invisible/],
  ['ex\u200dample.com', /invisible/],
  ['ex\u202eample.com', /invisible/],
  ['ex\u2066ample.com', /invisible/],
  ['\ufeffexample.com', /invisible/],
  ['ex\u034fample.com', /invisible/],
  ['ex\ufe0fample.com', /invisible/],
  ['ex\u2028ample.com', /whitespace|invisible/],
  ['user@host', /'@' \(userinfo/],
  ['allowed.com@evil.com', /'@'/],
  ['host/path', /'\/' \(a path/],
  ['host\\path', /'\\'/],
  ['host?q', /'\?'/],
  ['host#f', /'#'/],
  ['%31%32%37.0.0.1', /percent-encoding/],
  ['allowed%2ecom', /percent-encoding/],
  ['fe80::1%eth0', /zone ids are refused/],
  ['[fe80::1%25eth0]', /zone ids are refused/],
  ['a..b', /empty label/],
  ['.example.com', /empty label/],
  ['example.com..', /empty label/],
  ['.', /no labels/],
  ['a\u3002\u3002b', /empty label/],
  [`${'a'.repeat(64)}.com`, /label of 64 octets/],
  [`a${NAME_253}`, /254 octets/],
  ['256.1.1.1', /not a valid hostname or IPv4/],
  ['1.2.3.4.5', /not a valid hostname or IPv4/],
  ['1.2.3.256', /not a valid hostname or IPv4/],
  ['4294967296', /not a valid hostname or IPv4/],
  ['0x100000000', /not a valid hostname or IPv4/],
  ['08.0.0.1', /not a valid hostname or IPv4/],
  ['foo.1', /not a valid hostname or IPv4/],
  ['foo.123', /not a valid hostname or IPv4/],
  ['a.0x', /not a valid hostname or IPv4/],
  ['a.0xyz', /numeric label/],
  ['1.2.3.4:80', /not a valid IPv6/],
  ['example.com:443', /not a valid IPv6.*parseAuthority/],
  ['[::1', /without a closing/],
  ['::1]', /outside a bracketed/],
  ['[example.com]', /not a valid IPv6/],
  ['a[b].com', /outside a bracketed/],
  [':::', /not a valid IPv6/],
  ['1::2::3', /not a valid IPv6/],
  ['::ffff:1.2.3.256', /not a valid IPv6/],
  ['*.example.com', /letters, digits/],
  ['exa!mple.com', /letters, digits/],
  ['a"b.com', /letters, digits/],
  ['<script>', /not a valid hostname/],
  ['xn--a.com', /IDNA conversion failed/],
  ['xn--', /IDNA conversion failed/],
  ['x'.repeat(1025), /longer than 1024/],
];

void describe('canonicalizeHost', () => {
  void it('has a table of at least 80 spellings', () => {
    assert.ok(ACCEPTED.length + REJECTED.length >= 80);
  });
  for (const [input, expected] of ACCEPTED) {
    void it(`accepts ${JSON.stringify(input).slice(0, 60)} as ${expected.slice(0, 60)}`, () => {
      const host = canonicalizeHost(input);
      assert.equal(`${host.type}:${host.name}`, expected);
      assert.deepEqual(canonicalizeHost(formatHost(host)), host, 'canonical form is a fixed point');
      assert.deepEqual(canonicalizeHost(formatHost(host).toUpperCase()), host, 'case does not matter');
    });
  }
  for (const [input, pattern] of REJECTED) {
    void it(`rejects ${JSON.stringify(input).slice(0, 60)}`, () => {
      const message = rejects(() => canonicalizeHost(input), pattern);
      const raw = [...message].filter((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ['\x7f', '\u200b', '\u202e'].includes(ch));
      assert.deepEqual(raw, [], 'messages never echo raw control or bidi characters');
    });
  }
});

void describe('isLoopbackName', () => {
  void it('reports localhost and *.localhost, which stay DNS names', () => {
    assert.equal(isLoopbackName(canonicalizeHost('localhost.')), true);
    assert.equal(isLoopbackName(canonicalizeHost('api.LOCALHOST')), true);
    assert.equal(isLoopbackName(canonicalizeHost('localhost.example.com')), false);
    assert.equal(isLoopbackName(canonicalizeHost('notlocalhost')), false);
    assert.equal(isLoopbackName(canonicalizeHost('127.0.0.1')), false, 'addresses are for classifyAddress');
  });
});
