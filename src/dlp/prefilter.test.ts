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
});
