/**
 * The real Claude Code binary inside the real `cordon run`, driven by the
 * scripted model server (reached through the egress proxy, the only
 * destination the policy allows), with the cordon hook installed by
 * `initHarness`. The model runs two Bash calls the policy asks about: the
 * hook (inside the sandbox) routes each to cordon's approval service; a
 * person approves the first (`cordon approvals approve`), and it runs; denies
 * the second, and it does not.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSessions, readKey } from '../../src/approval/client.js';
import { initHarness } from '../../src/hook/init.js';
import { approvalWorld, runSkip, waitPending } from '../approval-helpers.js';
import { cordonAsync } from '../cli-helpers.js';
import { ENTRY, TSX } from './helpers.js';
import { startModelServer } from './model-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLAUDE = path.join(ROOT, 'node_modules/.bin/claude');
const KEEP = ['ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY', 'IS_SANDBOX', 'DISABLE_AUTOUPDATER', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', 'DISABLE_TELEMETRY', 'DISABLE_ERROR_REPORTING'];

function skipReason(): string | false {
  if (runSkip !== false) return runSkip;
  if (!existsSync(CLAUDE)) return 'the Claude Code binary is not installed (npm ci installs the devDependency @anthropic-ai/claude-code)';
  const v = spawnSync(CLAUDE, ['--version'], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env['PATH'] ?? '', HOME: os.tmpdir(), DISABLE_AUTOUPDATER: '1' } });
  if (v.status !== 0) return `the Claude Code binary does not run here: ${(v.stderr || v.error?.message || '').slice(0, 200)}`;
  return false;
}

void describe('Claude Code under cordon run: a Bash call decided ask is approved through cordon', () => {
  const skip = skipReason();
  void it('approved by a person -> runs; denied -> does not', { skip, timeout: 240_000 }, async () => {
    const w = approvalWorld(9);
    const script = [
      { name: 'Bash', input: { command: 'touch approved-by-person.txt', description: 'first' } },
      { name: 'Bash', input: { command: 'touch denied-by-person.txt', description: 'second' } },
    ];
    const model = await startModelServer(script, 'All scripted steps are done.');
    try {
      const port = new URL(model.url).port;
      writeFileSync(path.join(w.ws, 'cordon.yaml'), [
        'version: 1',
        'extends: [default]',
        'permissions:',
        '  ask: ["Bash(touch *)"]',
        `  allow: ["Net(127.0.0.1:${port})", "Read(/${ROOT}**)"]`,
        'approvals: { ttl: 90s, channels: [web] }',
        '',
      ].join('\n'));
      const home = path.join(w.root, 'home');
      mkdirSync(home, { recursive: true });
      initHarness('claude-code', { workspace: w.ws }, { stdout: () => undefined, env: {}, home, cordonArgv: [process.execPath, '--import', TSX, ENTRY] });
      const env = {
        ...w.env, ANTHROPIC_BASE_URL: model.url, ANTHROPIC_API_KEY: 'e2e-placeholder', IS_SANDBOX: '1', DISABLE_AUTOUPDATER: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1',
      };
      const run = cordonAsync(['run', '--keep-env', ...KEEP, '--', CLAUDE, '-p', 'Follow the scripted steps.', '--dangerously-skip-permissions',
        '--output-format', 'json', '--model', 'claude-sonnet-4-5', '--max-turns', '6'], w.ws, env);
      const early = run.done.then((r) => {
        throw new Error(`cordon run ended before asking: ${r.status}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`);
      });
      early.catch(() => undefined);

      const [p1] = await Promise.race([waitPending(w.dir, 1, 180_000), early]);
      assert.ok(p1);
      assert.equal(p1.boundary, 'hook');
      assert.equal(p1.request.kind === 'command' ? p1.request.command : '', 'touch approved-by-person.txt');
      const ok = await cordonAsync(['approvals', 'approve', p1.id], w.ws, w.env).done;
      assert.equal(ok.status, 0, ok.stderr);

      const [p2] = await Promise.race([waitPending(w.dir, 1, 120_000), early]);
      assert.ok(p2);
      assert.equal(p2.request.kind === 'command' ? p2.request.command : '', 'touch denied-by-person.txt');
      const [s] = await openSessions(w.dir);
      assert.ok(s);
      await s.connection.answer(readKey(s.keyFile), { session: s.hello.session, id: p2.id, hash: p2.hash, verdict: 'deny', by: 'e2e' });
      s.connection.close();

      const r = await run.done;
      const why = JSON.stringify({ status: r.status, results: [...model.results.values()], seen: model.seen, stdout: r.stdout.slice(-2000), stderr: r.stderr.slice(-3000) }, null, 1);
      assert.equal(r.status, 0, why);
      assert.equal(existsSync(path.join(w.ws, 'approved-by-person.txt')), true, why);
      assert.equal(existsSync(path.join(w.ws, 'denied-by-person.txt')), false, why);
      const second = model.results.get('toolu_e2e_1');
      assert.ok(second, why);
      assert.equal(second.isError, true, why);
      assert.match(second.text, /Denied by a person \(e2e\)/, why);
      assert.equal(model.results.get('toolu_e2e_0')?.isError, false, why);
    } finally {
      await model.close();
      rmSync(w.root, { recursive: true, force: true });
    }
  });
});
