import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INJECTION_RULES } from './injection-rules.js';
import { KeywordAutomaton } from './keyword-automaton.js';

/** Every (keyword, start) by indexOf over a lowercase copy: the reference the automaton must equal. */
function naive(keywords: readonly string[], text: string): string[] {
  const lower = text.toLowerCase();
  const out: string[] = [];
  keywords.forEach((k, id) => {
    for (let p = lower.indexOf(k); p !== -1; p = lower.indexOf(k, p + 1)) out.push(`${id}@${p}`);
  });
  return out.sort();
}

function found(a: KeywordAutomaton, text: string): { hits: string[]; trigger: boolean } {
  const hits: number[] = [];
  const trigger = a.scan(text, hits);
  const out: string[] = [];
  for (let j = 0; j < hits.length; j += 2) out.push(`${hits[j]}@${hits[j + 1]}`);
  return { hits: out.sort(), trigger };
}

const KEYWORDS = ['ignore', 'ign', 'user', 'use', 'ser', '<important', '.ssh', 'a', 'cc ', 'key'];

void describe('KeywordAutomaton', () => {
  const a = new KeywordAutomaton(KEYWORDS, [[0x200b, 0x200c], [0xe0000, 0xe007f]]);

  void it('finds every occurrence, overlapping ones and any ASCII case included', () => {
    const text = 'IGNORE the User; a user uses <IMPORTANT> ~/.SSH, cc me. Ignoreignore';
    assert.deepEqual(found(a, text).hits, naive(KEYWORDS, text));
    assert.equal(found(a, text).trigger, false);
  });

  void it('folds the Kelvin sign to k as toLowerCase does, at the same offsets', () => {
    assert.deepEqual(found(a, 'the \u212AEY').hits, ['9@4']);
  });

  void it('reports trigger characters, BMP and astral', () => {
    assert.equal(found(a, 'zero\u200Bwidth').trigger, true);
    assert.equal(found(a, 'tag \u{E0041}').trigger, true);
    assert.equal(found(a, 'emoji \u{1F600} and \u00E9').trigger, false);
  });

  void it('gives the same hits on long texts (four interleaved streams) as the reference', () => {
    let seed = 1;
    const pick = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 1000;
    const parts: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const r = pick();
      parts.push(r < 30 ? (KEYWORDS[r % KEYWORDS.length] ?? '').toUpperCase() : r < 60 ? (KEYWORDS[r % KEYWORDS.length] ?? '') : String.fromCharCode(32 + (r % 90)));
    }
    const text = parts.join('');
    assert.ok(text.length > 4096);
    assert.deepEqual(found(a, text).hits, naive(KEYWORDS, text));
    // A code unit above 0xFF (a two-byte string): the same hits.
    const wide = `\u2019${text}`;
    assert.deepEqual(found(a, wide).hits, naive(KEYWORDS, wide));
    assert.equal(found(a, wide).trigger, false);
    assert.equal(found(a, `${text}\u200C`).trigger, true);
  });

  void it('clears with mayHit only texts that hold no keyword and no trigger (random short texts, the real rules)', () => {
    const words = [...new Set(INJECTION_RULES.flatMap((r) => (r.kind === 'pattern' ? r.keywords : [])))];
    const ranges = INJECTION_RULES.flatMap((r) => (r.kind === 'chars' ? r.ranges : []));
    const real = new KeywordAutomaton(words, ranges);
    const two = new KeywordAutomaton(['ab', 'xyz'], []);
    let seed = 7;
    const pick = (n: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?<>/[]{}()$=|-_~\'"\n';
    let cleared = 0;
    let hitting = 0;
    for (let i = 0; i < 30_000; i++) {
      const n = 1 + pick(40);
      let text = '';
      for (let j = 0; j < n; j++) {
        const r = pick(100);
        // Now and then a keyword (in a random case) or a code unit past ASCII.
        if (r < 3) {
          const k = words[pick(words.length)] ?? '';
          text += r === 0 ? k.toUpperCase() : k;
        } else if (r === 3) text += String.fromCharCode(0x80 + pick(0x3000));
        else text += alphabet[pick(alphabet.length)];
      }
      for (const [auto, kws] of [[real, words], [two, ['ab', 'xyz']]] as const) {
        if (auto.mayHit(text)) continue;
        cleared++;
        assert.deepEqual(naive(kws, text), [], `mayHit cleared ${JSON.stringify(text)}, which holds a keyword`);
        assert.equal(found(auto, text).trigger, false, `mayHit cleared ${JSON.stringify(text)}, which holds a trigger`);
      }
      if (naive(words, text).length > 0) hitting++;
    }
    // Both outcomes were exercised.
    assert.ok(cleared > 5000 && hitting > 5000, `cleared ${cleared}, hitting ${hitting}`);
    assert.equal(real.mayHit('Echo: hello 42'), false);
    assert.equal(real.mayHit('please IGNORE that'), true);
    assert.equal(real.mayHit('caf\u00e9'), true);
    assert.equal(new KeywordAutomaton(['a', 'bcd']).mayHit('zzz'), true, 'a one-character keyword: no filtering');
  });

  void it('refuses keywords it cannot fold', () => {
    assert.throws(() => new KeywordAutomaton(['Upper']), /lowercase printable ASCII/);
    assert.throws(() => new KeywordAutomaton(['caf\u00e9']), /lowercase printable ASCII/);
  });
});
