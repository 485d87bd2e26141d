import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tokenRuns } from './scanner.js';

void describe('tokenRuns', () => {
  void it('finds what /[A-Za-z0-9+/_=-]{32,200}/g finds, on random text of token characters, separators and non-ASCII', () => {
    let seed = 11;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = 'aZ09+/_=-';
    for (let round = 0; round < 200; round++) {
      let text = '';
      const len = rnd(1200);
      for (let i = 0; i < len; i++) {
        const r = rnd(100);
        text += r < 94 ? alphabet.charAt(rnd(alphabet.length)) : r < 98 ? ' ' : r < 99 ? '\u00e9' : '"';
      }
      assert.deepEqual(tokenRuns(text), [...text.matchAll(/[A-Za-z0-9+/_=-]{32,200}/g)].map((m) => m[0]), `round ${round}`);
    }
  });
});
