import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { runAuditTail, runAuditVerify } from './cli.js';
import { AuditWriter } from './writer.js';

function setup(t: TestContext): { stateDir: string; path: string; out: string[]; err: string[]; io: { stateDir: string; out: (l: string) => void; err: (l: string) => void } } {
  const stateDir = mkdtempSync(join(tmpdir(), 'cordon-cli-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const w = AuditWriter.open({ dir: stateDir, session: 's_cafe' });
  for (const d of ['allow', 'deny', 'ask'] as const) w.write({ boundary: 'policy', subject: 'Read(./x)', decision: d, rule: 'default', reason: 'test.' });
  w.close();
  const out: string[] = [];
  const err: string[] = [];
  return { stateDir, path: w.path, out, err, io: { stateDir, out: (l) => out.push(l), err: (l) => err.push(l) } };
}

void test('verify: a session id, a path or nothing (latest) all find an intact log', async (t) => {
  const s = setup(t);
  assert.equal(await runAuditVerify('s_cafe', s.io), 0);
  assert.equal(await runAuditVerify(s.path, s.io), 0);
  assert.equal(await runAuditVerify(undefined, s.io), 0);
  assert.match(s.out[0] ?? '', /^intact: .*s_cafe\.jsonl: 3 record\(s\) of session s_cafe, last seq 3$/);
  assert.deepEqual(s.err, []);
});

void test('verify: a broken log exits 1, lists problems on stdout and advice on stderr', async (t) => {
  const s = setup(t);
  const lines = readFileSync(s.path, 'utf8').split('\n');
  lines[0] = (lines[0] ?? '').replace('"allow"', '"deny"');
  writeFileSync(s.path, lines.join('\n'));
  assert.equal(await runAuditVerify('s_cafe', s.io), 1);
  assert.match(s.out[0] ?? '', /^broken: .*: 1 problem\(s\) in 3 line\(s\)$/);
  assert.match(s.out[1] ?? '', /^line 1: edited: line 1 was changed/);
  assert.match(s.err[0] ?? '', /Keep a copy as evidence; the records before line 1/);
});

void test('verify and tail: an unreadable or absent log exits 2 with what to do', async (t) => {
  const s = setup(t);
  assert.equal(await runAuditVerify('s_beef', s.io), 2);
  assert.equal(await runAuditTail({ ...s.io, target: join(s.stateDir, 'nope.jsonl') }), 2);
  const empty = mkdtempSync(join(tmpdir(), 'cordon-cli-empty-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  assert.equal(await runAuditVerify(undefined, { ...s.io, stateDir: empty }), 2);
  assert.match(s.err.at(-1) ?? '', /no session log in .*cordon run/);
  assert.deepEqual(s.out, []);
});

void test('tail: prints the latest session', async (t) => {
  const s = setup(t);
  assert.equal(await runAuditTail({ ...s.io, lines: 2 }), 0);
  assert.deepEqual(s.out.map((l) => l.split(' ')[3]), ['deny', 'ask']);
});
