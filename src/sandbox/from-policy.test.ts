/** The policy → sandbox compiler: its output is a valid spec, and it follows the rules. */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { policyFrom } from '../policy/test-helpers.js';
import { specFromPolicy } from './from-policy.js';
import { parseSandboxSpec } from './spec.js';

void describe('specFromPolicy', () => {
  void it('compiles the default profile into a valid spec that hides denied workspace files', () => {
    const { policy, workspace } = policyFrom('version: 1\n');
    mkdirSync(path.join(workspace, 'app', 'deep'), { recursive: true });
    writeFileSync(path.join(workspace, '.env'), 'X=1');
    writeFileSync(path.join(workspace, 'app', 'deep', '.env.local'), 'X=1');
    writeFileSync(path.join(workspace, 'app', 'main.ts'), '');
    const c = specFromPolicy(policy.loaded, policy.engine, { cwd: workspace, env: { PATH: '/usr/bin', GITHUB_TOKEN: 'ghp_' + 'x'.repeat(36), HOME: '/root' } });
    const spec = parseSandboxSpec(c.spec);
    assert.ok(spec.hidden.includes(path.join(workspace, '.env')));
    assert.ok(spec.hidden.includes(path.join(workspace, 'app', 'deep', '.env.local')));
    assert.ok(!spec.hidden.includes(path.join(workspace, 'app', 'main.ts')));
    assert.ok(spec.readOnly.includes('/usr'));
    assert.ok(!spec.readOnly.some((p) => p.startsWith('/root')));
    assert.equal(spec.env.GITHUB_TOKEN, undefined);
    assert.ok(c.removedEnv.includes('GITHUB_TOKEN'));
    assert.ok(spec.protectedNames.includes('.git/hooks') && spec.protectedNames.includes('CLAUDE.md'));
    assert.deepEqual(spec.network, { mode: 'none' });
  });

  void it('binds literal allow paths outside the workspace, never host /dev', () => {
    const { policy, workspace } = policyFrom('version: 1\npermissions:\n  allow: ["Read(//var/lib/**)", "Edit(//dev/null)"]\n');
    const c = specFromPolicy(policy.loaded, policy.engine, { cwd: workspace, env: {} });
    parseSandboxSpec(c.spec);
    assert.ok(c.spec.readOnly.includes('/var/lib'));
    assert.ok(!c.spec.readWrite.some((p) => p.startsWith('/dev')));
  });

  void it('a policy that denies a system directory removes it from the sandbox', () => {
    const { policy, workspace } = policyFrom('version: 1\npermissions:\n  deny: ["Read(//opt)"]\n');
    const c = specFromPolicy(policy.loaded, policy.engine, { cwd: workspace, env: {} });
    assert.ok(!c.spec.readOnly.some((p) => p === '/opt' || p.startsWith('/opt/')));
  });
});
