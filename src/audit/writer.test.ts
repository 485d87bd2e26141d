import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { TSX } from '../../test/cli-helpers.js';
import { CordonError } from '../errors.js';
import { publishDecision } from './publish.js';
import { DecisionRecordSchema, GENESIS_PREV } from './record.js';
import type { DecisionEvent, DecisionRecord } from './record.js';
import { AuditWriter } from './writer.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function ev(decision: DecisionEvent['decision'], subject = 'Net(example.com:443)'): DecisionEvent {
  return { boundary: 'egress', subject, decision, rule: 'default', reason: 'no rule matched.' };
}

function readLog(path: string): { raw: string[]; records: DecisionRecord[] } {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'));
  const raw = text.slice(0, -1).split('\n');
  return { raw, records: raw.map((l) => DecisionRecordSchema.parse(JSON.parse(l))) };
}

const sha = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

void test('records form a hash chain with increasing seq', (t) => {
  const dir = join(tempDir(t), 'state');
  const w = AuditWriter.open({ dir, session: 's_0001', now: () => new Date('2026-01-01T00:00:00Z') });
  w.write(ev('allow'));
  w.write(ev('deny'));
  w.write(ev('ask'));
  w.write(ev('deny'));
  w.close();
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(w.path).mode & 0o777, 0o600);
  const { raw, records } = readLog(w.path);
  assert.deepEqual(records.map((r) => r.seq), [1, 2, 3, 4]);
  assert.equal(records[0]?.prev, GENESIS_PREV);
  for (let i = 1; i < raw.length; i++) assert.equal(records[i]?.prev, sha(raw[i - 1] ?? ''));
  assert.equal(records[0]?.ts, '2026-01-01T00:00:00.000Z');
  assert.equal(records[0]?.session, 's_0001');
  assert.deepEqual(w.counts(), { allow: 1, ask: 1, deny: 2 });
});

void test('a resumed session continues the chain from the last line', (t) => {
  const dir = tempDir(t);
  const first = AuditWriter.open({ dir, session: 's_abcd' });
  first.write(ev('allow'));
  first.write(ev('deny'));
  first.close();
  const second = AuditWriter.open({ dir, session: 's_abcd' });
  assert.equal(second.lastSeq, 2);
  second.write(ev('ask'));
  second.close();
  assert.deepEqual(second.counts(), { allow: 0, ask: 1, deny: 0 });
  const { raw, records } = readLog(second.path);
  assert.deepEqual(records.map((r) => r.seq), [1, 2, 3]);
  assert.equal(records[2]?.prev, sha(raw[1] ?? ''));
});

void test('resuming refuses a log whose last line is torn or foreign', (t) => {
  const dir = tempDir(t);
  const w = AuditWriter.open({ dir, session: 's_abcd' });
  w.write(ev('allow'));
  w.close();
  appendFileSync(w.path, '{"seq":2,"ts":');
  assert.throws(() => AuditWriter.open({ dir, session: 's_abcd' }), { code: 'CORDON_AUDIT_BROKEN' });
  appendFileSync(w.path, '1}\n');
  assert.throws(() => AuditWriter.open({ dir, session: 's_abcd' }), /not a valid record of session s_abcd/);
});

void test('two writers in one process keep separate files and chains', (t) => {
  const dir = tempDir(t);
  const a = AuditWriter.open({ dir, session: 's_aaaa' });
  const b = AuditWriter.open({ dir, session: 's_bbbb' });
  a.write(ev('allow'));
  b.write(ev('deny'));
  a.write(ev('allow'));
  a.close();
  b.close();
  assert.deepEqual(readLog(a.path).records.map((r) => [r.session, r.seq]), [['s_aaaa', 1], ['s_aaaa', 2]]);
  assert.deepEqual(readLog(b.path).records.map((r) => [r.session, r.seq]), [['s_bbbb', 1]]);
});

void test('published decisions reach every subscribed writer and stop after close', (t) => {
  const dir = tempDir(t);
  const a = AuditWriter.open({ dir, session: 's_aaaa' });
  const b = AuditWriter.open({ dir, session: 's_bbbb' });
  a.subscribe();
  const offB = b.subscribe();
  assert.equal(publishDecision(ev('deny', 'Read(~/.ssh/id_rsa)')), true);
  offB();
  publishDecision(ev('allow'));
  a.close();
  b.close();
  assert.equal(publishDecision(ev('allow')), false);
  assert.deepEqual(readLog(a.path).records.map((r) => r.subject), ['Read(~/.ssh/id_rsa)', 'Net(example.com:443)']);
  assert.deepEqual(readLog(b.path).records.map((r) => r.subject), ['Read(~/.ssh/id_rsa)']);
});

