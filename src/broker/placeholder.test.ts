import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { looksLikeCredential } from '../sandbox/env.js';
import { isPlaceholder, knownPrefix, makePlaceholder } from './placeholder.js';

const key = randomBytes(32);
const REAL: Record<string, string> = {
  anthropic: `sk-ant-api03-${'aB3_-x9Zq'.repeat(10)}AbcAA`,
  github: 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
  finegrained: 'github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghij',
  aws: 'AKIAIOSFODNN7EXAMPLE',
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  slack: 'xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
  openai: 'sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90Uv12Wx34',
};

void describe('placeholders', () => {
  for (const [what, real] of Object.entries(REAL)) {
    void it(`${what}: same prefix, length and alphabet; random per session; marked; not the real value`, () => {
      const p = makePlaceholder(real, key);
      assert.notEqual(p, real);
      assert.equal(p.length, real.length);
      assert.equal(knownPrefix(p), knownPrefix(real));
      const allowed = new Set(real.slice(knownPrefix(real).length).replace(/[0-9]/g, '0123456789').replace(/[a-z]/g, 'abcdefghijklmnopqrstuvwxyz').replace(/[A-Z]/g, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'));
      for (const ch of p.slice(knownPrefix(p).length)) assert.ok(allowed.has(ch), `${ch} in ${p}`);
      assert.equal([...p].filter((c) => c === '-').length, [...real].filter((c) => c === '-').length, 'separators kept');
      assert.ok(isPlaceholder(p, key), 'carries the session mark');
      assert.equal(isPlaceholder(p, randomBytes(32)), false, 'another session key does not recognise it');
      assert.notEqual(makePlaceholder(real, key), p, 'random each time');
      assert.equal(looksLikeCredential(p), looksLikeCredential(real), 'looks like a credential exactly when the real one does');
    });
  }
  void it('the real value is not recognised as a placeholder', () => {
    for (const real of Object.values(REAL)) assert.equal(isPlaceholder(real, key), false);
  });
  void it('AWS key ids keep the AKIA + 16 upper-case/digit shape', () => {
    assert.match(makePlaceholder(REAL.aws ?? '', key), /^AKIA[A-Z0-9]{16}$/);
  });
});
