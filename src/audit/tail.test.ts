import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import type { DecisionEvent } from './record.js';
import { tailLog } from './tail.js';
import { AuditWriter } from './writer.js';

const now = (): Date => new Date('2026-01-01T00:00:00Z');

function writer(t: TestContext): AuditWriter {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-tail-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return AuditWriter.open({ dir, session: 's_0123', now });
}

function ev(subject: string, extra: Partial<DecisionEvent> = {}): DecisionEvent {
  return { boundary: 'mcp', subject, decision: 'deny', rule: 'deny mcp__x__* (project cordon.yaml:4:7)', reason: 'tool not allowed.', ...extra };
}

function collect(): { out: string[]; err: string[]; io: { out: (l: string) => void; err: (l: string) => void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

void test('tail prints the last records as sanitized human lines', async (t) => {
  const w = writer(t);
  for (let i = 1; i <= 4; i++) w.write(ev(`mcp__x__t${i}`));
  w.write(ev('mcp__x__evil\u202Efdp.exe', { findings: [{ detector: 'aws-access-key-id', where: 'args.body', sample: 'AKIAIOSFODNN7EXAMPLE' }], mandatory: true }));
  w.close();
  const c = collect();
  await tailLog(w.path, { lines: 2, ...c.io });
  assert.deepEqual(c.out, [
    '4 2026-01-01T00:00:00.000Z mcp deny mcp__x__t4 — deny mcp__x__* (project cordon.yaml:4:7) — tool not allowed.',
    '5 2026-01-01T00:00:00.000Z mcp deny mcp__x__evil\\u{202e}fdp.exe — deny mcp__x__* (project cordon.yaml:4:7) — tool not allowed. [mandatory] [findings: aws-access-key-id in args.body: AKIA…MPLE]',
  ]);
  assert.deepEqual(c.err, []);
});

void test('tail --json prints records as JSON with invisible characters escaped', async (t) => {
  const w = writer(t);
  w.write(ev('a\u200Bb'));
  w.close();
  const c = collect();
  await tailLog(w.path, { json: true, ...c.io });
  assert.equal(c.out.length, 1);
  assert.doesNotMatch(c.out[0] ?? '', /\u200B/u);
  assert.equal((JSON.parse(c.out[0] ?? '') as { subject: string }).subject, 'a\u200Bb');
});

void test('lines that are not records go to the error stream, escaped', async (t) => {
  const w = writer(t);
  w.write(ev('ok'));
  w.close();
  appendFileSync(w.path, 'garbage \x1b[2J\n');
  const c = collect();
  await tailLog(w.path, c.io);
  assert.equal(c.out.length, 1);
  assert.deepEqual(c.err, ['cordon audit: not a decision record: garbage \\u{1b}[2J; run `cordon audit verify`']);
});

void test('follow prints appended records until the signal aborts', async (t) => {
  const w = writer(t);
  w.write(ev('before'));
  const c = collect();
  const ac = new AbortController();
  const done = tailLog(w.path, { follow: true, signal: ac.signal, pollMs: 10, ...c.io });
  await sleep(50);
  w.write(ev('after1'));
  w.write(ev('after2'));
  for (let i = 0; i < 100 && c.out.length < 3; i++) await sleep(10);
  ac.abort();
  await done;
  w.close();
  assert.deepEqual(c.out.map((l) => l.split(' ')[4]), ['before', 'after1', 'after2']);
});
