/** `cordon init claude-code|codex` through a real process: merge, backup, refusal, idempotence. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ENTRY, TSX } from './helpers.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-init-'));
after(() => rmSync(root, { recursive: true, force: true }));

function init(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, ENTRY, 'init', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: path.join(root, 'home'), ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Settings {
  model?: string;
  permissions?: unknown;
  hooks: Record<string, { matcher?: string; hooks: { type: string; command: string; timeout?: number }[] }[]>;
}

const read = (f: string): Settings => JSON.parse(readFileSync(f, 'utf8')) as Settings;

void describe('cordon init claude-code', () => {
  void it('merges into existing settings, keeps unrelated keys and hooks, backs up the old file', () => {
    const ws = path.join(root, 'merge');
    mkdirSync(path.join(ws, '.claude'), { recursive: true });
    const file = path.join(ws, '.claude', 'settings.json');
    const other = { matcher: 'Bash', hooks: [{ type: 'command', command: 'echo mine' }] };
    writeFileSync(file, JSON.stringify({ model: 'opus', permissions: { deny: ['Read(.env)'] }, hooks: { PreToolUse: [other], Stop: [{ hooks: [{ type: 'command', command: 'true' }] }] } }));
    const r = init(['claude-code', '--workspace', ws]);
    assert.equal(r.status, 0, r.stderr);
    const s = read(file);
    assert.equal(s.model, 'opus');
    assert.deepEqual(s.permissions, { deny: ['Read(.env)'] });
    assert.equal(s.hooks['Stop']?.length, 1);
    const pre = s.hooks['PreToolUse'] ?? [];
    assert.equal(pre.length, 2);
    assert.deepEqual(pre[1], other);
    assert.equal(pre[0]?.matcher, '*');
    assert.match(pre[0]?.hooks[0]?.command ?? '', /src\/cli\/main\.ts hook claude-code --ask-wait 170$/);
    assert.equal(pre[0]?.hooks[0]?.timeout, 180, 'the hook outlives its own bound on waiting for a person');
    const backups = readdirSync(path.join(ws, '.claude')).filter((f) => f.startsWith('settings.json.cordon-backup-'));
    assert.equal(backups.length, 1);
    assert.match(r.stdout, /previous file is saved as/);
    assert.match(r.stdout, /cordon run -- claude/);
  });

  void it('is idempotent: a second run replaces its own entry instead of adding one', () => {
    const ws = path.join(root, 'twice');
    mkdirSync(ws, { recursive: true });
    assert.equal(init(['claude-code', '--workspace', ws]).status, 0);
    const r = init(['claude-code', '--workspace', ws]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /replaced the earlier cordon hook/);
    assert.equal(read(path.join(ws, '.claude', 'settings.json')).hooks['PreToolUse']?.length, 1);
  });

  void it('--dry-run prints the result and writes nothing', () => {
    const ws = path.join(root, 'dry');
    mkdirSync(ws, { recursive: true });
    const r = init(['claude-code', '--workspace', ws, '--dry-run']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /would write .*\.claude\/settings\.json \(dry run/);
    assert.match(r.stdout, /"PreToolUse"/);
    assert.equal(existsSync(path.join(ws, '.claude')), false);
  });

  void it('refuses invalid JSON and an unexpected hooks shape, leaving the file alone', () => {
    const ws = path.join(root, 'bad');
    mkdirSync(path.join(ws, '.claude'), { recursive: true });
    const file = path.join(ws, '.claude', 'settings.json');
    for (const text of ['{"hooks": ', '{"hooks": {"PreToolUse": {"matcher": "*"}}}', '[1, 2]']) {
      writeFileSync(file, text);
      const r = init(['claude-code', '--workspace', ws]);
      assert.equal(r.status, 2, r.stdout);
      assert.match(r.stderr, /will not overwrite it/);
      assert.equal(readFileSync(file, 'utf8'), text);
    }
  });

  void it('--managed documents allowManagedHooksOnly (shown with --dry-run against a given file)', () => {
    const r = init(['claude-code', '--managed', '--dry-run', '--workspace', root]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /would write \/etc\/claude-code\/managed-settings\.json/);
    assert.match(r.stdout, /allowManagedHooksOnly/);
  });

  void it('warns when the hook command lives inside the workspace, where the agent can write', () => {
    const r = init(['claude-code', '--dry-run', '--workspace', path.resolve(path.dirname(ENTRY), '..', '..')]);
    assert.match(r.stdout, /is inside the workspace, where the agent can write/);
  });
});

void describe('cordon init codex', () => {
  void it('writes .codex/hooks.json with a Bash|apply_patch|mcp__ hook and explains trust', () => {
    const ws = path.join(root, 'codex');
    mkdirSync(ws, { recursive: true });
    const r = init(['codex', '--workspace', ws]);
    assert.equal(r.status, 0, r.stderr);
    const s = read(path.join(ws, '.codex', 'hooks.json'));
    assert.equal(s.hooks['PreToolUse']?.[0]?.matcher, 'Bash|apply_patch|mcp__.*');
    assert.match(s.hooks['PreToolUse']?.[0]?.hooks[0]?.command ?? '', /hook codex --ask-wait 170$/);
    assert.match(r.stdout, /trust the cordon hook/);
    assert.match(r.stdout, /cannot ask/);
  });

  void it('--user writes $CODEX_HOME/hooks.json; --managed is refused', () => {
    const codexHome = path.join(root, 'codex-home');
    assert.equal(init(['codex', '--user', '--workspace', root], { CODEX_HOME: codexHome }).status, 0);
    assert.ok(existsSync(path.join(codexHome, 'hooks.json')));
    const r = init(['codex', '--managed', '--workspace', root]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /requirements\.toml/);
  });
});
