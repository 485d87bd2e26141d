import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { scanCommand } from '../../src/cli/scan-cmd.js';
import { fake } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'cordon-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(paths: string[], format: 'text' | 'json' | 'sarif', stdin = ''): Promise<{ code: number; out: string; err: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (c: Buffer) => { o += c.toString(); });
  err.on('data', (c: Buffer) => { e += c.toString(); });
  const code = await scanCommand(paths, { format, stdout: out, stderr: err, stdin: Readable.from([Buffer.from(stdin)]), cwd: dir });
  return { code, out: o, err: e };
}

void describe('cordon scan', () => {
  const token = fake.github();
  mkdirSync(path.join(dir, 'src'));
  mkdirSync(path.join(dir, 'ignored'));
  writeFileSync(path.join(dir, '.gitignore'), 'ignored/\n*.log\n');
  writeFileSync(path.join(dir, 'src', 'config.js'), `// config\nexport const token = "${token}";\n`);
  writeFileSync(path.join(dir, 'src', 'clean.js'), 'export const x = 1;\n');
  writeFileSync(path.join(dir, 'ignored', 'secret.txt'), `GITHUB_TOKEN=${fake.github()}\n`);
  writeFileSync(path.join(dir, 'debug.log'), `token=${fake.github()}\n`);

  void it('scans a directory, honours .gitignore, prints file:line:column and exits 1', async () => {
    const r = await run(['.'], 'text');
    assert.equal(r.code, 1);
    assert.match(r.out, /^src\/config\.js:2:23: github-token \(high\) ghp_…/m);
    assert.ok(!r.out.includes('ignored/') && !r.out.includes('debug.log'));
    assert.ok(!r.out.includes(token), 'never prints the secret');
  });
  void it('exits 0 on a clean file', async () => {
    assert.equal((await run(['src/clean.js'], 'text')).code, 0);
  });
  void it('exits 2 on an unreadable path', async () => {
    const r = await run(['does-not-exist'], 'text');
    assert.equal(r.code, 2);
    assert.match(r.err, /cannot scan does-not-exist/);
  });
  void it('reads stdin for -', async () => {
    const r = await run(['-'], 'json', `export STRIPE=${fake.stripe()}\n`);
    assert.equal(r.code, 1);
    const j = JSON.parse(r.out) as { findings: { path: string; detector: string; line: number }[] };
    assert.deepEqual(j.findings.map((f) => [f.path, f.detector, f.line]), [['-', 'stripe-secret-key', 1]]);
  });
  void it('writes SARIF 2.1.0 with rules, levels and regions', async () => {
    const r = await run(['src'], 'sarif');
    const s = JSON.parse(r.out) as { version: string; runs: { tool: { driver: { name: string; rules: { id: string }[] } }; results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
    assert.equal(s.version, '2.1.0');
    const run0 = s.runs[0];
    assert.equal(run0?.tool.driver.name, 'cordon');
    assert.deepEqual(run0?.tool.driver.rules.map((x) => x.id), ['github-token']);
    assert.equal(run0?.results[0]?.level, 'error');
    assert.equal(run0?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri, 'src/config.js');
    assert.equal(run0?.results[0]?.locations[0]?.physicalLocation.region.startLine, 2);
    assert.ok(!r.out.includes(token));
  });
});
