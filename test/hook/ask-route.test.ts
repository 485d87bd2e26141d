/**
 * The hook's ask routed to cordon's approval service, end to end: the real
 * `cordon hook claude-code` runs INSIDE a real `cordon run` sandbox (as Claude
 * Code starts it there) and submits through the ask-only endpoint; a person
 * outside approves (`cordon approvals approve`) and the hook answers allow,
 * or denies through the session socket and the hook answers deny. From
 * inside, the endpoint refuses to list, watch or answer, and a call the
 * session's policy denies is not asked at all (nothing becomes pending).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSessions, readKey } from '../../src/approval/client.js';
import { approvalWorld, runSkip, waitPending } from '../approval-helpers.js';
import { cordonAsync } from '../cli-helpers.js';
import { HOOK_CLI, hookEnv, runHookProcess } from './helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs inside the sandbox: the probes of the endpoint first, then the two hook calls a person answers. Prints one JSON line. */
const INSIDE = `
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
const sock = process.env.CORDON_ASK_SOCKET;
const hookArgv = JSON.parse(process.argv[2]);
const probe = (line) => new Promise((resolve) => {
  const s = connect(sock);
  let got = '';
  s.setEncoding('utf8');
  s.on('connect', () => s.write(line + '\\n'));
  s.on('data', (d) => (got += d));
  s.on('close', () => resolve(got.trim()));
  s.on('error', (e) => resolve('error ' + e.code));
});
const hook = (command) => {
  const input = JSON.stringify({ session_id: 'ask-route', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command }, cwd: process.cwd() });
  const r = spawnSync(process.execPath, [...hookArgv, 'hook', 'claude-code', '--ask-wait', '60'], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr.slice(0, 2000) };
};
const out = { sock };
out.list = await probe('{"type":"list"}');
out.watch = await probe('{"type":"watch"}');
out.answer = await probe(JSON.stringify({ type: 'answer', id: 'a_000000000000', hash: '0'.repeat(64), verdict: 'approve', by: 'agent', mac: '0'.repeat(64) }));
out.denyAsk = await probe(JSON.stringify({ type: 'ask', tool_name: 'Bash', tool_input: { command: 'curl http://x' }, cwd: process.cwd() }));
out.twice = await probe(JSON.stringify({ type: 'ask', tool_name: 'Bash', tool_input: { command: 'touch x' }, cwd: process.cwd() }) + '\\n{"type":"list"}');
out.approved = hook('touch approved.txt');
out.denied = hook('touch denied.txt');
process.stdout.write(JSON.stringify(out) + '\\n');
`;

void describe('cordon hook claude-code routes ask to cordon run\'s approvals', { skip: runSkip }, () => {
  void it('inside the sandbox: approved -> allow, denied -> deny; the endpoint can only submit', { timeout: 180_000 }, async () => {
    const w = approvalWorld(9);
    // Network (a Net allow) so that cordon run starts its approval service; the hook's code is readable inside.
    writeFileSync(path.join(w.ws, 'cordon.yaml'), [
      'version: 1',
      'extends: [default]',
      'permissions:',
      '  ask: ["Bash(touch *)"]',
      '  deny: ["Bash(curl *)"]',
      `  allow: ["Net(127.0.0.1:9)", "Read(/${ROOT}**)"]`,
      'approvals: { ttl: 60s, channels: [web] }',
      '',
    ].join('\n'));
    writeFileSync(path.join(w.ws, 'inside.mjs'), INSIDE);
    const run = cordonAsync(['run', '--', 'node', 'inside.mjs', JSON.stringify(HOOK_CLI.argv)], w.ws, w.env);
    try {
      // The first hook call: exactly the command, its cwd and executable, computed by the supervisor.
      const [p1] = await waitPending(w.dir, 1, 120_000);
      assert.ok(p1);
      assert.equal(p1.boundary, 'hook');
      assert.equal(p1.request.kind, 'command');
      if (p1.request.kind === 'command') {
        assert.equal(p1.request.command, 'touch approved.txt');
        assert.equal(p1.request.cwd, w.ws);
        assert.ok(p1.request.executable !== null && p1.request.executable.endsWith('/touch'), String(p1.request.executable));
        assert.equal(p1.request.executableSha256, createHash('sha256').update(readFileSync(p1.request.executable ?? '')).digest('hex'));
      }
      const ok = await cordonAsync(['approvals', 'approve', p1.id], w.ws, w.env).done;
      assert.equal(ok.status, 0, ok.stderr);

      // The second: denied by a person through the session socket.
      const [p2] = await waitPending(w.dir, 1, 60_000);
      assert.ok(p2);
      assert.notEqual(p2.id, p1.id);
      const [s] = await openSessions(w.dir);
      assert.ok(s);
      await s.connection.answer(readKey(s.keyFile), { session: s.hello.session, id: p2.id, hash: p2.hash, verdict: 'deny', by: 'test' });
      s.connection.close();

      const r = await run.done;
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown> & {
        approved: { status: number; stdout: string; stderr: string }; denied: { status: number; stdout: string; stderr: string };
        list: string; watch: string; answer: string; twice: string; denyAsk: string;
      };
      // The endpoint only submits: list, watch and answer are refused; a second message on a connection is refused.
      for (const k of ['list', 'watch', 'answer'] as const) assert.match(out[k], /"code":"refused".*cannot list, watch or answer/, `${k}: ${out[k]}`);
      assert.match(out.twice, /"code":"refused".*one ask per connection/, out.twice);
      // A call the session's policy denies is not asked (no approval was created for it).
      assert.match(out.denyAsk, /"type":"not-asked","decision":"deny"/, out.denyAsk);
      const approved = JSON.parse(out.approved.stdout) as { hookSpecificOutput: { permissionDecision: string; permissionDecisionReason: string } };
      assert.equal(out.approved.status, 0, out.approved.stderr);
      assert.equal(approved.hookSpecificOutput.permissionDecision, 'allow');
      assert.match(approved.hookSpecificOutput.permissionDecisionReason, /A person approved exactly this call/);
      const denied = JSON.parse(out.denied.stdout) as { hookSpecificOutput: { permissionDecision: string; permissionDecisionReason: string } };
      assert.equal(denied.hookSpecificOutput.permissionDecision, 'deny');
      assert.match(denied.hookSpecificOutput.permissionDecisionReason, /Denied by a person \(test\)/);
    } finally {
      rmSync(w.root, { recursive: true, force: true });
    }
  });

  void it('no endpoint (the socket named does not exist): the plain ask to Claude Code\'s prompt, as outside cordon run', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-ask-absent-'));
    try {
      const ws = path.join(root, 'ws');
      mkdirSync(ws);
      writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  ask: ["Bash(touch *)"]\n');
      const input = JSON.stringify({ session_id: 'absent', hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'touch a' }, cwd: ws });
      const r = await runHookProcess(['hook', 'claude-code', '--workspace', ws], input, { cwd: ws, env: hookEnv(root, path.join(root, 'state'), { CORDON_ASK_SOCKET: path.join(root, 'none', 'ask.sock') }) });
      assert.equal(r.status, 0, r.stderr);
      const a = JSON.parse(r.stdout) as { hookSpecificOutput: { permissionDecision: string } };
      assert.equal(a.hookSpecificOutput.permissionDecision, 'ask');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
