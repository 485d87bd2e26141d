/**
 * The quick reject (quick-reject.ts) may only say "clean" where the full scan
 * finds nothing: random texts built around every threshold it relies on
 * (keywords and their prefixes, 12/13 digits, 15/16 base64 characters, 28/29
 * separated hex characters, the decoders' lead characters, characters past
 * ASCII, the 4096-character bound) and texts cut from real corpora (the
 * shared benchmarks' secret fixtures and agent-egress cases, this
 * repository's sources) are scanned by a scanner with it and one without:
 * every finding is the same, and wherever it said clean the full scan found
 * nothing. Known secrets are still looked for on the quick path.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALL_DETECTORS } from './engine.js';
import { KnownSecretSet } from './fingerprint.js';
import { QUICK_MAX_CHARS, QuickReject } from './quick-reject.js';
import { DlpScanner, type ScannerOptions } from './scanner.js';
import { seededRandom } from '../seeded-random.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHARED = path.resolve(ROOT, '../shared/benchmarks');

/** The most permissive scanner: every opt-in detector, traffic checks, every confidence, layers on. */
const OPTIONS: ScannerOptions = { traffic: true, minConfidence: 'low', enable: ALL_DETECTORS.filter((d) => d.optIn === true).map((d) => d.id) };
const KEYWORDS = [...new Set(ALL_DETECTORS.flatMap((d) => d.keywords))];

const PIECES = [
  ...KEYWORDS, ...KEYWORDS.map((k) => k.slice(0, -1)), ...KEYWORDS.map((k) => k.slice(1)),
  '0', '1', '7', '9', 'a', 'f', 'F', 'g', 'Z', 'x', 'X', 'S', 'K', ' ', '\n', '\t', ':', ',', '-', '_', '+', '/', '.', '=', '"', '@', '?', '#', '*', '~',
  '%', '%2', '%41', '\\', '\\n', '\\u00', '&', '&amp;', '&#', 'é', 'а', 'α', '\u200b', '\u00ad', 'Ａ', '\u{e0041}', '\x7f', '\x00',
  'hello', 'message: ', 'https://', 'the quick brown fox ', '{"a":1}', 'user@example.com',
];
const RUN_ALPHABETS = ['0123456789', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-', '0123456789abcdefABCDEF:, -', '0a:1b-2c 3d,4e', 'abcdefghij'];

function randomText(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  let s = '';
  const parts = 1 + Math.floor(r() * 8);
  for (let p = 0; p < parts; p++) {
    if (r() < 0.5) {
      s += pick(PIECES);
      continue;
    }
    // A run whose length sits at a threshold (12/13, 15/16, 28/29) or is short.
    const alphabet = pick(RUN_ALPHABETS);
    const len = pick([1 + Math.floor(r() * 8), 11 + Math.floor(r() * 4), 14 + Math.floor(r() * 4), 27 + Math.floor(r() * 4)]);
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)]!;
    s += pick([' ', '', '\n', '.', '=', ':']);
  }
  return s;
}

/** Files of a directory tree (sorted, bounded). */
function files(dir: string, max: number, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (out.length >= max) break;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) files(p, max, out);
    else if (statSync(p).size < 1 << 20) out.push(p);
  }
  return out;
}

/** Lines and seeded slices (1 to 300 characters) of each file. */
function corpusTexts(paths: readonly string[], r: () => number): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const text = readFileSync(p, 'utf8');
    out.push(...text.split('\n').slice(0, 200));
    for (let i = 0; i < 40 && text.length > 0; i++) {
      const at = Math.floor(r() * text.length);
      out.push(text.slice(at, at + 1 + Math.floor(r() * 300)));
    }
  }
  return out;
}

/** Scans every text with and without the quick reject; returns how many it called clean. */
function compare(texts: Iterable<string>): { total: number; clean: number } {
  const quick = new QuickReject(new DlpScanner(OPTIONS).engine.keywords);
  const withQuick = new DlpScanner(OPTIONS);
  const full = new DlpScanner({ ...OPTIONS, quickReject: false });
  let total = 0;
  let clean = 0;
  for (const t of texts) {
    total++;
    const reference = full.scanText(t, 'w');
    if (quick.clean(t)) {
      clean++;
      assert.deepEqual(reference, [], `quick reject said clean, the full scan found ${reference.map((f) => f.detector).join(', ')}: ${JSON.stringify(t.slice(0, 200))}`);
    }
    assert.deepEqual(withQuick.scanText(t, 'w'), reference, JSON.stringify(t.slice(0, 200)));
  }
  return { total, clean };
}

