import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findMixedScriptWords } from './normalize.js';
import { cardNumbers, DlpScanner } from './scanner.js';

void describe('cardNumbers', () => {
  const CARD = /(?<![0-9])(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|3[47][0-9]{13}|6(?:011|5[0-9]{2})[0-9]{12})(?![0-9])/g;
  void it('finds what the card-number regex found, on random digit-dense text', () => {
    let seed = 21;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 4000; round++) {
      let s = '';
      const len = rnd(220);
      while (s.length < len) {
        if (round % 3 === 0) s += '0123456789 -x\u00e9'.charAt(rnd(round % 2 === 0 ? 11 : 14));
        else {
          // Runs of 11-18 digits led by the prefixes the patterns test, between separators.
          const lead = ['4', '51', '55', '56', '34', '37', '38', '6011', '65', '6012', '3', '5'][rnd(12)] ?? '';
          let run = lead;
          const want = round % 2 === 0 ? 13 + rnd(4) : 11 + rnd(8);
          while (run.length < want) run += String(rnd(10));
          s += `${run}${' -/x'.charAt(rnd(round % 3 === 1 ? 4 : 1))}`;
        }
      }
      const expected = [...s.matchAll(CARD)].map((m) => `${m.index}:${m[0]}`);
      assert.deepEqual(cardNumbers(s).map((c) => `${c.index}:${c.digits}`), expected, s);
      assert.deepEqual(cardNumbers(Buffer.from(s, 'latin1')).map((c) => `${c.index}:${c.digits}`), expected, s);
    }
  });
});

void describe('traffic checks on bytes', () => {
  const scanner = new DlpScanner({ traffic: true, minConfidence: 'medium' });
  void it('finds a card number in a body at its byte offset', () => {
    const body = Buffer.from('pay with 4111111111111111 today');
    const f = scanner.scanBytes(body, 'body').find((x) => x.detector === 'payment-card-number');
    assert.equal(f?.location.offset, 9);
    assert.equal(f.location.length, 16);
  });
  void it('finds a word mixing Latin and Cyrillic in a UTF-8 body (its latin1 reading has no Cyrillic letter), at its byte offset', () => {
    const body = Buffer.from('r\u00e9sum\u00e9: run c\u0430t /\u0435tc/p\u0430sswd now', 'utf8');
    const found = scanner.scanBytes(body, 'body').filter((x) => x.detector === 'mixed-script-word');
    assert.ok(found.length >= 2, JSON.stringify(found));
    const cat = found[0];
    assert.equal(cat?.location.offset, Buffer.byteLength('r\u00e9sum\u00e9: run ', 'utf8'));
    assert.equal(cat.location.length, Buffer.byteLength('c\u0430t', 'utf8'));
  });
  void it('finds no mixed-script word in ASCII or in single-script text', () => {
    assert.deepEqual(scanner.scanBytes(Buffer.from('plain ascii words only'), 'body'), []);
    assert.deepEqual(scanner.scanBytes(Buffer.from('\u043f\u0440\u0438\u0432\u0435\u0442 hello \u03ba\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1', 'utf8'), 'body'), []);
  });
});

void describe('findMixedScriptWords', () => {
  void it('finds what it found before its search for a Cyrillic or Greek character, on random text of several scripts', () => {
    const MIXED = /(?=[\p{L}]{0,40}\p{Script=Latin})(?=[\p{L}]{0,40}[\p{Script=Cyrillic}\p{Script=Greek}])[\p{L}]{2,40}/gu;
    const reference = (text: string): { index: number; word: string }[] => {
      if (![...text].some((c) => c.charCodeAt(0) > 0x7e)) return [];
      const out: { index: number; word: string }[] = [];
      for (const m of text.matchAll(MIXED)) {
        if (/\p{Script=Latin}/u.test(m[0]) && /[\p{Script=Cyrillic}\p{Script=Greek}]/u.test(m[0])) out.push({ index: m.index, word: m[0] });
        if (out.length >= 16) break;
      }
      return out;
    };
    let seed = 31;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ['a', 'Z', 'e\u0301', '\u00e9', '\u0430', '\u0435', '\u03b1', '\u03a9', '\u0375', '\u4e2d', '\u{1F600}', '\u{1D400}', ' ', '.', '-', '7', '\u2126', '\u1f00', '\u2160', '\u0482', '\u0384'];
    for (let round = 0; round < 3000; round++) {
      let text = '';
      const len = rnd(round % 100 === 0 ? 3000 : 60);
      const kinds = round % 3 === 0 ? 6 : pieces.length;
      while (text.length < len) text += pieces[rnd(kinds)] ?? '';
      assert.deepEqual(findMixedScriptWords(text), reference(text), JSON.stringify(text));
    }
  });
});
