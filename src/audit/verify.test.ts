import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { verifyLog } from './verify.js';
import type { VerifyReport } from './verify.js';
import { AuditWriter } from './writer.js';

/** A log of `n` records (seq 1..n) for session s_0123; returns its path and lines (without newlines). */
function makeLog(t: TestContext, n: number, session = 's_0123'): { path: string; lines: string[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-verify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const w = AuditWriter.open({ dir, session });
  for (let i = 1; i <= n; i++) {
    w.write({ boundary: 'egress', subject: `Net(host${i}.example:443)`, decision: i % 2 === 0 ? 'deny' : 'allow', rule: 'default', reason: 'test.' });
  }
  w.close();
  return { path: w.path, lines: readFileSync(w.path, 'utf8').slice(0, -1).split('\n'), dir };
}

function rewrite(path: string, lines: readonly string[]): void {
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''));
}

function summary(r: VerifyReport): string[] {
  return r.problems.map((p) => `${p.line}:${p.kind}`);
}

void test('an intact log verifies', async (t) => {
  const { path } = makeLog(t, 5);
  const r = await verifyLog(path);
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  assert.deepEqual([r.lines, r.records, r.lastSeq, r.session], [5, 5, 5, 's_0123']);
});

void test('an edited line is named by its successor\'s prev', async (t) => {
  const { path, lines } = makeLog(t, 5);
  lines[2] = (lines[2] ?? '').replace('"decision":"allow"', '"decision":"deny"');
  rewrite(path, lines);
  const r = await verifyLog(path);
  assert.equal(r.ok, false);
  assert.deepEqual(summary(r), ['3:edited']);
  assert.match(r.problems[0]?.message ?? '', /line 3 was changed after it was written/);
});

void test('an edit that breaks the JSON or the schema is named on that line', async (t) => {
  const { path, lines } = makeLog(t, 5);
  lines[1] = (lines[1] ?? '').slice(0, 20);
  lines[3] = (lines[3] ?? '').replace('"decision":"deny"', '"decision":"permit"');
  rewrite(path, lines);
  assert.deepEqual(summary(await verifyLog(path)), ['2:not-json', '4:schema']);
});

void test('a removed line shows as a seq gap at the line after it', async (t) => {
  const { path, lines } = makeLog(t, 5);
  lines.splice(2, 1);
  rewrite(path, lines);
  const r = await verifyLog(path);
  assert.deepEqual(summary(r), ['3:removed']);
  assert.match(r.problems[0]?.message ?? '', /1 record\(s\) missing before line 3 \(seq 3\)/);
});

void test('removing the first line is detected', async (t) => {
  const { path, lines } = makeLog(t, 3);
  rewrite(path, lines.slice(1));
  assert.deepEqual(summary(await verifyLog(path)), ['1:removed']);
});

void test('reordered lines are named, not mistaken for removals', async (t) => {
  const { path, lines } = makeLog(t, 5);
  const [l3, l4] = [lines[2] ?? '', lines[3] ?? ''];
  lines[2] = l4;
  lines[3] = l3;
  rewrite(path, lines);
  const r = await verifyLog(path);
  assert.deepEqual(summary(r), ['4:reordered']);
  assert.match(r.problems[0]?.message ?? '', /seq 3, which belongs before line 3/);
});

void test('a duplicated line is detected', async (t) => {
  const { path, lines } = makeLog(t, 4);
  lines.splice(2, 0, lines[1] ?? '');
  rewrite(path, lines);
  assert.deepEqual(summary(await verifyLog(path)), ['3:duplicate']);
});

void test('a line from another session is detected', async (t) => {
  const { path, lines } = makeLog(t, 4);
  const other = makeLog(t, 4, 's_9999');
  lines.splice(2, 0, other.lines[2] ?? '');
  rewrite(path, lines);
  const r = await verifyLog(path);
  assert.deepEqual(summary(r), ['3:foreign-session']);
  assert.match(r.problems[0]?.message ?? '', /belongs to session s_9999, not s_0123/);
});

void test('a line that replaces another with one from a different session is detected', async (t) => {
  const { path, lines } = makeLog(t, 4);
  const other = makeLog(t, 4, 's_9999');
  lines[1] = other.lines[1] ?? '';
  rewrite(path, lines);
  assert.deepEqual(summary(await verifyLog(path)), ['2:foreign-session']);
});

void test('junk, empty and huge lines are reported without crashing', async (t) => {
  const { path, lines } = makeLog(t, 3);
  rewrite(path, [lines[0] ?? '', 'not json at all', '', 'x'.repeat(2 * 1024 * 1024), lines[1] ?? '', lines[2] ?? '']);
  const r = await verifyLog(path);
  assert.deepEqual(summary(r), ['2:not-json', '3:empty', '4:too-long']);
  assert.equal(r.records, 3);
});

void test('a torn last line (a crash mid-write) is reported', async (t) => {
  const { path, lines } = makeLog(t, 3);
  writeFileSync(path, `${lines.slice(0, 2).join('\n')}\n${(lines[2] ?? '').slice(0, 30)}`);
  assert.deepEqual(summary(await verifyLog(path)), ['3:unterminated', '3:not-json']);
});

void test('limitation: a truncated tail or an edited last line still verifies (needs an external anchor)', async (t) => {
  const { path, lines } = makeLog(t, 5);
  rewrite(path, lines.slice(0, 3));
  assert.equal((await verifyLog(path)).ok, true);
  rewrite(path, [...lines.slice(0, 4), (lines[4] ?? '').replace('"decision":"allow"', '"decision":"deny"')]);
  assert.equal((await verifyLog(path)).ok, true);
});

void test('an unreadable file is an IO error, not a verdict', async (t) => {
  const { dir } = makeLog(t, 0);
  await assert.rejects(verifyLog(join(dir, 'missing.jsonl')), { code: 'CORDON_AUDIT_IO' });
});
