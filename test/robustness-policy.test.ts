/**
 * Hostile and broken policy files through the real CLI (`cordon policy check`, `--policy F`, a
 * managed policy, the hook): every one is refused with the file, a position where there is one and
 * what to do; none hangs (a FIFO, /dev/zero), none is silently dropped (a dangling managed link).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC_BIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-robust-policy-'));
const W = path.join(root, 'ws');
const H = path.join(root, 'home');
const f = (name: string): string => path.join(root, name);

function cordon(args: readonly string[], env: NodeJS.ProcessEnv = {}, input = ''): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t = Date.now();
  const r = spawnSync(process.execPath, ['--import', TSX, SRC_BIN, ...args], {
    cwd: W,
    env: { ...process.env, HOME: H, XDG_STATE_HOME: path.join(root, 'state'), CORDON_MANAGED_POLICY: '/nonexistent/m.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg', ...env },
    input,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t };
}

const STACK = /RangeError|TypeError|\n\s+at .+:\d+:\d+/;

function bomb(): string {
  const lines = ['version: 1', 'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(',')}]`);
  return `${lines.join('\n')}\n`;
}

const FILES: Record<string, string> = {
  'bomb.yaml': bomb(),
  'typo.yaml': 'version: 1\npermisions:\n  deny: ["Bash(curl *)"]\n',
  'nul-rule.yaml': 'version: 1\npermissions:\n  deny: ["Bash(curl\\u0000 *)"]\n',
  'bidi-rule.yaml': 'version: 1\npermissions:\n  deny: ["Bash(cu\\u202erl *)"]\n',
  'string-not-list.yaml': 'version: 1\npermissions:\n  deny: "Bash(curl *)"\n',
  'empty.yaml': '',
  'deep.yaml': `version: 1\nx: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`,
  'dupkey.yaml': 'version: 1\npermissions:\n  deny: ["Bash(curl *)"]\npermissions:\n  allow: ["Bash(*)"]\n',
  'multi.yaml': 'version: 1\n---\npermissions:\n  allow: ["Bash(*)"]\n',
  'huge.yaml': `version: 1\npermissions:\n  allow:\n${'    - "Read(./aaaaaaaaaaaa)"\n'.repeat(60_000)}`,
  'version-2.yaml': 'version: 2\n',
  'ok.yaml': 'version: 1\n',
};

interface Case { readonly name: string; readonly file: () => string; readonly says: RegExp }

const CASES: readonly Case[] = [
  { name: 'a billion-laughs alias bomb', file: () => f('bomb.yaml'), says: /bomb\.yaml:1:1: .*(alias|resource exhaustion)/ },
  { name: 'a typo in a top-level key', file: () => f('typo.yaml'), says: /typo\.yaml:2:1: unknown key 'permisions'; did you mean 'permissions'\?/ },
  { name: 'a NUL in a rule', file: () => f('nul-rule.yaml'), says: /nul-rule\.yaml:3:\d+: .*control, invisible or bidi/ },
  { name: 'a bidi override in a rule', file: () => f('bidi-rule.yaml'), says: /bidi-rule\.yaml:3:\d+: .*control, invisible or bidi/ },
  { name: 'a string where a list is due', file: () => f('string-not-list.yaml'), says: /string-not-list\.yaml:3:\d+: permissions\.deny: expected array/ },
  { name: 'an empty file', file: () => f('empty.yaml'), says: /empty\.yaml:1:1: .*version: 1/ },
  { name: 'flow nesting 50k deep', file: () => f('deep.yaml'), says: /deep\.yaml:\d+:\d+: .*nests too deeply/ },
  { name: 'a duplicated key', file: () => f('dupkey.yaml'), says: /dupkey\.yaml:\d+:\d+: .*unique/ },
  { name: 'two YAML documents', file: () => f('multi.yaml'), says: /multi\.yaml:\d+:\d+: .*one document/ },
  { name: 'a file over 1 MiB', file: () => f('huge.yaml'), says: /huge\.yaml:1:1: file is larger than 1048576 bytes/ },
  { name: 'an unknown version', file: () => f('version-2.yaml'), says: /version-2\.yaml:1:\d+: .*version/ },
  { name: 'a FIFO', file: () => f('fifo.yaml'), says: /fifo\.yaml: is not a regular file/ },
  { name: '/dev/zero', file: () => '/dev/zero', says: /\/dev\/zero: is not a regular file/ },
  { name: 'a directory', file: () => W, says: /is a directory/ },
  { name: 'a dangling symbolic link', file: () => f('dangling.yaml'), says: /dangling\.yaml: is a symbolic link to a file that does not exist/ },
  { name: 'a missing file', file: () => f('missing.yaml'), says: /missing\.yaml: no such policy file/ },
];

before(() => {
  mkdirSync(W, { recursive: true });
  mkdirSync(H, { recursive: true });
  for (const [name, text] of Object.entries(FILES)) writeFileSync(f(name), text);
  const mk = spawnSync('mkfifo', [f('fifo.yaml')]);
  assert.equal(mk.status, 0, 'mkfifo');
  symlinkSync(f('gone.yaml'), f('dangling.yaml'));
});
after(() => rmSync(root, { recursive: true, force: true }));

void describe('robustness: broken and hostile policy files (real processes)', () => {
  for (const c of CASES) {
    void it(`cordon policy check: ${c.name} is refused, naming the file and what to do, without hanging`, () => {
      const r = cordon(['policy', 'check', c.file()]);
      assert.equal(r.status, 1, `status ${r.status} after ${r.ms} ms; ${r.stdout}${r.stderr}`);
      assert.match(`${r.stdout}${r.stderr}`, c.says);
      assert.doesNotMatch(r.stderr, STACK);
    });
  }

  for (const name of ['fifo.yaml', 'dangling.yaml', 'deep.yaml', 'typo.yaml']) {
    void it(`a managed policy that is ${name} fails closed in policy check and in the hook (never dropped)`, () => {
      const env = { CORDON_MANAGED_POLICY: f(name) };
      const check = cordon(['policy', 'check', f('ok.yaml')], env);
      assert.equal(check.status, 1, `${check.stdout}${check.stderr}`);
      assert.match(check.stderr, new RegExp(name.replace('.', '\\.')));
      const hook = cordon(['hook', 'claude-code'], env, JSON.stringify({ session_id: 's', cwd: W, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command: 'ls' } }));
      assert.equal(hook.status, 2, `${hook.stdout}${hook.stderr}`);
      assert.equal(hook.stdout, '');
      assert.match(hook.stderr, new RegExp(name.replace('.', '\\.')));
    });
  }

  void it('control: a plain policy and a missing (not dangling) managed policy are fine', () => {
    const r = cordon(['policy', 'check', f('ok.yaml')], { CORDON_MANAGED_POLICY: f('no-such-managed.yaml') });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });
});
