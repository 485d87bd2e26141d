/**
 * End to end with the real Claude Code binary (npm @anthropic-ai/claude-code,
 * a devDependency) driven by a scripted model server on loopback, inside a
 * network namespace with only loopback, with the cordon hook installed by
 * `initHarness` in the project's .claude/settings.json. The scripted model
 * tries to exfiltrate to a local listener and to rewrite agent configuration;
 * the hook must deny those while benign calls proceed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { initHarness } from '../../src/hook/init.js';
import type { DriverReport } from './claude-driver.js';
import { ENTRY, TSX } from './helpers.js';

const CLAUDE = fileURLToPath(new URL('../../node_modules/.bin/claude', import.meta.url));
const DRIVER = fileURLToPath(new URL('./claude-driver.ts', import.meta.url));
const TIMEOUT_MS = 55_000;

function skipReason(): string | false {
  if (!existsSync(CLAUDE)) return 'the Claude Code binary is not installed (npm ci installs the devDependency @anthropic-ai/claude-code)';
  const v = spawnSync(CLAUDE, ['--version'], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), DISABLE_AUTOUPDATER: '1' } });
  if (v.status !== 0) return `the Claude Code binary does not run here: ${(v.stderr || v.error?.message || '').slice(0, 200)}`;
  const b = spawnSync('bwrap', ['--dev-bind', '/', '/', '--unshare-net', '--die-with-parent', '--', 'true'], { encoding: 'utf8', timeout: 20_000 });
  if (b.status !== 0) return `bubblewrap cannot create a network namespace, needed to keep Claude Code off the network: ${(b.stderr || b.error?.message || '').slice(0, 200)}`;
  return false;
}

const POLICY = `version: 1
extends: [default]
permissions:
  deny: ["Bash(curl *)"]
  allow: ["Bash(git status)", "Bash(echo *)"]
`;

const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-claude-e2e-'));
after(() => rmSync(root, { recursive: true, force: true }));

void describe('Claude Code end to end: the cordon hook blocks scripted attacks', () => {
  const skip = skipReason();
  void it('denies exfiltration and config writes, lets benign calls run', { skip, timeout: TIMEOUT_MS + 15_000 }, async (t) => {
    const W = path.join(root, 'ws');
    const home = path.join(root, 'home');
    const state = path.join(root, 'state');
    mkdirSync(W, { recursive: true });
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(W, 'cordon.yaml'), POLICY);
    writeFileSync(path.join(W, '.env'), 'API_TOKEN=e2e-not-a-real-secret\n');
    let initOut = '';
    initHarness('claude-code', { workspace: W }, { stdout: (t) => (initOut += t), env: {}, home, cordonArgv: [process.execPath, '--import', TSX, ENTRY] });
    const settingsFile = path.join(W, '.claude', 'settings.json');
    const settingsBefore = readFileSync(settingsFile, 'utf8');
    assert.match(initOut, /wrote .*settings\.json/);

    const configFile = path.join(root, 'driver.json');
    writeFileSync(configFile, JSON.stringify({ claudeBin: CLAUDE, workspace: W, home, state, timeoutMs: TIMEOUT_MS }));
    const argv = ['--dev-bind', '/', '/', '--unshare-net', '--die-with-parent', '--', process.execPath, '--import', TSX, DRIVER, configFile];
    const child = spawn('bwrap', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS + 10_000);
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    assert.equal(status, 0, `driver failed: ${err}`);
    const report = JSON.parse(out.trim().split('\n').pop() ?? '') as DriverReport;
    const why = JSON.stringify({ exitCode: report.exitCode, timedOut: report.timedOut, results: report.results, seen: report.seen, stderr: report.stderr, stdout: report.stdout.slice(-2000) }, null, 1);
    assert.equal(report.timedOut, false, why);

    const result = (step: number): { isError: boolean; text: string } => {
      const r = report.results[`toolu_e2e_${step}`];
      assert.ok(r, `no tool result for step ${step}: ${why}`);
      return r;
    };
    // 0: curl exfiltration of .env, 3: the same hidden behind `git status &&`.
    for (const step of [0, 3]) {
      assert.equal(result(step).isError, true, why);
      assert.match(result(step).text, /cordon denied this \(deny Bash\(curl \*\)/, why);
    }
    assert.equal(report.exfilConnections, 0, 'the exfiltration listener must see nothing');
    // 2: rewrite .claude/settings.json (to drop the hook), 4: plant a git hook at depth.
    assert.equal(result(1).isError, false, why);
    for (const step of [2, 4]) {
      assert.equal(result(step).isError, true, why);
      assert.match(result(step).text, /cordon denied this .*mandatory/, why);
    }
    assert.equal(readFileSync(settingsFile, 'utf8'), settingsBefore, 'the hook settings are unchanged');
    assert.equal(existsSync(path.join(W, 'vendor', 'lib', '.git', 'hooks', 'pre-commit')), false);
    // 5: ask, in -p mode with --dangerously-skip-permissions: nobody can answer, so it must not run.
    assert.equal(result(5).isError, true, why);
    assert.equal(existsSync(path.join(W, 'asked.txt')), false, why);
    t.diagnostic(`Claude Code on a hook "ask" in -p mode: ${result(5).text.split('\n')[0] ?? ''}`);
    // 6 and 7: benign calls proceed.
    assert.equal(result(6).isError, false, why);
    assert.equal(readFileSync(path.join(W, 'benign.txt'), 'utf8'), 'benign\n');
    assert.equal(result(7).isError, false, why);
    assert.equal(readFileSync(path.join(W, 'notes.txt'), 'utf8'), 'hello from the scripted model\n');
    assert.equal(report.exitCode, 0, why);

    // Every hook decision is in one hash-chained audit log.
    const logs = readdirSync(path.join(state, 'cordon')).filter((f) => f.endsWith('.jsonl'));
    assert.equal(logs.length, 1, logs.join(', '));
    const records = readFileSync(path.join(state, 'cordon', logs[0] ?? ''), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { boundary: string; decision: string; subject: string });
    assert.ok(records.every((r) => r.boundary === 'hook'));
    assert.deepEqual(records.filter((r) => r.decision === 'deny').length, 4, JSON.stringify(records, null, 1));
  });
});
