import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base64Runs, hexSepRuns } from './decode.js';
import { nextRunStart, runStarts, runStartsAvailable } from './run-starts.js';
import { cardNumbers } from './scanner.js';

let seed = 29;
const rnd = (n: number): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};

/** Random latin1 text of runs of base64 characters, digits and breaks, of lengths around 13 and 16. */
function dense(len: number): Buffer {
  const alphabets = ['aZ09+/_-', '0123456789', 'AZaz', '=', ' .\u00e9\u00ff"\u0080@[`{:', '\u00c1\u00da\u00fa', '0a:1b-2c 3d,4e:5f', 'AbCdEf09 ', 'gG'];
  const out: number[] = [];
  while (out.length < len) {
    const a = alphabets[rnd(alphabets.length)] ?? '';
    const run = rnd(4) === 0 ? 1 + rnd(40) : 11 + rnd(8);
    for (let i = 0; i < run; i++) out.push(a.charCodeAt(rnd(a.length)));
  }
  return Buffer.from(out.slice(0, len));
}

void describe('runStarts', () => {
  if (!runStartsAvailable()) {
    void it('is unavailable here (no WebAssembly SIMD): callers step through the text', { skip: 'WebAssembly SIMD unavailable in this process' }, () => undefined);
    return;
  }
  void it('marks every position where 16 base64 characters, 13 digits or five hex pairs each with a separator start, and no other, on random dense bytes', () => {
    const isB64 = (c: number): boolean => /[A-Za-z0-9+/_-]/.test(String.fromCharCode(c));
    const isDigit = (c: number): boolean => c >= 48 && c <= 57;
    const isHex = (c: number): boolean => /[0-9A-Fa-f]/.test(String.fromCharCode(c));
    const isSep = (c: number): boolean => /[:, -]/.test(String.fromCharCode(c));
    for (let round = 0; round < 300; round++) {
      const buf = dense(rnd(round % 50 === 0 ? 150_000 : 700));
      for (let k = 0; k < 3 && buf.length > 60; k++) buf.write(Array.from({ length: 3 + rnd(8) }, () => (rnd(256) + 256).toString(16).slice(1)).join('-: ,'.charAt(rnd(4))), rnd(buf.length - 40), 'latin1');
      const starts = runStarts(buf);
      assert.ok(starts !== undefined);
      const pattern: number[] = [];
      for (let i = 0; i + 15 <= buf.length; i++) {
        let ok = true;
        for (let t = 0; t < 15 && ok; t++) ok = t % 3 === 2 ? isSep(buf[i + t] ?? 0) : isHex(buf[i + t] ?? 0);
        if (ok) pattern.push(i);
      }
      const got: number[] = [];
      for (let p = nextRunStart(starts, 0, 'hex-sep'); p >= 0; p = nextRunStart(starts, p + 1, 'hex-sep')) got.push(p);
      assert.deepEqual(got, pattern, `round ${round}, hex-sep`);
      for (const [kind, need, is] of [['base64', 16, isB64], ['digits', 13, isDigit]] as const) {
        const expected: number[] = [];
        let ok = 0;
        for (let i = buf.length - 1; i >= 0; i--) {
          ok = is(buf[i] ?? 0) ? ok + 1 : 0;
          if (ok >= need) expected.push(i);
        }
        expected.reverse();
        const got: number[] = [];
        for (let p = nextRunStart(starts, 0, kind); p >= 0; p = nextRunStart(starts, p + 1, kind)) got.push(p);
        assert.deepEqual(got, expected, `round ${round}, ${kind}`);
      }
    }
  });
  void it('gives base64 runs, separated-hex runs and card numbers equal to the regexes they replace, across 64 KiB segments', () => {
    const HEX_SEP_RUN = /(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}(?:[-: ,][0-9A-Fa-f]{2}){9,}(?![0-9A-Fa-f])/g;
    const CARD = /(?<![0-9])(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|3[47][0-9]{13}|6(?:011|5[0-9]{2})[0-9]{12})(?![0-9])/g;
    const B64 = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}/g;
    for (let round = 0; round < 60; round++) {
      const buf = dense(round % 10 === 0 ? 200_000 + rnd(1000) : rnd(5000));
      // Plant card-like runs (Luhn is checked later, not here).
      for (let k = 0; k < 20 && buf.length > 40; k++) {
        const at = rnd(buf.length - 20);
        const digits = `${['4', '51', '37', '6011', '65'][rnd(5)] ?? ''}${String(rnd(1e9))}${String(rnd(1e9))}`.slice(0, 13 + rnd(4));
        buf.write(` ${digits} `, at, 'latin1');
      }
      // And separated hex bytes, ten or more (or fewer), sometimes with a hex digit after the last pair.
      for (let k = 0; k < 10 && buf.length > 80; k++) {
        const pairs = Array.from({ length: 8 + rnd(6) }, () => (rnd(256) + 256).toString(16).slice(1)).join('-: ,'.charAt(rnd(4)));
        buf.write(` ${pairs}${rnd(3) === 0 ? 'a' : ''} `, rnd(buf.length - 60), 'latin1');
      }
      const text = buf.toString('latin1');
      const starts = runStarts(buf);
      assert.ok(starts !== undefined);
      const b64 = [...text.matchAll(B64)].map((m) => `${m.index}:${m[0]}`);
      assert.deepEqual(base64Runs(buf, buf, starts).map((r) => `${r.index}:${r.run}`), b64, `round ${round}`);
      const cards = [...text.matchAll(CARD)].map((m) => `${m.index}:${m[0]}`);
      assert.deepEqual(cardNumbers(buf, starts).map((c) => `${c.index}:${c.digits}`), cards, `round ${round}`);
      const hex = [...text.matchAll(HEX_SEP_RUN)].map((m) => `${m.index}:${m[0]}`);
      assert.deepEqual(hexSepRuns(buf, buf, starts).map((r) => `${r.index}:${r.run}`), hex, `round ${round}`);
      assert.deepEqual(hexSepRuns(buf, buf, starts, 3).map((r) => `${r.index}:${r.run}`), hex.slice(0, 3), `round ${round}`);
      assert.deepEqual(base64Runs(buf, buf, starts, 3).map((r) => `${r.index}:${r.run}`), b64.slice(0, 3), `round ${round}`);
      assert.ok(round % 10 !== 0 || (cards.length > 0 && hex.length > 0 && b64.length > 0));
    }
  });
  void it('gives what the character scans give on an input above 2 MiB (arrays of its own), and on the reused arrays after it', () => {
    const big = dense(2 * 1024 * 1024 + 4321);
    for (const buf of [big, dense(9000)]) {
      const starts = runStarts(buf);
      assert.ok(starts !== undefined);
      const text = buf.toString('latin1');
      assert.deepEqual(base64Runs(buf, buf, starts), base64Runs(text));
      assert.deepEqual(hexSepRuns(buf, buf, starts), hexSepRuns(text));
      assert.deepEqual(cardNumbers(buf, starts), cardNumbers(text));
    }
  });
});
