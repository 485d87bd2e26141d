/** Sandbox plans: a plan survives JSON unchanged in meaning, files created after planning are still hidden, bad cache entries are misses. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { policyFrom } from '../policy/test-helpers.js';
import { isSandboxPlan, planFromPolicy, realizePlan } from './plan.js';
import { readPlan, writePlan } from './plan-cache.js';

void describe('sandbox plan', () => {
  void it('realized from its JSON form gives the same spec as from the policy', () => {
    const { policy, workspace } = policyFrom('version: 1\npermissions:\n  allow: ["Read(//var/lib/**)"]\n  deny: ["Read(./secrets/*.key)", "Read(./private)"]\n');
    mkdirSync(path.join(workspace, 'secrets'));
    writeFileSync(path.join(workspace, 'secrets', 'a.key'), 'k');
    writeFileSync(path.join(workspace, 'secrets', 'a.txt'), 't');
    mkdirSync(path.join(workspace, 'private'));
    const plan = planFromPolicy(policy.loaded, policy.engine);
    const opts = { cwd: workspace, env: { PATH: '/usr/bin', GITHUB_TOKEN: 'ghp_' + 'x'.repeat(36) } };
    const direct = realizePlan(plan, opts);
    const revived = JSON.parse(JSON.stringify(plan)) as unknown;
    assert.ok(isSandboxPlan(revived));
    assert.deepEqual(realizePlan(revived, opts), direct);
    assert.ok(direct.spec.hidden.includes(path.join(workspace, 'secrets', 'a.key')));
    assert.ok(direct.spec.hidden.includes(path.join(workspace, 'private')));
    assert.ok(!direct.spec.hidden.includes(path.join(workspace, 'secrets', 'a.txt')));
    assert.ok(direct.spec.readOnly.includes('/var/lib'));
  });

  void it('hides denied files created after the plan was made (the walk runs at every start)', () => {
    const { policy, workspace } = policyFrom('version: 1\n');
    const plan = planFromPolicy(policy.loaded, policy.engine);
    const before = realizePlan(plan, { cwd: workspace, env: {} });
    assert.ok(!before.spec.hidden.some((p) => p.endsWith('.env')));
    mkdirSync(path.join(workspace, 'deep', 'er'), { recursive: true });
    writeFileSync(path.join(workspace, 'deep', 'er', '.env'), 'X=1');
    const after = realizePlan(plan, { cwd: workspace, env: {} });
    assert.ok(after.spec.hidden.includes(path.join(workspace, 'deep', 'er', '.env')));
  });

  void it('a network rule gives the plan the proxy', () => {
    const none = policyFrom('version: 1\n');
    const net = policyFrom('version: 1\npermissions:\n  allow: ["Net(registry.npmjs.org)"]\n');
    assert.equal(planFromPolicy(none.policy.loaded, none.policy.engine).allowsNetwork, false);
    assert.equal(planFromPolicy(net.policy.loaded, net.policy.engine).allowsNetwork, true);
  });

  void it('the cache returns what was written under the same key only, and treats malformed entries as misses', () => {
    const { policy } = policyFrom('version: 1\n');
    const plan = planFromPolicy(policy.loaded, policy.engine);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-plan-'));
    const key = 'a'.repeat(64);
    assert.equal(readPlan(key, dir), null);
    writePlan(key, plan, dir);
    assert.deepEqual(readPlan(key, dir), JSON.parse(JSON.stringify(plan)));
    assert.equal(readPlan('b'.repeat(64), dir), null);
    for (const bad of ['{', '[]', JSON.stringify({ format: 1, key, plan: { ...plan, readOnly: 'x' } }), JSON.stringify({ format: 99, key, plan })]) {
      writeFileSync(path.join(dir, `plan-${key}.json`), bad);
      assert.equal(readPlan(key, dir), null, bad.slice(0, 40));
    }
    assert.equal(isSandboxPlan({ ...plan, workspace: 'relative' }), false);
    assert.equal(isSandboxPlan({ ...plan, hideAnyDepth: [{ source: 1, flags: '' }] }), false);
  });
});
