/**
 * The hook as Claude Code runs it: one real process per tool call, the hook
 * JSON on stdin, the answer on stdout, exit 2 for anything it cannot decide.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyLog } from '../../src/audit/verify.js';
import { CASES, PROJECT_POLICY, type HookCase } from './cases.js';
import { hookEnv, runHookProcess } from './helpers.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-hook-'));
const W = path.join(root, 'ws');
const H = path.join(root, 'home');
const STATE = path.join(root, 'state');
const SESSION = 'c0ffee00-1111-4222-8333-444455556666';

function fill(v: unknown): unknown {
  if (typeof v === 'string') return v === 'W' ? W : v === 'H' ? H : v.replace(/^W\//, `${W}/`).replace(/^H\//, `${H}/`);
  if (Array.isArray(v)) return v.map(fill);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
  return v;
}

function stdinFor(c: HookCase): string | Buffer {
  if (c.raw) return c.raw(W, H);
  const cwd = c.cwd === undefined ? W : (fill(c.cwd) as string);
  return JSON.stringify({
    session_id: SESSION,
    transcript_path: path.join(H, '.claude', 'projects', 'x', `${SESSION}.jsonl`),
    cwd,
    permission_mode: 'default',
    hook_event_name: 'PreToolUse',
    tool_name: c.tool,
    tool_input: fill(c.input ?? {}),
    tool_use_id: 'toolu_01ABC',
  });
}

interface Answer {
  hookSpecificOutput: { hookEventName: string; permissionDecision: string; permissionDecisionReason: string };
}

before(() => {
  mkdirSync(path.join(W, 'src'), { recursive: true });
  mkdirSync(H, { recursive: true });
  writeFileSync(path.join(W, 'cordon.yaml'), PROJECT_POLICY);
});
after(() => rmSync(root, { recursive: true, force: true }));

void describe('cordon hook: real-shaped inputs through a real process', { concurrency: Math.max(2, os.availableParallelism()) }, () => {
  void it('has at least 40 cases', () => {
    assert.ok(CASES.length >= 40, `${CASES.length} cases`);
  });

  for (const c of CASES) {
    void it(`${c.name} -> ${c.expect}`, async () => {
      const args = ['hook', c.harness ?? 'claude-code', ...(c.args ?? [])];
      const extra = Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v) as string]));
      const r = await runHookProcess(args, stdinFor(c), { cwd: W, env: hookEnv(H, STATE, extra) });
      const where = `stdout=${r.stdout} stderr=${r.stderr}`;
      if (c.expect === 'error') {
        assert.equal(r.status, 2, where);
        assert.equal(r.stdout, '', 'an error never prints an answer');
        assert.match(r.stderr, /the tool call is blocked/);
        if (c.says) assert.match(r.stderr, c.says);
        return;
      }
      assert.equal(r.status, 0, where);
      if (c.expect === 'none') {
        assert.equal(r.stdout, '', where);
        return;
      }
      const a = JSON.parse(r.stdout) as Answer;
      assert.deepEqual(Object.keys(a), ['hookSpecificOutput']);
      assert.equal(a.hookSpecificOutput.hookEventName, 'PreToolUse');
      assert.equal(a.hookSpecificOutput.permissionDecision, c.expect, where);
      assert.ok(a.hookSpecificOutput.permissionDecisionReason.length > 20, where);
      if (c.says) assert.match(a.hookSpecificOutput.permissionDecisionReason, c.says);
    });
  }

  void it('refuses (exit 2) when stdin never closes, within the input timeout', async () => {
    const r = await runHookProcess(['hook', 'claude-code'], null, { cwd: W, env: hookEnv(H, STATE), timeoutMs: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /no complete hook input on stdin within 10000 ms/);
    assert.equal(r.stdout, '');
  });

  void it('refuses (exit 2) when the workspace policy is invalid, never falling back', async () => {
    const bad = path.join(root, 'bad-ws');
    mkdirSync(bad, { recursive: true });
    writeFileSync(path.join(bad, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: ["Bash(git status)", "Nett(x)"]\n');
    const input = JSON.stringify({ session_id: 'bad', cwd: bad, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'git status' } });
    const r = await runHookProcess(['hook', 'claude-code'], input, { cwd: bad, env: hookEnv(H, STATE) });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cordon\.yaml:3:.*Nett/);
  });
});

void describe('cordon hook: audit records', () => {
  void it('one hash-chained log per harness session, intact after concurrent hook processes', async () => {
    const dir = path.join(STATE, 'cordon');
    const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    assert.ok(files.length >= 1, 'the cases wrote a session log');
    for (const f of files) {
      const report = await verifyLog(path.join(dir, f));
      assert.ok(report.ok, JSON.stringify(report));
    }
    const decided = CASES.filter((c) => c.expect !== 'error' && c.tool !== 'TodoWrite' && c.tool !== 'WebSearch' && !c.raw).length;
    const total = (await Promise.all(files.map((f) => verifyLog(path.join(dir, f))))).reduce((n, r) => n + r.records, 0);
    assert.ok(total >= decided, `${total} records for ${decided} decided cases`);
  });
});
