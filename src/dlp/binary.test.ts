import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAX_MAC_ITERATIONS, p12MacVerifies, scanBinary } from './binary.js';

const FIX = fileURLToPath(new URL('../../../shared/benchmarks/secretlint-fixtures/gcp/', import.meta.url));
const have = existsSync(FIX);
const skip = have ? false : 'secretlint fixtures not present beside the repository (../shared/benchmarks)';

void describe('PKCS#12 with the Google Cloud default password', () => {
  void it('finds .p12 key stores protected by notasecret (SHA-1/256/384/512 MACs)', { skip }, () => {
    for (const c of ['ng.privatekey-p12', 'ng.privatekey-p12-sha256-mac', 'ng.privatekey-p12-sha384-mac', 'ng.privatekey-p12-sha512-mac']) {
      assert.equal(scanBinary(readFileSync(`${FIX}${c}/input.p12`))[0]?.detector, 'gcp-p12-private-key', c);
    }
  });
  void it('ignores other passwords, broken files and excessive iteration counts', { skip }, () => {
    for (const c of ['ok.secure-privatekey-p12', 'ok.invalid-p12-empty', 'ok.invalid-p12-huge-iter', 'ok.invalid-p12-no-mac', 'ok.invalid-p12-random', 'ok.invalid-p12-truncated']) {
      assert.deepEqual(scanBinary(readFileSync(`${FIX}${c}/input.p12`)), [], c);
    }
    assert.ok(MAX_MAC_ITERATIONS < 2_000_000);
  });
  void it('random DER-looking bytes are not a key store', () => {
    assert.equal(p12MacVerifies(Buffer.from([0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03]), 'notasecret'), false);
  });
});