void test('a malformed published event is reported, not thrown into the publisher', (t) => {
  const dir = tempDir(t);
  const w = AuditWriter.open({ dir, session: 's_aaaa' });
  const errors: CordonError[] = [];
  w.subscribe({ onError: (e) => errors.push(e) });
  publishDecision({ ...ev('allow'), boundary: 'nowhere' } as unknown as DecisionEvent);
  w.close();
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'CORDON_INTERNAL');
  assert.equal(readFileSync(w.path, 'utf8'), '');
});

void test('a planted secret in a finding sample never reaches the file', (t) => {
  const dir = tempDir(t);
  const w = AuditWriter.open({ dir, session: 's_aaaa' });
  w.subscribe();
  publishDecision({
    ...ev('deny'),
    findings: [
      { detector: 'aws-access-key-id', where: 'body', sample: 'AKIAIOSFODNN7EXAMPLE' },
      { detector: 'aws-access-key-id', where: 'header', sample: 'AKIAIOSFODNN7EXAMPLE…' },
      { detector: 'generic', where: 'body', sample: 'hunter2hunter' },
    ],
  });
  w.close();
  const text = readFileSync(w.path, 'utf8');
  assert.doesNotMatch(text, /AKIAIOSFODNN7EXAMPLE|IOSFODNN7|hunter2/);
  const samples = readLog(w.path).records[0]?.findings?.map((f) => f.sample);
  assert.deepEqual(samples, ['AKIA…MPLE', 'AKIA…PLE…', '…(13 chars)']);
});

void test('invalid sessions, closed writers and oversized records are refused', (t) => {
  const dir = tempDir(t);
  assert.throws(() => AuditWriter.open({ dir, session: '../escape' }), { code: 'CORDON_USAGE' });
  const w = AuditWriter.open({ dir, session: 's_aaaa' });
  assert.throws(() => w.write(ev('allow', 'x'.repeat(2 * 1024 * 1024))), { code: 'CORDON_AUDIT_IO' });
  w.write(ev('allow'));
  assert.equal(w.lastSeq, 1);
  w.close();
  assert.throws(() => w.write(ev('allow')), (e: unknown) => e instanceof CordonError && e.code === 'CORDON_AUDIT_IO');
});

void test('deferred: published decisions are appended in one batch within deferMs, in order, chained with direct writes', async (t) => {
  const dir = tempDir(t);
  const w = AuditWriter.open({ dir, session: 's_dddd', deferMs: 20 });
  w.subscribe();
  publishDecision(ev('allow', 'first'));
  publishDecision(ev('deny', 'second'));
  assert.equal(readFileSync(w.path, 'utf8'), '', 'nothing appended while the publisher is still running');
  assert.deepEqual(w.counts(), { allow: 1, ask: 0, deny: 1 });
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(readLog(w.path).records.map((r) => r.subject), ['first', 'second']);
  publishDecision(ev('ask', 'third'));
  w.write(ev('allow', 'direct')); // a synchronous write appends what is queued first
  publishDecision(ev('deny', 'fifth'));
  assert.equal(w.lastSeq, 5); // reading the position appends the queue
  publishDecision(ev('deny', 'sixth'));
  w.close(); // close appends the rest
  const { raw, records } = readLog(w.path);
  assert.deepEqual(records.map((r) => [r.seq, r.subject]), [[1, 'first'], [2, 'second'], [3, 'third'], [4, 'direct'], [5, 'fifth'], [6, 'sixth']]);
  assert.equal(records[0]?.prev, GENESIS_PREV);
  for (let i = 1; i < raw.length; i++) assert.equal(records[i]?.prev, sha(raw[i - 1] ?? ''));
});

void test('deferred: a queue of 256 records is appended at once, and a record over the line limit is left out and reported', (t) => {
  const dir = tempDir(t);
  const errors: CordonError[] = [];
  const w = AuditWriter.open({ dir, session: 's_dddd', deferMs: 60_000 });
  w.subscribe({ onError: (e) => errors.push(e) });
  publishDecision(ev('allow', 'x'.repeat(2 * 1024 * 1024)));
  for (let i = 0; i < 255; i++) publishDecision(ev('allow', `call ${i}`));
  const { records } = readLog(w.path);
  assert.equal(records.length, 255);
  assert.equal(records[0]?.subject, 'call 0');
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.code, 'CORDON_AUDIT_IO');
  assert.equal(w.counts().allow, 255);
  w.close();
});

