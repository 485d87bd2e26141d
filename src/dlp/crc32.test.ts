import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base62, crc32, makeChecksummedToken, prefixedTokenChecksumOk } from './crc32.js';

void describe('CRC32 token checksums', () => {
  void it('crc32 agrees with the zlib check value', () => {
    assert.equal(crc32('123456789'), 0xcbf43926);
  });
  void it('base62 pads to the width', () => {
    assert.equal(base62(0, 6), '000000');
    assert.equal(base62(61, 2), '0z');
  });
  void it('a made token verifies; a changed character does not', () => {
    const t = makeChecksummedToken('ghp', 'EXAMPLEexample0123456789EXAMPL');
    assert.ok(prefixedTokenChecksumOk(t));
    assert.ok(!prefixedTokenChecksumOk(t.replace('EXAMPLE', 'EXAMPLF')));
    assert.ok(!prefixedTokenChecksumOk('ghp_short'));
  });
});
