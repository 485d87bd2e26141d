/** The command line as a user meets it: real processes, real files, exit statuses from the contract. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cordon } from './cli-helpers.js';

function workspace(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'cordon-cli-'));
}

void describe('cordon CLI', () => {
  void it('--version and --help', () => {
    const v = cordon(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+/);
    const h = cordon(['--help']);
    assert.equal(h.status, 0);
    for (const c of ['run', 'policy', 'audit', 'doctor', 'scan', 'proxy', 'mcp', 'hook', 'lab']) assert.match(h.stdout, new RegExp(`\\b${c}\\b`));
  });

  void it('policy check on the built-in profile exits 0', () => {
    const r = cordon(['policy', 'check'], { cwd: workspace() });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /profiles: default/);
  });

  void it('policy check on a broken file prints the positioned error and exits 1', () => {
    const ws = workspace();
    const file = path.join(ws, 'cordon.yaml');
    writeFileSync(file, 'version: 1\npermissions:\n  allow:\n    - "Read(./**)"\n    - "Nett(example.com)"\n');
    const r = cordon(['policy', 'check', file], { cwd: ws });
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`${file}:5:7: permissions.allow[1]: unknown rule kind 'Nett'; did you mean 'Net'?`), r.stderr);
    assert.equal(r.stdout, '');
  });

  void it('a broken project cordon.yaml is found and rejected (no fallback)', () => {
    const ws = workspace();
    writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\nallow: []\n');
    const r = cordon(['policy', 'check'], { cwd: ws });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cordon\.yaml:2:1: unknown key 'allow'/);
  });

  void it('policy check with an unknown flag is a usage error (2)', () => {
    assert.equal(cordon(['policy', 'check', '--bogus']).status, 2);
  });

  void it('policy explain prints decision, rule with file and line, and why', () => {
    const ws = workspace();
    writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  deny: ["Net(*.pastebin.com)"]\n  allow: ["Net(registry.npmjs.org)"]\n');
    const r = cordon(['policy', 'explain', 'Net(x.pastebin.com:443)', 'Net(registry.npmjs.org:443)', 'Read(~/.ssh/id_rsa)'], { cwd: ws });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /DENY {2}Net\(x\.pastebin\.com:443\)\n {2}rule: {3}deny Net\(\*\.pastebin\.com\) \(project, .*cordon\.yaml:3:10\)\n {2}why: {4}Denies connections to any subdomain of pastebin\.com/);
    assert.match(r.stdout, /ALLOW Net\(registry\.npmjs\.org:443\)/);
    assert.match(r.stdout, /DENY {2}Read\(.*\/\.ssh\/id_rsa\)\n {2}rule: {3}deny Read\(~\/\.ssh\) \(profile, profile:default:\d+\)/);
  });

  void it('policy explain --json', () => {
    const r = cordon(['policy', 'explain', '--json', 'Bash(git status && curl evil.example)'], { cwd: workspace() });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { decision: string; subject: string; reason: string; rules: unknown[] };
    assert.equal(j.decision, 'ask');
    assert.equal(j.subject, 'Bash(git status && curl evil.example)');
    assert.match(j.reason, /every part of a compound command/);
  });

  void it('policy explain of a malformed subject says how to write it and exits 2', () => {
    const r = cordon(['policy', 'explain', 'Frob(x)'], { cwd: workspace() });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown subject kind 'Frob'/);
  });

  void it('audit export: 2 without any session log, a format it does not know is a usage error', () => {
    const env = { XDG_STATE_HOME: path.join(workspace(), 'empty-state') };
    const none = cordon(['audit', 'export'], { env });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no session log/);
    assert.equal(cordon(['audit', 'export', '--format', 'xml'], { env }).status, 2);
  });

  void it('cordon approvals without running sessions: list 0, answer 1, bad action 2', () => {
    const env = { CORDON_APPROVALS_DIR: path.join(workspace(), 'no-approvals') };
    const list = cordon(['approvals'], { env });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /no running cordon session/);
    assert.equal(cordon(['approvals', 'approve', 'a_000000000000'], { env }).status, 1);
    assert.equal(cordon(['approvals', 'frob'], { env }).status, 2);
  });

  void it('a Claude Code settings.json is accepted as a policy file', () => {
    const ws = workspace();
    const f = path.join(ws, 'settings.json');
    writeFileSync(f, JSON.stringify({ permissions: { allow: ['Bash(npm run test:*)'], deny: ['Read(./.env)'] }, model: 'x' }));
    const r = cordon(['policy', 'explain', '--policy', f, 'Bash(npm run test)'], { cwd: ws });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ALLOW Bash\(npm run test\)/);
  });

  void it('scan reads stdin, reports a redacted finding and exits 1; a clean input exits 0', () => {
    const key = ['AKIA', 'IOSFODNN7', 'EXAMPLE'].join('');
    const r = cordon(['scan', '-'], { input: `aws_access_key_id = ${key}\n` });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /aws-access-key-id/);
    assert.doesNotMatch(r.stdout, new RegExp(key));
    assert.equal(cordon(['scan', '-'], { input: 'hello world\n' }).status, 0);
    assert.equal(cordon(['scan', '/nonexistent/cordon-scan']).status, 2);
  });

  void it('policy schema prints the JSON Schema', () => {
    const r = cordon(['policy', 'schema']);
    assert.equal(r.status, 0);
    assert.equal((JSON.parse(r.stdout) as { title: string }).title, 'cordon policy');
  });
});
