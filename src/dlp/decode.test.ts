import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base64Runs, charCodes, childLayers, entityAt, escapeAt, escapeDecode, evenHexRuns, hexSepRuns, LayerBudget, percentAt, percentDecode, spansAround } from './decode.js';

void describe('text-wide decodings in windows', () => {
  void it('decodes only the surroundings of each sequence, windows merged where they touch', () => {
    const filler = 'x'.repeat(50_000);
    const text = `${filler}\\u0041KIA${filler}a%41b%42${filler}`;
    const layers = childLayers(text, new LayerBudget());
    const escape = layers.find((l) => l.layers[0] === 'escape');
    const percent = layers.find((l) => l.layers[0] === 'percent');
    assert.ok(escape !== undefined && percent !== undefined);
    assert.equal(escape.start, 50_000 - 256);
    assert.equal(escape.end, 50_000 + 6 + 256);
    assert.ok(escape.text.includes('AKIA'));
    assert.ok(percent.end - percent.start < 600, 'two nearby sequences share one window');
    assert.ok(percent.text.includes('aAbB'));
  });
  void it('keeps the number of windows bounded: past the limit, one window runs to the end', () => {
    const text = Array.from({ length: 20 }, () => `%41${'y'.repeat(1000)}`).join('');
    const spans = spansAround(text, '%', /%[0-9A-Fa-f]{2}/y, 5);
    assert.equal(spans.length, 5);
    assert.equal(spans[4]?.end, text.length);
  });
  void it('takes matches left to right without overlap, as a global regex does', () => {
    const text = `${'z'.repeat(600)}\\\\u0041${'z'.repeat(600)}\\q${'z'.repeat(600)}\\n`;
    const spans = spansAround(text, '\\', /\\(?:u[0-9A-Fa-f]{4}|[nrt"/\\])/y, 10);
    assert.deepEqual(spans, [{ start: 600 - 256, end: 602 + 256 }, { start: text.length - 2 - 256, end: text.length }]);
  });
});

void describe('layers of a buffer read as latin1', () => {
  void it('finds the spans and layers of its latin1 string, on random text dense in sequences and runs', () => {
    let seed = 23;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pieces = ['%4', '1', '%2', '\\u{1F600}', '\\u0041', '\\x4', '\\', 'n', '&#x41;', '&amp', ';', '&#1114111;', '&#65', 'a', 'Z', '9', ' ', '=', ':', 'f0', '\u00e9', 'QUtJQUlPU0ZPRE5ON0VYQU1QTEU', '6b65793d', '6b65793d6b65793d6b65 ', '0a:1b:2c:3d:4e:', '5f:6a'];
    for (let round = 0; round < 600; round++) {
      let s = '';
      const len = rnd(round % 10 === 0 ? 4000 : 300);
      while (s.length < len) s += pieces[rnd(round % 2 === 0 ? 23 : pieces.length)] ?? '';
      const buf = Buffer.from(s, 'latin1');
      for (const [lead, seq] of [['%', /%[0-9A-Fa-f]{2}/y], ['\\', /\\(?:u[0-9A-Fa-f]{4}|u\{[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{2}|[nrt"/\\])/y], ['&', /&(?:#\d{1,7}|#x[0-9A-Fa-f]{1,6}|[a-zA-Z]{2,8});/y]] as const) {
        assert.deepEqual(spansAround(buf, lead, seq, 3), spansAround(s, lead, seq, 3), s);
      }
      const view = (ls: ReturnType<typeof childLayers>): string[] => ls.map((l) => `${l.start}-${l.end}:${l.layers.join('>')}:${l.text}`);
      // With few runs allowed per text, the lists found only up to the limit give the layers the whole lists gave.
      const few = { ...new LayerBudget().limits, maxRunsPerText: 1 + (round % 7) };
      assert.deepEqual(view(childLayers(buf, new LayerBudget(few))), view(childLayers(s, new LayerBudget(few))), s);
      // Lists cut at a limit are the first items of the whole lists (what childLayers would have used of them).
      const k = few.maxRunsPerText;
      assert.deepEqual(base64Runs(s, undefined, undefined, k), base64Runs(s).slice(0, k));
      assert.deepEqual(hexSepRuns(s, undefined, undefined, k), hexSepRuns(s).slice(0, k));
      assert.deepEqual(view(childLayers(buf, new LayerBudget())), view(childLayers(s, new LayerBudget())), s);
    }
  });
});

void describe('sequence matchers on bytes', () => {
  void it('end each sequence where the sticky regex ends it, at every position of random dense text', () => {
    let seed = 41;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 16) % n; // the high bits: the low ones of this generator repeat with a short period
    };
    // Pieces of each pattern, the lead first, so that whole and broken sequences of every length occur.
    const cases = [
      [percentAt, /%[0-9A-Fa-f]{2}/y, ['%', '0', 'aF', '9', 'g', ' ']],
      [escapeAt, /\\(?:u[0-9A-Fa-f]{4}|u\{[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{2}|[nrt"/\\])/y, ['\\', 'u', 'u{', 'x', '}', '0', 'aF', '9', 'Bc1', '0a', 'F9', 'g', 'n', '"', 'q', 'u{1F6}', 'u{10FFFF}', 'u{1234567}', 'u{}']],
      [entityAt, /&(?:#\d{1,7}|#x[0-9A-Fa-f]{1,6}|[a-zA-Z]{2,8});/y, ['&', '&#', '&#x', '#', ';', ';', '0', '12', '9', 'aF', 'zZq', 'x', '_', '\u00e9']],
    ] as const;
    for (const [at, re, pieces] of cases) {
      for (let round = 0; round < 8000; round++) {
        let s = '';
        const len = rnd(60);
        while (s.length < len) s += pieces[rnd(pieces.length)] ?? '';
        const b = Buffer.from(s, 'latin1');
        for (let p = 0; p < s.length; p++) {
          if (s.charAt(p) !== pieces[0]) continue;
          re.lastIndex = p;
          assert.equal(at(b, p), re.test(s) ? re.lastIndex : -1, `${JSON.stringify(s)} at ${p}`);
        }
      }
    }
  });
});

void describe('escapeDecode', () => {
  /** The regex replace it replaced, as the reference. */
  const reference = (s: string): string => s.replace(/\\(u[0-9A-Fa-f]{4}|u\{[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{2}|[nrt"/\\])/g, (m, e: string) => {
    switch (e.charAt(0)) {
      case 'u': return e.charAt(1) === '{' ? (codePoint(Number.parseInt(e.slice(2, -1), 16)) ?? m) : String.fromCharCode(Number.parseInt(e.slice(1), 16));
      case 'x': return String.fromCharCode(Number.parseInt(e.slice(1), 16));
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      default: return e;
    }
  });
  const codePoint = (n: number): string | undefined => (Number.isFinite(n) && n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : undefined);
  void it('decodes as the regex did, on random text dense in backslashes, braces and hex digits', () => {
    let seed = 5;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = '\\\\\\uxnrt"/{}0aF9gq10ffff ';
    for (let round = 0; round < 3000; round++) {
      let s = '';
      // Every tenth text long and sparse in escapes (gaps of more than 32 characters are copied as blocks).
      const sparse = round % 10 === 0;
      const len = rnd(sparse ? 400 : 40);
      for (let i = 0; i < len; i++) s += sparse && rnd(20) !== 0 ? 'plain text \u00e9\u4e2d'.charAt(rnd(13)) : alphabet.charAt(rnd(alphabet.length));
      assert.equal(escapeDecode(s), reference(s), JSON.stringify(s));
    }
    for (const s of ['\\u0041KIA', '\\u{1F600}', '\\u{110000}', '\\u{1234567}', '\\x41\\x4', 'a\\\\nb', '\\', 'end\\']) assert.equal(escapeDecode(s), reference(s), s);
  });
});

void describe('percentDecode', () => {
  void it('decodes as the regex replace did, on random text dense in percent signs and hex digits', () => {
    let seed = 37;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const reference = (s: string): string => s.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
    const alphabet = '%%%0aF9g +\u00e9\u4e2d';
    for (let round = 0; round < 3000; round++) {
      let s = '';
      const sparse = round % 10 === 0;
      const len = rnd(sparse ? 400 : 40);
      for (let i = 0; i < len; i++) s += sparse && rnd(20) !== 0 ? 'plain text'.charAt(rnd(10)) : alphabet.charAt(rnd(alphabet.length));
      assert.equal(percentDecode(s), reference(s), JSON.stringify(s));
    }
    for (const s of ['%', '%4', '%41', '%%41', '%41%', 'a%zz%41b', '%E9%4e']) assert.equal(percentDecode(s), reference(s), s);
  });
});

void describe('evenHexRuns', () => {
  void it('finds what the hex-run regex found, on random hex-dense text', () => {
    let seed = 9;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = '0123456789abcdefABCDEF g-';
    for (let round = 0; round < 2000; round++) {
      let s = '';
      const len = rnd(120);
      for (let i = 0; i < len; i++) s += alphabet.charAt(rnd(round % 2 === 0 ? 22 : alphabet.length));
      const expected = [...s.matchAll(/(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){10,}(?![0-9A-Fa-f])/g)].map((m) => `${m.index}:${m[0]}`);
      assert.deepEqual([...evenHexRuns(s)].map((r) => `${r.index}:${r.run}`), expected, s);
    }
  });
});

void describe('base64Runs', () => {
  void it('finds what the base64-run regex found, on random base64-dense text', () => {
    let seed = 13;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = 'aZ09+/_-==  .\u00e9"';
    for (let round = 0; round < 2000; round++) {
      let s = '';
      const len = rnd(160);
      for (let i = 0; i < len; i++) s += alphabet.charAt(rnd(round % 3 === 0 ? 8 : round % 3 === 1 ? 10 : alphabet.length));
      const expected = [...s.matchAll(/(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}/g)].map((m) => `${m.index}:${m[0]}`);
      assert.deepEqual(base64Runs(s).map((r) => `${r.index}:${r.run}`), expected, s);
      // A buffer read as latin1 gives the same runs.
      assert.deepEqual(base64Runs(Buffer.from(s, 'latin1')).map((r) => `${r.index}:${r.run}`), expected, s);
    }
  });
  void it('reads characters beyond latin1 as outside the alphabet (not by their low byte)', () => {
    const s = `${'a'.repeat(10)}\u0141${'b'.repeat(10)} ${'c'.repeat(20)}`;
    assert.deepEqual(base64Runs(s).map((r) => r.index), [22]);
    assert.equal(charCodes('\u0141A')[0], 0x141);
  });
});

void describe('hexSepRuns', () => {
  const HEX_SEP_RUN = /(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}(?:[-: ,][0-9A-Fa-f]{2}){9,}(?![0-9A-Fa-f])/g;
  void it('finds what the separated-hex regex found, on random text dense in hex digits and separators', () => {
    let seed = 17;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const hexChars = '0123456789abcdefABCDEF';
    const seps = '-: ,';
    for (let round = 0; round < 4000; round++) {
      let s = '';
      const kind = round % 4;
      const len = rnd(200);
      while (s.length < len) {
        if (kind === 0) s += `${hexChars.charAt(rnd(22))}${hexChars.charAt(rnd(22))}${rnd(12) === 0 ? 'g' : rnd(15) === 0 ? hexChars.charAt(rnd(22)) : ''}${seps.charAt(rnd(4))}`;
        else if (kind === 1) s += `${hexChars.charAt(rnd(22))}${hexChars.charAt(rnd(22))}${rnd(20) === 0 ? '' : ':'}`;
        else if (kind === 2) s += '0a:1B-ff ,e9xq.\u00e9\u0141'.charAt(rnd(round % 8 < 4 ? 10 : 17));
        else s += rnd(30) === 0 ? `${hexChars.charAt(rnd(22))}${hexChars.charAt(rnd(22))}${hexChars.charAt(rnd(22))}` : `${hexChars.charAt(rnd(22))}${hexChars.charAt(rnd(22))}${seps.charAt(rnd(4))}`;
      }
      const expected = [...s.matchAll(HEX_SEP_RUN)].map((m) => `${m.index}:${m[0]}`);
      assert.deepEqual(hexSepRuns(s).map((r) => `${r.index}:${r.run}`), expected, s);
      if ([...s].every((c) => c.charCodeAt(0) < 256)) assert.deepEqual(hexSepRuns(Buffer.from(s, 'latin1')).map((r) => `${r.index}:${r.run}`), expected, s);
    }
  });
  void it('finds ten pairs, not nine, and steps back from a pair followed by a hex digit', () => {
    const ten = Array.from({ length: 10 }, (_, i) => `a${i}`).join(':');
    assert.deepEqual(hexSepRuns(`x ${ten} y`).map((r) => r.run), [ten]);
    assert.deepEqual(hexSepRuns(ten.slice(3)), []);
    assert.deepEqual(hexSepRuns(`${ten}:bbc`).map((r) => r.run), [ten]);
    assert.deepEqual(hexSepRuns(`${ten}c`), []);
  });
});
