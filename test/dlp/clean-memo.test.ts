/**
 * The scanner remembers short texts that scanned clean (DlpScanner.#clean): a
 * repeat must give exactly what a fresh scanner gives, a text with a secret
 * is found every time (never remembered), and the memory stays bounded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { fake, rand } from './helpers.js';

void describe('DLP scanner: clean texts remembered', () => {
  void it('repeats give the same findings as a fresh scanner, for clean texts and texts with secrets alike', () => {
    const memo = new DlpScanner({ traffic: true });
    const texts = [
      'GET http://127.0.0.1:8080/small',
      'host: 127.0.0.1:8080\nuser-agent: bench/1.0\naccept: */*\n',
      `authorization: Bearer ${fake.github()}\n`,
      `https://api.example.com/v1?key=${fake.github()}`,
      rand(3000, 'abcdefghij0123456789+/'),
      `x-data: ${Buffer.from(`token=${fake.github()}`).toString('base64')}\n`,
      '',
    ];
    for (let round = 0; round < 3; round++) {
      for (const t of texts) {
        const fresh = new DlpScanner({ traffic: true }).scanText(t, 'w');
        assert.deepEqual(memo.scanText(t, 'w'), fresh, `round ${round}: ${t.slice(0, 60)}`);
      }
    }
    assert.ok(memo.scanText(texts[2] ?? '', 'w').length > 0, 'a secret is found on every repeat');
  });

  void it('the location of a repeat is its own call\'s', () => {
    const memo = new DlpScanner();
    const t = `token=${fake.github()}`;
    assert.equal(memo.scanText(t, 'first')[0]?.location.where, 'first');
    assert.equal(memo.scanText(t, 'second')[0]?.location.where, 'second');
  });

  void it('keeps answering correctly past its bound (5000 distinct clean texts: emptied and refilled)', () => {
    const memo = new DlpScanner();
    for (let i = 0; i < 5000; i++) assert.deepEqual(memo.scanText(`GET /item/${i}`, 'url'), []);
    const t = `key ${fake.github()}`;
    assert.ok(memo.scanText(t, 'w').length > 0);
  });
});
