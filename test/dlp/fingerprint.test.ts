import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { encodedForms, FingerprintMatcher, KnownSecretSet } from '../../src/dlp/fingerprint.js';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { rand } from './helpers.js';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32(buf: Buffer): string {
  let bits = 0;
  let v = 0;
  let out = '';
  for (const b of buf) {
    v = (v << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += B32.charAt((v >>> (bits - 5)) & 31);
      bits -= 5;
    }
    v &= (1 << bits) - 1;
  }
  return out;
}

void describe('known secrets: keyed fingerprints', () => {
  const secret = `cordon-test-secret-${rand(24)}`;
  const set = new KnownSecretSet().add('MY_SERVICE_TOKEN', secret);
  const matcher = set.matcher();
  const raw = Buffer.from(secret);
  const encodings: [string, string][] = [
    ['raw', `body=${secret}&x=1`],
    ['16-character slice', `partial ${secret.slice(5, 21)} only`],
    ['base64 aligned 0', Buffer.from(secret).toString('base64')],
    ['base64 aligned 1', Buffer.from(`a${secret}`).toString('base64')],
    ['base64 aligned 2', Buffer.from(`ab${secret}`).toString('base64')],
    ['base64url aligned 1', Buffer.from(`?${secret}`).toString('base64url')],
    ['hex', raw.toString('hex')],
    ['HEX', raw.toString('hex').toUpperCase()],
    ['percent', raw.toString('hex').replace(/(..)/g, '%$1')],
    ['\\u escapes', [...secret].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')],
    ['base32', base32(raw)],
    ['base32 shifted', base32(Buffer.concat([Buffer.from('abc'), raw]))],
    ['utf16le', Buffer.from(secret, 'utf16le').toString('latin1')],
  ];
  for (const [name, text] of encodings) {
    void it(`finds the secret as ${name}`, () => {
      const hits = matcher.find(Buffer.from(text, 'latin1'));
      assert.ok(hits.length > 0, name);
      assert.equal(hits[0]?.label, 'MY_SERVICE_TOKEN');
    });
  }
  void it('the matcher the proxy holds contains no secret value, in any encoding or slice', () => {
    const shipped = JSON.stringify(matcher);
    const again = FingerprintMatcher.fromJSON(JSON.parse(shipped) as never);
    const views = [shipped, inspect(matcher, { showHidden: true, depth: 10 }), inspect(again, { showHidden: true, depth: 10 })];
    for (const view of views) {
      for (const f of encodedForms(secret)) {
        const s = f.bytes.toString('latin1');
        for (let i = 0; i + 16 <= s.length; i += 4) assert.ok(!view.includes(s.slice(i, i + 16)), `${f.encoding} slice leaked`);
      }
    }
    assert.ok(again.find(Buffer.from(`x ${secret}`)).length > 0, 'the rebuilt matcher still matches');
  });
  void it('a different session key gives unrelated fingerprints', () => {
    const a = Object.keys(set.matcher().toJSON().fingerprints);
    const b = new Set(Object.keys(set.matcher().toJSON().fingerprints));
    assert.ok(a.every((k) => !b.has(k)));
  });
  void it('refuses secrets shorter than the window', () => {
    assert.throws(() => new KnownSecretSet().add('SHORT', 'abc'), RangeError);
  });
  void it('other text does not match', () => {
    assert.deepEqual(matcher.find(Buffer.from(`cordon-other-value-${rand(24)} and ${rand(200)}`)), []);
  });
  void it('a large body takes the WebAssembly rolling pass and gets the hits of the JavaScript loop (forms planted across its 64 KiB chunks and their halves)', () => {
    const other = new KnownSecretSet().add('OTHER_KEY', `other-known-${rand(30)}`).add('MY_SERVICE_TOKEN', secret).matcher();
    const forms = [...encodedForms(secret).map((f) => f.bytes), Buffer.from(`other-known-`)];
    const size = 5 * 65536 + 777;
    const body = Buffer.from(rand(size).slice(0, size), 'latin1');
    // Around chunk starts, halves and ends, and at the very start and end.
    const spots = [0, 100, 32768 - 20, 65536 - 30, 65536 + 32768 - 7, 2 * 65536 - 16, 3 * 65536 - 40, 4 * 65536 + 5, size - 70];
    spots.forEach((at, i) => {
      const f = forms[i % forms.length]!;
      f.copy(body, Math.min(at, size - f.length));
    });
    for (const m of [matcher, other]) {
      const wasm = m.find(body);
      const js = m.find(body, { wasm: false });
      assert.deepEqual(wasm, js);
      assert.ok(js.length >= spots.length - 1, `found ${js.length}`);
    }
    assert.deepEqual(matcher.find(Buffer.from(rand(200_000), 'latin1')), []);
  });
  void it('the scanner reports known secrets as findings, also under a decoding layer', () => {
    const scanner = new DlpScanner({ known: matcher });
    const f = scanner.scanText(`upload=${encodeURIComponent(Buffer.from(secret).toString('base64'))}`, 'url');
    assert.ok(f.some((x) => x.detector === 'known-secret'));
    assert.ok(f.every((x) => !x.sample.includes(secret.slice(4, 12))));
  });
});
