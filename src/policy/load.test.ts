/** Loading: positioned errors that say what to do, scopes, lockdown, Claude Code settings. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PolicyError } from '../errors.js';
import { Policy } from './policy.js';
import { policyFrom, tempDirs } from './test-helpers.js';

function problemsOf(yaml: string, name = 'cordon.yaml'): string[] {
  try {
    policyFrom(yaml, name);
  } catch (e) {
    assert.ok(e instanceof PolicyError, `expected PolicyError, got ${String(e)}`);
    return e.message.split('\n').map((l) => l.replace(/^.*\/(cordon\.yaml|settings\.json)/, '$1'));
  }
  assert.fail('expected the policy to be rejected');
}

void describe('positioned policy errors', () => {
  void it('unknown rule kind, with a suggestion', () => {
    const p = problemsOf('version: 1\npermissions:\n  allow:\n    - "Read(./**)"\n    - "Edit(./**)"\n    - "Bash(ls)"\n    - "Nett(example.com)"\n');
    assert.deepEqual(p, ["cordon.yaml:7:7: permissions.allow[3]: unknown rule kind 'Nett'; did you mean 'Net'?"]);
  });
  void it('unknown key, with a suggestion', () => {
    const p = problemsOf('version: 1\npermisions:\n  allow: []\n');
    assert.match(p[0] ?? '', /^cordon\.yaml:2:\d+: unknown key 'permisions'; did you mean 'permissions'\?$/);
  });
  void it('YAML syntax error', () => {
    const p = problemsOf('version: 1\npermissions:\n  allow: [\n');
    assert.match(p[0] ?? '', /^cordon\.yaml:\d+:\d+: YAML syntax error/);
  });
  void it('wrong version', () => {
    const p = problemsOf('version: 2\n');
    assert.match(p[0] ?? '', /^cordon\.yaml:1:10: version: must be one of 1/);
  });
  void it('missing version', () => {
    const p = problemsOf('permissions: {}\n');
    assert.match(p[0] ?? '', /version.*required/);
  });
  void it('a rule that is not a string', () => {
    const p = problemsOf('version: 1\npermissions:\n  deny:\n    - 42\n');
    assert.match(p[0] ?? '', /^cordon\.yaml:4:7: permissions\.deny\[0\]: expected a rule string/);
  });
  void it('bad Net port and bad Http rule', () => {
    const p = problemsOf('version: 1\npermissions:\n  allow:\n    - "Net(example.com:99999)"\n    - "Http(example.com)"\n');
    assert.equal(p.length, 2);
    assert.match(p[0] ?? '', /:4:7: .*port 99999 is out of range/);
    assert.match(p[1] ?? '', /:5:7: .*write Http\(METHOD host\/path\)/);
  });
  void it('lockdown outside the managed scope', () => {
    const p = problemsOf('version: 1\nlockdown: true\n');
    assert.match(p[0] ?? '', /^cordon\.yaml:2:1: lockdown: 'lockdown' is allowed only in the managed policy/);
  });
  void it('duplicate keys', () => {
    const p = problemsOf('version: 1\nversion: 1\n');
    assert.match(p[0] ?? '', /^cordon\.yaml:\d+:\d+: YAML syntax error: Map keys must be unique/);
  });
  void it('args on a non-MCP rule', () => {
    const p = problemsOf('version: 1\npermissions:\n  deny:\n    - rule: "Read(x)"\n      args: { path: { glob: "*" } }\n');
    assert.match(p[0] ?? '', /only to mcp__server__tool rules/);
  });
  void it('several problems are all reported', () => {
    const p = problemsOf('version: 1\npermissions:\n  allow: ["Nope(x)", "Read()", "Bash(ls)", "Net(a..b)"]\n');
    assert.equal(p.length, 2, p.join('\n'));
  });
  void it('a missing --policy file is an error, never an empty policy', () => {
    const { workspace, home } = tempDirs();
    assert.throws(() => Policy.load({ workspace, home, managedFile: null, userFile: null, projectFile: null, files: [path.join(workspace, 'nope.yaml')] }),
      (e: unknown) => e instanceof Error && 'code' in e && e.code === 'CORDON_POLICY_NOT_FOUND');
  });
});

void describe('scopes', () => {
  void it('deny from a weaker scope wins over allow from a stronger one', async () => {
    const { root, workspace, home } = tempDirs();
    const managed = path.join(root, 'managed.yaml');
    writeFileSync(managed, 'version: 1\npermissions:\n  allow: ["Net(example.com)"]\n');
    writeFileSync(path.join(workspace, 'cordon.yaml'), 'version: 1\npermissions:\n  deny: ["Net(example.com)"]\n');
    const p = Policy.load({ workspace, home, managedFile: managed, userFile: null });
    const d = await p.explain('Net(example.com:443)');
    assert.equal(d.effect, 'deny');
    assert.equal(d.rules[0]?.origin.scope, 'project');
  });
  void it('lockdown ignores lower-scope allow rules but keeps their denies', async () => {
    const { root, workspace, home } = tempDirs();
    const managed = path.join(root, 'managed.yaml');
    writeFileSync(managed, 'version: 1\nlockdown: true\npermissions:\n  allow: ["Net(a.example)"]\n');
    writeFileSync(path.join(workspace, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: ["Net(b.example)"]\n  deny: ["Net(a.example)"]\n');
    const p = Policy.load({ workspace, home, managedFile: managed, userFile: null });
    assert.equal((await p.explain('Net(b.example:443)')).effect, 'deny');
    assert.equal((await p.explain('Net(a.example:443)')).effect, 'deny');
    assert.equal(p.loaded.lockdown, true);
  });
  void it('managed mandatory additions cannot be lifted', async () => {
    const { root, workspace, home } = tempDirs();
    const managed = path.join(root, 'managed.yaml');
    writeFileSync(managed, 'version: 1\nmandatory:\n  deny: ["Net(*.corp-secrets.example)"]\n');
    writeFileSync(path.join(workspace, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: ["Net(*)"]\n');
    const d = await Policy.load({ workspace, home, managedFile: managed, userFile: null }).explain('Net(x.corp-secrets.example:443)');
    assert.equal(d.effect, 'deny');
    assert.equal(d.mandatory, true);
  });
  void it('the default profile applies when nothing says otherwise', async () => {
    const { workspace, home } = tempDirs();
    const p = Policy.load({ workspace, home, managedFile: null, userFile: null, projectFile: null });
    assert.deepEqual(p.loaded.profiles, ['default']);
    assert.equal((await p.explain('Read(./src/index.ts)')).effect, 'allow');
    assert.equal((await p.explain('Read(~/.aws/credentials)')).effect, 'deny');
    assert.equal((await p.explain('Edit(./.envrc)')).effect, 'deny');
  });
  void it('an unknown --profile is a usage error', () => {
    const { workspace, home } = tempDirs();
    assert.throws(() => Policy.load({ workspace, home, managedFile: null, userFile: null, projectFile: null, profile: 'strictest' }), /unknown profile 'strictest'/);
  });
});

void describe('Claude Code settings.json', () => {
  void it('loads its permissions block unchanged', async () => {
    const { policy } = policyFrom(JSON.stringify({
      model: 'x', env: { A: '1' }, hooks: {},
      permissions: { allow: ['Bash(npm run test:*)', 'WebFetch(domain:docs.example)', 'Glob'], deny: ['Read(./.env)'], defaultMode: 'default', additionalDirectories: [] },
    }, null, 2), 'settings.json');
    assert.equal((await policy.explain('Bash(npm run test -- --watch)')).effect, 'allow');
    assert.equal((await policy.explain('Read(./.env)')).effect, 'deny');
    assert.equal(policy.loaded.sources[0]?.format, 'claude-settings');
    assert.equal(policy.loaded.warnings.length, 1, 'Glob is accepted with a warning');
  });
  void it('a bad rule in settings.json is positioned', () => {
    const p = problemsOf('{\n  "permissions": {\n    "allow": ["Bsh(ls)"]\n  }\n}\n', 'settings.json');
    assert.match(p[0] ?? '', /^settings\.json:3:15: permissions\.allow\[0\]: unknown rule kind 'Bsh'; did you mean 'Bash'\?/);
  });
});
