import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Prefilter } from './prefilter.js';

void describe('Prefilter (Aho-Corasick DFA over bytes)', () => {
  void it('reports every occurrence, overlapping keywords included, with start offsets', () => {
    const p = new Prefilter(['he', 'she', 'his', 'hers']);
    const hits = p.hits(Buffer.from('ushers his'));
    assert.deepEqual(hits.map((h) => [p.keywords[h.keyword], h.start]).sort(), [['he', 2], ['hers', 2], ['his', 7], ['she', 1]].sort());
  });
  void it('is case-sensitive and byte-exact', () => {
    const p = new Prefilter(['AKIA']);
    assert.equal(p.hits(Buffer.from('akia AKIA aKIA')).length, 1);
  });
  void it('matches non-ASCII byte sequences (UTF-8 of invisible characters)', () => {
    const zw = Buffer.from('\u200b').toString('latin1');
    const p = new Prefilter([zw]);
    assert.deepEqual(p.hits(Buffer.from('a\u200bb')).map((h) => h.start), [1]);
  });
  void it('finds nothing in text without keywords', () => {
    assert.deepEqual(new Prefilter(['ghp_', 'xoxb-']).hits(Buffer.from('nothing to see here, gh p_ xox b')), []);
  });
  void it('finds the same hits in long inputs (four interleaved streams) as a plain search, across the quarter boundaries', () => {
    const keywords = ['he', 'she', 'his', 'hers', 'AKIA', 'password', 'x', 'xx'];
    const p = new Prefilter(keywords);
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (const len of [4096, 5000, 65_537]) {
      const parts: string[] = [];
      let n = 0;
      while (n < len) {
        const piece = rnd() < 0.2 ? (keywords[Math.floor(rnd() * keywords.length)] ?? '') : 'abcdefgh rs'.charAt(Math.floor(rnd() * 11));
        parts.push(piece);
        n += piece.length;
      }
      const text = parts.join('').slice(0, len);
      const expected: string[] = [];
      keywords.forEach((k, ki) => {
        for (let i = text.indexOf(k); i >= 0; i = text.indexOf(k, i + 1)) expected.push(`${ki}@${i}`);
      });
      const got = p.hits(Buffer.from(text, 'latin1')).map((h) => `${h.keyword}@${h.start}`);
      assert.deepEqual([...got].sort(), expected.sort(), `length ${len}`);
      const ends = p.hits(Buffer.from(text, 'latin1')).map((h) => h.start + (keywords[h.keyword]?.length ?? 0));
      assert.deepEqual(ends, [...ends].sort((a, b) => a - b), 'hits in order of their end');
    }
  });
});
