/** Unit tests of the hook's pure parts: patch files, Glob roots, answers, settings merge, shell quoting. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision } from '../policy/types.js';
import { hookAnswer, routedAnswer, strongest } from './answer.js';
import { patchedFiles } from './apply-patch.js';
import { commandLine, isCordonHookCommand, mergeHookSettings, shellQuote } from './settings.js';
import { globRoot } from './tools.js';

const d = (effect: Decision['effect'], reason = 'r.'): Decision => ({ effect, rules: [], reason, subject: 'Bash(x)', mandatory: false });

void describe('hook units', () => {
  void it('patchedFiles lists every added, updated, deleted and moved-to file once', () => {
    const patch = '*** Begin Patch\r\n*** Update File: a.ts\r\n*** Move to: b.ts\n*** Delete File: c.ts\n*** Add File: a.ts\n*** End Patch';
    assert.deepEqual(patchedFiles(patch), ['a.ts', 'b.ts', 'c.ts']);
    assert.throws(() => patchedFiles('echo hi'), /names no file/);
  });

  void it('globRoot stops at the first wildcard segment', () => {
    assert.equal(globRoot('**/*.ts', '/w'), '/w');
    assert.equal(globRoot('src/**/x', '/w'), '/w/src');
    assert.equal(globRoot('/etc/ssh/*_key', '/w'), '/etc/ssh');
    assert.equal(globRoot('../../etc/*', '/w/a/b'), '/w/etc');
    assert.equal(globRoot('~/.ssh/*', '/w'), '~/.ssh');
    assert.equal(globRoot('/*', '/w'), '/');
  });

  void it('strongest: deny beats ask beats allow', () => {
    assert.equal(strongest([d('allow'), d('ask'), d('deny'), d('ask')])?.effect, 'deny');
    assert.equal(strongest([d('allow'), d('ask')])?.effect, 'ask');
    assert.equal(strongest([]), undefined);
  });

  void it('hookAnswer: allow is no opinion unless asked for; ask is deny for codex; reasons show invisible characters', () => {
    assert.equal(hookAnswer(d('allow'), { harness: 'claude-code', answerAllow: false }), null);
    assert.equal(hookAnswer(d('allow'), { harness: 'claude-code', answerAllow: true })?.hookSpecificOutput.permissionDecision, 'allow');
    assert.equal(hookAnswer(d('ask'), { harness: 'claude-code', answerAllow: false })?.hookSpecificOutput.permissionDecision, 'ask');
    assert.equal(hookAnswer(d('ask'), { harness: 'codex', answerAllow: true })?.hookSpecificOutput.permissionDecision, 'deny');
    const a = hookAnswer(d('deny', 'cu\u200brl \u202eevil.'), { harness: 'claude-code', answerAllow: false });
    assert.match(a?.hookSpecificOutput.permissionDecisionReason ?? '', /cu\\u\{200b\}rl \\u\{202e\}evil\. This is a security policy/);
  });

  void it('codex: allow is never an answer (unsupported there); a routed approval prints nothing, everything else denies', () => {
    assert.equal(hookAnswer(d('allow'), { harness: 'codex', answerAllow: true }), null);
    assert.deepEqual(routedAnswer({ kind: 'approved', id: 'a_1', reason: 'ok' }, 'codex'), { keep: false, effect: 'allow', answer: null });
    const approved = routedAnswer({ kind: 'approved', id: 'a_1', reason: 'ok' }, 'claude-code');
    assert.equal(approved.keep ? undefined : approved.answer?.hookSpecificOutput.permissionDecision, 'allow');
    for (const harness of ['codex', 'claude-code'] as const) {
      const denied = routedAnswer({ kind: 'denied', reason: 'No answer within 2 s' }, harness);
      assert.equal(denied.keep ? undefined : denied.answer?.hookSpecificOutput.permissionDecision, 'deny');
      const notAsked = routedAnswer({ kind: 'not-asked', decision: 'deny', reason: 'no' }, harness);
      assert.equal(notAsked.keep ? undefined : notAsked.answer?.hookSpecificOutput.permissionDecision, 'deny');
      assert.deepEqual(routedAnswer({ kind: 'absent', reason: 'ENOENT' }, harness), { keep: true });
      assert.deepEqual(routedAnswer({ kind: 'not-asked', decision: 'allow', reason: 'allowed' }, harness), { keep: true });
    }
  });

  void it('shell quoting survives spaces and quotes', () => {
    assert.equal(shellQuote('/usr/bin/node'), '/usr/bin/node');
    assert.equal(shellQuote("/opt/my dir/it's.js"), `'/opt/my dir/it'\\''s.js'`);
    assert.equal(commandLine(['node', 'a b', 'hook', 'claude-code']), "node 'a b' hook claude-code");
    assert.ok(isCordonHookCommand("node '/x/main.js' hook claude-code"));
    assert.ok(!isCordonHookCommand('echo hook claude-codex'));
  });

  void it('mergeHookSettings adds to an empty file and refuses non-objects', () => {
    const entry = { matcher: '*', command: 'cordon hook claude-code', timeout: 30 };
    const { settings, replaced } = mergeHookSettings(undefined, entry, 'f');
    assert.equal(replaced, 0);
    assert.deepEqual(settings, { hooks: { PreToolUse: [{ matcher: '*', hooks: [{ type: 'command', command: 'cordon hook claude-code', timeout: 30 }] }] } });
    assert.throws(() => mergeHookSettings('x', entry, 'f'), /not a JSON object/);
    assert.throws(() => mergeHookSettings({ hooks: [] }, entry, 'f'), /documented hooks shape/);
  });
});
