/** Every compiled rule explains itself in one sentence; these sentences are what explain, prompts and audit records show. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { compileRule } from './match/compile.js';
import { parseRule } from './rule-parse.js';
import type { Effect, RuleSpec } from './types.js';

const ctx = { workspace: '/w', home: '/h' };

function sentence(effect: Effect, text: string, args?: RuleSpec['args']): string {
  const parsed = parseRule(text);
  if ('claudeTool' in parsed) throw new Error('not a cordon rule');
  return compileRule({ ...parsed, ...(args ? { args } : {}), effect, origin: { scope: 'cli', file: 'f', line: 1, column: 1 }, index: 0 }, ctx).explain();
}

const CASES: [Effect, string, string][] = [
  ['deny', 'Read(~/.ssh/**)', 'Denies reading /h/.ssh/** (in your home directory).'],
  ['deny', 'Read(.env)', 'Denies reading /w/**/.env (at any depth of the workspace).'],
  ['allow', 'Edit(./src/**)', 'Allows writing /w/src/** (in the workspace).'],
  ['allow', 'Read(//etc/**)', 'Allows reading /etc/** (from the filesystem root).'],
  ['allow', 'Read', 'Allows reading any file.'],
  ['allow', 'Bash(npm run test:*)', 'Allows shell commands that start with the word `npm run test`.'],
  ['ask', 'Bash', 'Asks before every shell command.'],
  ['deny', 'Net(*.pastebin.com)', 'Denies connections to any subdomain of pastebin.com (not pastebin.com itself) on any port.'],
  ['allow', 'Net(api.anthropic.com:443)', 'Allows connections to the host api.anthropic.com on port 443.'],
  ['allow', 'Net(127.0.0.1:8080)', 'Allows connections to the address 127.0.0.1 on port 8080.'],
  ['ask', 'Http(POST github.com/*/*/git-receive-pack)', 'Asks before POST requests to the host github.com on any port, paths matching /*/*/git-receive-pack.'],
  ['allow', 'WebFetch(domain:docs.example)', 'Allows web fetches from the host docs.example.'],
  ['ask', 'mcp__github__create_*', 'Asks before MCP tool create_* of server github.'],
  ['allow', 'mcp__fs', 'Allows every tool of MCP server fs.'],
];

void it('rule sentences are pinned', () => {
  for (const [effect, text, expected] of CASES) assert.equal(sentence(effect, text), expected, text);
  assert.equal(
    sentence('deny', 'mcp__fs__write_file', [{ path: 'path', op: 'outside_workspace' }, { path: 'mode', op: 'min', value: 3 }]),
    'Denies MCP tool write_file of server fs when path names a path outside the workspace and mode is at least 3.',
  );
});