void describe('DLP quick reject: clean only where the full scan finds nothing', () => {
  void it('random texts around every threshold and keyword (60k): the same findings with and without it', (t) => {
    const r = seededRandom(0x9e1ec7);
    const texts = function* (): Generator<string> {
      for (let i = 0; i < 60_000; i++) yield randomText(r);
    };
    const { total, clean } = compare(texts());
    t.diagnostic(`quick reject clean on ${clean} of ${total}`);
    // Both answers must be common, or the comparison proves little.
    assert.ok(clean > 5_000 && clean < total - 5_000, `quick reject clean on ${clean} of ${total}`);
  });

  const shared = existsSync(SHARED) ? undefined : `the shared benchmarks are not at ${SHARED}`;
  void it('lines and slices of the shared benchmark corpora: the same findings with and without it', { skip: shared }, (t) => {
    const r = seededRandom(0xc0ffee);
    const { total, clean } = compare(corpusTexts(files(SHARED, 2000), r));
    t.diagnostic(`quick reject clean on ${clean} of ${total}`);
    assert.ok(clean > 500, `quick reject clean on ${clean} of ${total}`);
  });

  void it("lines and slices of cordon's own sources: the same findings with and without it", (t) => {
    const r = seededRandom(0x5ca1ab1e);
    const { total, clean } = compare(corpusTexts(files(path.join(ROOT, 'src/dlp'), 80), r));
    t.diagnostic(`quick reject clean on ${clean} of ${total}`);
    assert.ok(clean > 500, `quick reject clean on ${clean} of ${total}`);
  });

  void it('each threshold: one character under is clean, at the threshold is not', () => {
    const quick = new QuickReject(new DlpScanner(OPTIONS).engine.keywords);
    const cases: [string, string][] = [
      [`card ${'4'.repeat(12)} x`, `card ${'4'.repeat(13)} x`],
      [`b64 ${'Ab1+'.repeat(3)}Ab1 x`, `b64 ${'Ab1+'.repeat(4)} x`],
      [`hex=${'0a:'.repeat(9)}0=x`, `hex=${'0a:'.repeat(9)}0a=x`],
      ['plain text', 'plain % text'],
      ['plain text', 'plain \\ text'],
      ['plain text', 'plain & text'],
      ['plain text', 'plain t\u00e9xt'],
      ['plain text', 'plain\u200btext'],
      ['ok. '.repeat(QUICK_MAX_CHARS / 4), `${'ok. '.repeat(QUICK_MAX_CHARS / 4)}x`],
    ];
    for (const [under, at] of cases) {
      assert.equal(quick.clean(under), true, JSON.stringify(under.slice(0, 60)));
      assert.equal(quick.clean(at), false, JSON.stringify(at.slice(0, 60)));
    }
  });

  void it("every detector's every keyword makes a text not clean", () => {
    const quick = new QuickReject(new DlpScanner(OPTIONS).engine.keywords);
    for (const d of ALL_DETECTORS) {
      for (const k of d.keywords) assert.equal(quick.clean(`x ${k} y`), false, `${d.id}: ${k}`);
    }
  });

  void it('a known secret in a short text the quick reject calls clean is still found', () => {
    const secret = 'plain words of a pass phrase here';
    const set = new KnownSecretSet();
    set.add('PASS_PHRASE', secret);
    const scanner = new DlpScanner({ ...OPTIONS, known: set.matcher() });
    const text = `message: ${secret}`;
    assert.equal(new QuickReject(scanner.engine.keywords).clean(text), true, 'the text is one the quick reject calls clean');
    const found = scanner.scanText(text, 'w');
    assert.deepEqual(found.map((f) => f.detector), ['known-secret']);
    assert.deepEqual(found, new DlpScanner({ ...OPTIONS, known: set.matcher(), quickReject: false }).scanText(text, 'w'));
  });
});
