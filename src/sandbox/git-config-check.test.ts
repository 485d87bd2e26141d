import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkGitConfig } from './git-config-check.js';

void test('git init output passes', () => {
  const v = checkGitConfig('[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n[remote "origin"]\n\turl = x\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n');
  assert.deepEqual(v, { ok: true, offending: [] });
});
void test('keys that run programs are refused', () => {
  for (const k of ['[core]\n\tfsmonitor = evil', '[core]\n\thooksPath = /x', '[core]\n\tsshCommand = evil', '[alias]\n\tx = !evil', '[include]\n\tpath = /x', '[filter "a"]\n\tclean = evil', '[url "x"]\n\tinsteadOf = y', '[core.x]\n\ty = 1', 'garbage']) {
    assert.equal(checkGitConfig(k).ok, false, k);
  }
});
