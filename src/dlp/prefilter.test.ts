import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ALL_DETECTORS } from './engine.js';
import { Prefilter } from './prefilter.js';
import { prefilterUsesRelaxedSimd } from './prefilter-wasm.js';

void describe('Prefilter (SIMD filter and keyword trie over bytes)', () => {
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
  void it('runs as WebAssembly here (the JavaScript loops are the fallback without it)', () => {
    assert.equal(new Prefilter(['AKIA']).backend, 'wasm');
  });
  void it('finds the same hits as a plain search, in both backends, across chunk boundaries and at the very end', () => {
    const keywords = ['he', 'she', 'his', 'hers', 'AKIA', 'password', 'x', 'xx', 'abcdefgh rs', Buffer.from('\u200b\uff21').toString('latin1'), 'e\xff'];
    for (const backend of ['wasm', 'js'] as const) check(new Prefilter(keywords, { backend }), keywords);
  });
  void it('gives the same hits with the relaxed-SIMD lookup (a child process where the engine accepts it)', () => {
    const dir = fileURLToPath(new URL('.', import.meta.url));
    const script = `
      const { Prefilter } = await import(${JSON.stringify(`${dir}prefilter.ts`)});
      const { prefilterUsesRelaxedSimd } = await import(${JSON.stringify(`${dir}prefilter-wasm.ts`)});
      const keywords = ['he', 'she', 'hers', 'AKIA', 'password', 'x', '://', 'ghp_'];
      let seed = 3;
      const bytes = Buffer.alloc(300000);
      for (let i = 0; i < bytes.length; i++) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; bytes[i] = 'heshrsAKIpaword:/xg_ '.charCodeAt(seed % 21); }
      const a = new Prefilter(keywords).collect(bytes), b = new Prefilter(keywords, { backend: 'js' }).collect(bytes);
      console.log(JSON.stringify({ relaxed: prefilterUsesRelaxedSimd(), hits: a.length / 2, same: a.length === b.length && a.every((v, i) => v === b[i]) }));`;
    let r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    // A Node whose engine ships relaxed SIMD may no longer know the flag.
    if (r.status !== 0 && r.stderr.includes('bad option')) r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { relaxed: boolean; hits: number; same: boolean };
    assert.equal(out.relaxed, true, 'this Node accepts relaxed SIMD behind the flag');
    assert.ok(out.hits > 1000);
    assert.equal(out.same, true);
  });
  void it('uses the relaxed-SIMD lookup in this process without a command-line flag (Node 20: turned on before compiling)', () => {
    assert.equal(prefilterUsesRelaxedSimd(), true);
  });
  void it('gives the engine\'s keyword set the same hits in both backends on real source code (TypeScript\'s compiler)', () => {
    const source = readFileSync(createRequire(import.meta.url).resolve('typescript/lib/typescript.js')).subarray(0, 2_000_000);
    const keywords = [...new Set(ALL_DETECTORS.flatMap((d) => d.keywords)), Buffer.from('\u200b').toString('latin1').slice(0, 2)];
    const a = new Prefilter(keywords).collect(source);
    const b = new Prefilter(keywords, { backend: 'js' }).collect(source);
    assert.ok(a.length > 2000, `${a.length / 2} hits`);
    assert.deepEqual([...a], [...b]);
  });
  void it('reports every hit when one chunk has more than its hit buffer holds', () => {
    const p = new Prefilter(['x', 'xx', 'xxx']);
    const hits = p.hits(Buffer.alloc(100_000, 'x'));
    assert.equal(hits.length, 100_000 + 99_999 + 99_998);
  });
  void it('reports hits in order of their start, shorter keywords first at one start', () => {
    const p = new Prefilter(['hers', 'he', 'h', 'er']);
    assert.deepEqual(p.hits(Buffer.from('hhers')).map((h) => `${p.keywords[h.keyword] ?? ''}@${h.start}`), ['h@0', 'h@1', 'he@1', 'hers@1', 'er@2']);
  });
});

/** Random text of keywords and filler at several lengths; the hits must equal a plain search's. */
function check(p: Prefilter, keywords: readonly string[]): void {
  let seed = 7;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (const len of [1, 2, 3, 17, 4096, 5000, 65_536, 65_537, 200_003]) {
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
    const hits = p.hits(Buffer.from(text, 'latin1'));
    assert.deepEqual(hits.map((h) => `${h.keyword}@${h.start}`).sort(), expected.sort(), `${p.backend}, length ${len}`);
    const starts = hits.map((h) => h.start);
    assert.deepEqual(starts, [...starts].sort((a, b) => a - b), 'hits in order of their start');
  }
}
