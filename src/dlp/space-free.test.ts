import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_DETECTORS } from './engine.js';
import { cannotMatchSpace } from './space-free.js';

void describe('cannotMatchSpace', () => {
  void it('vouches for patterns of token characters only', () => {
    for (const p of ['ghp_[A-Za-z0-9]{30,251}(?![A-Za-z0-9])', 'AKIA[A-Z2-7]{16}', 'eyJ[A-Za-z0-9_-]{8,2000}\\.[A-Za-z0-9_-]{8}', 'sv=20\\d\\d[^\\s"\']{0,40}', '(?<secret>[0-9a-fA-F]{64})', '[A-Za-z0-9+.:-]{1,24}://']) {
      assert.equal(cannotMatchSpace(p), true, p);
    }
  });
  void it('refuses anything that could match whitespace', () => {
    for (const p of ['a\\s{0,4}b', 'a b', 'a.b', '[^"]{1,9}', '[\\s\\S]{0,9}', '\\W', '\\D', '\\x20', '\\u0020', '\\t', '\\p{Zs}', '[\\b]', '[a\\sb]', 'a\\nb']) {
      assert.equal(cannotMatchSpace(p), false, p);
    }
  });
  void it('every space-free detector pattern really matches no whitespace character', () => {
    // Each pattern is tried at every whitespace character placed right after the keyword's first character: it must
    // never be part of a match (a window cut there loses nothing).
    for (const d of ALL_DETECTORS.filter((x) => cannotMatchSpace(x.pattern))) {
      const re = new RegExp(d.pattern, d.flags ?? '');
      for (const sp of [' ', '\t', '\n', '\r', '\v', '\f']) {
        const m = re.exec(`${d.keywords[0] ?? ''}${sp}x`);
        assert.ok(m === null || !m[0].includes(sp), `${d.id} matched ${JSON.stringify(sp)}`);
      }
    }
  });
});
