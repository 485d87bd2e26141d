/**
 * `childLayers` skips its search when a text cannot decode to anything
 * (src/dlp/decode.ts MAY_DECODE). The skip must never lose a layer: on
 * random texts built to sit at the thresholds (15 and 16 base64 characters
 * in a row, 9 and 10 separated hex pairs, the decoders' lead characters),
 * and on real encodings of secrets, it gives exactly what the full search
 * gives; and whole scans still find what they found.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childLayers, childLayersSearched, LayerBudget } from '../../src/dlp/decode.js';
import { DlpScanner } from '../../src/dlp/scanner.js';
import { seededRandom } from '../../src/seeded-random.js';
import { fake } from './helpers.js';

const ALPHABETS = ['abcXYZ019+/_-', 'abc def ', '0123456789abcdef', '0a:1b-2c 3d,4e', '%20%41&amp;\\x41\\u0041', 'héllo wörld ', 'ab=', ':-, '];

function randomText(r: () => number): string {
  let s = '';
  const parts = 1 + Math.floor(r() * 6);
  for (let p = 0; p < parts; p++) {
    const alphabet = ALPHABETS[Math.floor(r() * ALPHABETS.length)] ?? 'a';
    // Lengths around the thresholds: 14-17 (base64 runs), 27-31 (separated hex), and short ones.
    const len = [Math.floor(r() * 6), 14 + Math.floor(r() * 4), 27 + Math.floor(r() * 5)][Math.floor(r() * 3)] ?? 1;
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)] ?? '';
    s += [' ', '', '\n', '.', ''][Math.floor(r() * 5)] ?? '';
  }
  return s;
}

void describe('DLP layers: the may-decode test never loses a layer', () => {
  void it('random texts at the thresholds: the same layers as the full search', () => {
    const r = seededRandom(20261123);
    let skipped = 0;
    for (let i = 0; i < 20_000; i++) {
      const t = randomText(r);
      const fast = childLayers(t, new LayerBudget());
      const full = childLayersSearched(t, new LayerBudget());
      assert.deepEqual(fast, full, JSON.stringify(t));
      if (full.length === 0) skipped++;
    }
    assert.ok(skipped > 1000, `the random texts include many without layers (${skipped})`);
  });

  void it('hex pairs: nine separated pairs decode to nothing either way, ten to a layer either way', () => {
    const nine = Array.from({ length: 10 }, (_, i) => (16 + i).toString(16)).join(':'); // 10 pairs = 9 separators
    const ten = Array.from({ length: 11 }, (_, i) => (16 + i).toString(16)).join(':');
    for (const t of [`x ${nine} y`, `x ${ten} y`, `${'A'.repeat(15)} z`, `${'A'.repeat(16)} z`]) {
      assert.deepEqual(childLayers(t, new LayerBudget()), childLayersSearched(t, new LayerBudget()), t);
    }
  });

  void it('secrets under encodings are still found by whole scans', () => {
    const scanner = new DlpScanner();
    const key = fake.github();
    for (const t of [
      `q=${encodeURIComponent(`token ${key}`).replace(/[a-z]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}`,
      `data: ${Buffer.from(`token=${key}`).toString('base64')}`,
      `hex ${Buffer.from(key).toString('hex').replace(/(..)(?!$)/g, '$1:')}`,
      `esc ${[...key].map((c) => `\\x${c.charCodeAt(0).toString(16)}`).join('')}`,
    ]) {
      assert.ok(scanner.scanText(t, 'w').length > 0, t);
    }
  });
});