/** Runs a script with the writer in a child process (optionally with a file size limit); returns its stdout. */
function child(t: TestContext, body: string, fsizeBytes?: number): { dir: string; out: string; status: number | null; err: string } {
  const dir = tempDir(t);
  const script = join(dir, 'child.mts');
  writeFileSync(script, `import { AuditWriter } from ${JSON.stringify(join(import.meta.dirname, 'writer.ts'))};\nimport { publishDecision } from ${JSON.stringify(join(import.meta.dirname, 'publish.ts'))};\nconst dir = ${JSON.stringify(join(dir, 'log'))};\n${body}\n`);
  const argv = [process.execPath, '--import', TSX, script];
  const r = fsizeBytes === undefined ? spawnSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8', timeout: 30_000 }) : spawnSync('prlimit', [`--fsize=${fsizeBytes}`, '--', ...argv], { encoding: 'utf8', timeout: 30_000 });
  return { dir: join(dir, 'log'), out: r.stdout, status: r.status, err: r.stderr };
}

void test('deferred: records still queued when the process exits (process.exit, an uncaught exception) are appended', (t) => {
  for (const end of ['process.exit(3);', "throw new Error('boom');"]) {
    const r = child(t, `const w = AuditWriter.open({ dir, session: 's_eeee', deferMs: 60_000 });\nw.subscribe();\nfor (let i = 0; i < 3; i++) publishDecision({ boundary: 'mcp', subject: 'call ' + i, decision: 'allow', rule: 'r', reason: 'x' });\n${end}`);
    assert.notEqual(r.status, 0);
    const { raw, records } = readLog(join(r.dir, 's_eeee.jsonl'));
    assert.deepEqual(records.map((x) => x.subject), ['call 0', 'call 1', 'call 2'], end);
    for (let i = 1; i < raw.length; i++) assert.equal(records[i]?.prev, sha(raw[i - 1] ?? ''));
  }
});

void test('deferred: a failed append turns the writer unhealthy and every later decision is refused', (t) => {
  // A real failure: the child may write at most 1024 bytes to any file (EFBIG past it).
  const r = child(t, `const w = AuditWriter.open({ dir, session: 's_ffff', deferMs: 5 });
const errors: string[] = [];
w.subscribe({ onError: (e) => errors.push(e.code) });
const publish = (i: number) => publishDecision({ boundary: 'mcp', subject: 'call ' + i + ' ' + 'y'.repeat(40), decision: 'allow', rule: 'r', reason: 'x' });
for (let i = 0; i < 3; i++) publish(i);
console.log(JSON.stringify({ step: 'queued', healthy: w.healthy }));
await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ step: 'first batch', healthy: w.healthy, errors }));
for (let i = 3; i < 10; i++) publish(i);
await new Promise((r) => setTimeout(r, 50));
console.log(JSON.stringify({ step: 'second batch', healthy: w.healthy, errors }));
publish(10);
console.log(JSON.stringify({ step: 'after', healthy: w.healthy, errors }));
w.close();`, 1024);
  assert.notEqual(r.out, '', r.err);
  const steps = r.out.trim().split('\n').map((l) => JSON.parse(l) as { step: string; healthy: boolean; errors?: string[] });
  assert.deepEqual(steps.map((s) => [s.step, s.healthy]), [['queued', true], ['first batch', true], ['second batch', false], ['after', false]], r.out);
  assert.deepEqual(steps[2]?.errors, ['CORDON_AUDIT_IO']);
  assert.deepEqual(steps[3]?.errors, ['CORDON_AUDIT_IO', 'CORDON_AUDIT_IO'], 'a decision after the failure is refused and reported');
  const text = readFileSync(join(r.dir, 's_ffff.jsonl'), 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '').map((l) => DecisionRecordSchema.parse(JSON.parse(l)));
  // The first batch is whole; the failed one may have left whole lines and a torn one (as a crash would), and nothing follows it.
  assert.ok(complete.length >= 3 && complete.length < 10, text);
  assert.deepEqual(complete.map((x) => x.seq), complete.map((_, i) => i + 1));
  assert.ok(!text.endsWith('\n'), 'the failed append ends in a torn line, which verify reports');
});
