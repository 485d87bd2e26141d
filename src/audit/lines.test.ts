import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LineSplitter, readLastLines, readLines } from './lines.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

void test('LineSplitter hashes every line, keeping at most maxBytes of it', () => {
  const s = new LineSplitter(4);
  const lines = [...s.push(Buffer.from('ab\nlonger line\n')), ...s.push(Buffer.from('cd'))];
  assert.equal(s.pending, 2);
  const last = s.end();
  assert.deepEqual(lines.map((l) => [l.number, l.bytes?.toString() ?? null, l.byteLength, l.terminated]), [
    [1, 'ab', 2, true],
    [2, null, 11, true],
  ]);
  assert.equal(lines[1]?.sha256, sha('longer line'));
  assert.deepEqual([last?.number, last?.bytes?.toString(), last?.terminated], [3, 'cd', false]);
  assert.equal(s.end(), null);
});

void test('readLines and readLastLines agree, across chunk boundaries', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-lines-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'f');
  const content = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 97)}`);
  writeFileSync(path, `${content.join('\n')}\npartial`);
  const all: string[] = [];
  for await (const l of readLines(path)) all.push(l.bytes?.toString() ?? '');
  assert.deepEqual(all, [...content, 'partial']);
  const tail = readLastLines(path, 3);
  assert.deepEqual(tail.lines.map((b) => b?.toString()), content.slice(-3));
  assert.equal(tail.fragmentLength, 'partial'.length);
  assert.deepEqual(readLastLines(path, 10_000).lines.length, 5000);
});

void test('readLastLines handles tiny and odd files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-lines-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'f');
  const cases: [string, (string | null)[], number][] = [
    ['', [], 0],
    ['\n', [''], 0],
    ['a\n', ['a'], 0],
    ['a\nb\n', ['a', 'b'], 0],
    ['abc', [], 3],
    ['a\n\nb', ['a', ''], 1],
    [`${'y'.repeat(10)}\nok\n`, [null, 'ok'], 0],
  ];
  for (const [text, lines, fragment] of cases) {
    writeFileSync(path, text);
    const r = readLastLines(path, 5, 8);
    assert.deepEqual([r.lines.map((b) => (b === null ? null : b.toString())), r.fragmentLength], [lines, fragment], JSON.stringify(text));
  }
});
