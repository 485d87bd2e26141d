/** Sandbox plans: a plan survives JSON unchanged in meaning, files created after planning are still hidden, bad cache entries are misses. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { policyFrom } from '../policy/test-helpers.js';
import { isSandboxPlan, planFromPolicy, realizePlan } from './plan.js';
import { fastNameHash } from '../policy/cache-key.js';
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

  void it('any-depth rules tested on names (joined per base) hide exactly what their full regexes match', () => {
    for (const extra of ['', ', "Read(**)"']) {
    const { policy, workspace } = policyFrom(`version: 1\npermissions:\n  deny: ["Read(*.pem)", "Read(id_*)", "Read(secrets/)", "Read(./sub/**/x.key)"${extra}]\n`);
    const plan = planFromPolicy(policy.loaded, policy.engine);
    assert.ok(plan.hideAnyDepth.some((h) => h.name !== undefined), 'some rules have a name test');
    const files = ['a.pem', 'd/b.pem', 'd/e/id_rsa', 'd/secrets/k', 'sub/x.key', 'sub/d/x.key', 'x.key', 'd/ok.txt', 'pem', 'd/.env', 'n/id_/x'];
    for (const f of files) {
      mkdirSync(path.dirname(path.join(workspace, f)), { recursive: true });
      writeFileSync(path.join(workspace, f), 'x');
    }
    const hidden = new Set(realizePlan(plan, { cwd: workspace, env: {} }).spec.hidden.filter((p) => p.startsWith(`${workspace}/`)));
    // The same walk with every rule's full regex: the reference.
    const full = plan.hideAnyDepth.map((h) => new RegExp(h.regex.source, h.regex.flags));
    const expected = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (full.some((re) => re.test(p))) expected.add(p);
        else if (e.isDirectory()) walk(p);
      }
    };
    walk(workspace);
    assert.deepEqual([...hidden].sort(), [...expected].sort());
    const want = extra === '' ? ['a.pem', 'd/b.pem', 'd/e/id_rsa', 'd/secrets', 'sub/d/x.key', 'n/id_'] : ['a.pem', 'd', 'n', 'sub'];
    for (const f of want) assert.ok(hidden.has(path.join(workspace, f)), f);
    }
  });

  void it('a deny rule crossing directories below an allowed directory outside the workspace hides its matches there', () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'cordon-data-'));
    for (const f of ['a/b/x.key', 'a/y.key', 'a/ok.txt', 'x.key']) {
      mkdirSync(path.dirname(path.join(outside, f)), { recursive: true });
      writeFileSync(path.join(outside, f), 'k');
    }
    const { policy, workspace } = policyFrom(`version: 1\npermissions:\n  allow: ["Read(/${outside}/**)"]\n  deny: ["Read(/${outside}/a/**/*.key)"]\n`);
    const plan = planFromPolicy(policy.loaded, policy.engine);
    assert.ok(plan.extraReadOnly.includes(outside), 'the allowed directory is bound');
    const hidden = realizePlan(plan, { cwd: workspace, env: {} }).spec.hidden;
    assert.ok(hidden.includes(path.join(outside, 'a/b/x.key')));
    assert.ok(hidden.includes(path.join(outside, 'a/y.key')));
    assert.ok(!hidden.includes(path.join(outside, 'a/ok.txt')));
    assert.ok(!hidden.includes(path.join(outside, 'x.key')), 'outside the rule\'s prefix');
    // Not bound: nothing to hide, nothing walked.
    const { policy: p2, workspace: w2 } = policyFrom(`version: 1\npermissions:\n  deny: ["Read(/${outside}/a/**/*.key)"]\n`);
    assert.equal(realizePlan(planFromPolicy(p2.loaded, p2.engine), { cwd: w2, env: {} }).spec.hidden.filter((h) => h.startsWith(outside)).length, 0);
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

  void it('hides a matching entry of a listed directory only when it is mounted (each hide is a mount)', () => {
    const { policy, workspace } = policyFrom('version: 1\npermissions:\n  deny: ["Read(./conf/*.key)"]\n');
    mkdirSync(path.join(workspace, 'conf'));
    writeFileSync(path.join(workspace, 'conf', 'a.key'), 'k');
    const plan = planFromPolicy(policy.loaded, policy.engine);
    const inWorkspace = realizePlan(plan, { cwd: workspace, env: {} });
    assert.ok(inWorkspace.spec.hidden.includes(path.join(workspace, 'conf', 'a.key')));
    // /etc is bound file by file: /etc/shadow is not in the sandbox, so it needs no mount to hide it.
    const etc = realizePlan({ ...plan, hideInDir: [{ dir: '/etc', regex: { source: '^\\/etc\\/shadow[^/]*$', flags: 'su' } }] }, { cwd: workspace, env: {} });
    assert.ok(!etc.spec.hidden.some((p) => p.startsWith('/etc/shadow')), etc.spec.hidden.join(' '));
  });

  void it('a network rule gives the plan the proxy', () => {
    const none = policyFrom('version: 1\n');
    const net = policyFrom('version: 1\npermissions:\n  allow: ["Net(registry.npmjs.org)"]\n');
    assert.equal(planFromPolicy(none.policy.loaded, none.policy.engine).allowsNetwork, false);
    assert.equal(planFromPolicy(net.policy.loaded, net.policy.engine).allowsNetwork, true);
  });

  void it('the cache returns a plan only for the very same key material, and treats malformed entries and name collisions as misses', () => {
    const { policy } = policyFrom('version: 1\n');
    const plan = planFromPolicy(policy.loaded, policy.engine);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cordon-plan-'));
    const material = Buffer.from('policy inputs, byte for byte');
    const policyKey = 'a'.repeat(64);
    assert.equal(readPlan(material, dir), null);
    writePlan(material, policyKey, plan, dir);
    assert.deepEqual(readPlan(material, dir), { policyKey, plan: JSON.parse(JSON.stringify(plan)) as unknown });
    assert.equal(readPlan(Buffer.from('policy inputs, byte for bytE'), dir), null);
    const file = path.join(dir, `plan-${fastNameHash(material)}.json`);
    const good = { format: 6, material: material.toString('base64'), policyKey, plan };
    // A file under the right name whose material differs (a hash collision, or a planted entry) is a miss.
    const other = { ...good, material: Buffer.from('other inputs').toString('base64') };
    for (const bad of ['{', '[]', JSON.stringify(other), JSON.stringify({ ...good, plan: { ...plan, readOnly: 'x' } }), JSON.stringify({ ...good, format: 99 }),
      JSON.stringify({ ...good, policyKey: '../../x' })]) {
      writeFileSync(file, bad);
      assert.equal(readPlan(material, dir), null, bad.slice(0, 60));
    }
    writeFileSync(file, JSON.stringify(good));
    assert.notEqual(readPlan(material, dir), null, 'the well-formed entry is read (the cases above fail for their own reason)');
    assert.equal(isSandboxPlan({ ...plan, workspace: 'relative' }), false);
    assert.equal(isSandboxPlan({ ...plan, hideAnyDepth: [{ source: 1, flags: '' }] }), false);
    assert.equal(isSandboxPlan({ ...plan, hideAnyDepth: [{ regex: { source: 'a', flags: '' } }] }), false, 'an any-depth rule without its base');
    assert.equal(isSandboxPlan({ ...plan, hideAnyDepth: [{ regex: { source: 'a', flags: '' }, base: '/w', name: 'a' }] }), false, 'a name test that is no regex');
    assert.equal(isSandboxPlan({ ...plan, hideAnyDepth: [{ regex: { source: 'a', flags: '' }, base: '/w', name: { source: '^a$', flags: 'su' } }] }), true);
  });
});
