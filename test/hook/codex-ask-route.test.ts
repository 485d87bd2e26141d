/**
 * `cordon hook codex` routes an ask to cordon run's approvals, end to end: the
 * real hook runs INSIDE a real `cordon run` sandbox with real-shaped Codex
 * PreToolUse inputs (session_id, turn_id, transcript_path, model,
 * permission_mode, tool_use_id...) and submits through the ask-only
 * endpoint. Codex's PreToolUse supports only `deny`; an approved call is
 * answered with no output (exit 0), which lets Codex run it. A person outside
 * approves the Bash call (no output: it runs), denies the apply_patch call
 * (deny with the reason), and does not answer the third before the hook's
 * wait ends (deny; the approval is withdrawn). Without an endpoint the ask is
 * a deny, as before.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSessions, readKey } from '../../src/approval/client.js';
import { approvalWorld, runSkip, waitPending } from '../approval-helpers.js';
import { cordonAsync } from '../cli-helpers.js';
import { HOOK_CLI, hookEnv, runHookProcess } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A PreToolUse input shaped as Codex CLI sends it. */
function codexInput(cwd: string, toolName: string, toolInput: Record<string, unknown>, n: number): string {
  return JSON.stringify({
    session_id: '0199a213-81c0-7800-8aa1-bbab2a035a53',
    turn_id: `turn-${n}`,
    transcript_path: '/tmp/codex-rollout.jsonl',
    cwd,
    hook_event_name: 'PreToolUse',
    model: 'gpt-5-codex',
    permission_mode: 'default',
    tool_name: toolName,
    tool_use_id: `call_${n}`,
    tool_input: toolInput,
  });
}

/** Runs inside the sandbox: three hook calls a person answers (or does not). Prints one JSON line. */
const INSIDE = `
import { spawnSync } from 'node:child_process';
const hookArgv = JSON.parse(process.argv[2]);
const input = ${codexInput.toString()};
const hook = (tool, toolInput, n, wait) => {
  const r = spawnSync(process.execPath, [...hookArgv, 'hook', 'codex', '--ask-wait', wait], { input: input(process.cwd(), tool, toolInput, n), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.slice(0, 2000) };
};
const out = { sock: process.env.CORDON_ASK_SOCKET };
out.approved = hook('Bash', { command: 'touch approved.txt' }, 1, '60');
out.denied = hook('apply_patch', { command: '*** Begin Patch\\n*** Add File: gated/new.txt\\n+x\\n*** End Patch' }, 2, '60');
out.unanswered = hook('Bash', { command: 'touch nobody-answers.txt' }, 3, '2');
process.stdout.write(JSON.stringify(out) + '\\n');
`;

interface HookOut { status: number; stdout: string; stderr: string }

void describe('cordon hook codex routes ask to cordon run\'s approvals', { skip: runSkip }, () => {
  void it('inside the sandbox: approved -> no output (runs), denied -> deny, unanswered -> deny and withdrawn', { timeout: 180_000 }, async () => {
    const w = approvalWorld(9);
    writeFileSync(path.join(w.ws, 'cordon.yaml'), [
      'version: 1',
      'extends: [default]',
      'permissions:',
      '  ask: ["Bash(touch *)", "Edit(./gated/**)"]',
      `  allow: ["Net(127.0.0.1:9)", "Read(/${ROOT}**)"]`,
      'approvals: { ttl: 60s, channels: [web] }',
      '',
    ].join('\n'));
    writeFileSync(path.join(w.ws, 'inside.mjs'), INSIDE);
    const run = cordonAsync(['run', '--', 'node', 'inside.mjs', JSON.stringify(HOOK_CLI.argv)], w.ws, w.env);
    try {
      const [p1] = await waitPending(w.dir, 1, 120_000);
      assert.ok(p1);
      assert.equal(p1.boundary, 'hook');
      assert.equal(p1.request.kind, 'command');
      if (p1.request.kind === 'command') assert.equal(p1.request.command, 'touch approved.txt');
      const ok = await cordonAsync(['approvals', 'approve', p1.id], w.ws, w.env).done;
      assert.equal(ok.status, 0, ok.stderr);

      // The apply_patch call: exactly the tool and its whole input, denied through the session socket.
      const [p2] = await waitPending(w.dir, 1, 60_000);
      assert.ok(p2);
      assert.notEqual(p2.id, p1.id);
      assert.equal(p2.request.kind, 'tool');
      if (p2.request.kind === 'tool') {
        assert.equal(p2.request.tool, 'apply_patch');
        assert.match(p2.request.input, /Add File: gated\/new\.txt/);
      }
      const [s] = await openSessions(w.dir);
      assert.ok(s);
      await s.connection.answer(readKey(s.keyFile), { session: s.hello.session, id: p2.id, hash: p2.hash, verdict: 'deny', by: 'test' });

      // The third is pending while the hook waits (2 s), then withdrawn when it gives up.
      const [p3] = await waitPending(w.dir, 1, 60_000);
      assert.ok(p3);
      assert.notEqual(p3.id, p2.id);
      s.connection.close();

      const r = await run.done;
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { sock?: string; approved: HookOut; denied: HookOut; unanswered: HookOut };
      assert.ok(out.sock !== undefined && out.sock !== '', 'CORDON_ASK_SOCKET is set inside');
      // Approved: exit 0 and no output at all (Codex runs the call; an "allow" answer is unsupported in Codex).
      assert.equal(out.approved.status, 0, out.approved.stderr);
      assert.equal(out.approved.stdout, '');
      for (const [k, says] of [['denied', /cordon asked a person and the call is denied: Denied by a person \(test\)/], ['unanswered', /no answer from a person within \d+ s.*withdrawn/]] as const) {
        const h = out[k];
        assert.equal(h.status, 0, h.stderr);
        const a = JSON.parse(h.stdout) as { hookSpecificOutput: { hookEventName: string; permissionDecision: string; permissionDecisionReason: string } };
        assert.deepEqual(Object.keys(a), ['hookSpecificOutput']);
        assert.equal(a.hookSpecificOutput.hookEventName, 'PreToolUse');
        assert.equal(a.hookSpecificOutput.permissionDecision, 'deny', `${k}: ${h.stdout}`);
        assert.match(a.hookSpecificOutput.permissionDecisionReason, says, k);
      }
      // Nothing is left pending: the withdrawn approval is gone with the session.
      const left = await openSessions(w.dir);
      for (const x of left) x.connection.close();
      assert.equal(left.length, 0, 'the session ended');
    } finally {
      rmSync(w.root, { recursive: true, force: true });
    }
  });

  void it('no endpoint (the socket named does not exist): deny, as outside cordon run', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-codex-absent-'));
    try {
      const ws = path.join(root, 'ws');
      mkdirSync(ws);
      writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  ask: ["Bash(touch *)"]\n');
      const r = await runHookProcess(['hook', 'codex', '--workspace', ws], codexInput(ws, 'Bash', { command: 'touch a' }, 1), { cwd: ws, env: hookEnv(root, path.join(root, 'state'), { CORDON_ASK_SOCKET: path.join(root, 'none', 'ask.sock') }) });
      assert.equal(r.status, 0, r.stderr);
      const a = JSON.parse(r.stdout) as { hookSpecificOutput: { permissionDecision: string; permissionDecisionReason: string } };
      assert.equal(a.hookSpecificOutput.permissionDecision, 'deny');
      assert.match(a.hookSpecificOutput.permissionDecisionReason, /Codex hooks cannot ask/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
