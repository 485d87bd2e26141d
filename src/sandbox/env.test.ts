import assert from 'node:assert/strict';
import { test } from 'node:test';
import { looksLikeCredential, scrubEnvironment } from './env.js';

void test('only allowlisted names pass; removed names are reported', () => {
  const r = scrubEnvironment({ PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', LC_ALL: 'C', GITHUB_TOKEN: 'x', AWS_PROFILE: 'p', SSH_AUTH_SOCK: '/s' }, { home: '/h', tmp: '/t' });
  assert.deepEqual(r.removed, ['AWS_PROFILE', 'GITHUB_TOKEN', 'SSH_AUTH_SOCK']);
  assert.equal(r.env['PATH'], '/usr/bin:/bin');
  assert.equal(r.env['HOME'], '/h');
  assert.equal(r.env['TMPDIR'], '/t');
  assert.equal(r.env['GITHUB_TOKEN'], undefined);
});
void test('allowlisted variables carrying credentials are removed', () => {
  const r = scrubEnvironment({ TERM: 'ghp_' + 'a1B2c3'.repeat(6), PAGER: 'https://u:hunter2@example.com/', EDITOR: 'vim' });
  assert.deepEqual(r.removed, ['PAGER', 'TERM']);
});
void test('credential detector', () => {
  for (const v of ['sk-ant-api03-abcdefghijklmnop', 'AKIAIOSFODNN7EXAMPLE', 'xoxb-1234567890-abc', 'glpat-abcdefghijklmnopqrst', `npm_${'a1'.repeat(18)}`, '-----BEGIN RSA PRIVATE KEY-----', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY9x2']) {
    assert.ok(looksLikeCredential(v), v);
  }
  for (const v of ['/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'en_US.UTF-8', 'xterm-256color', '/home/someone/projects/a_very_long_directory_name_here/bin', 'Europe/Berlin']) {
    assert.ok(!looksLikeCredential(v), v);
  }
});
void test('every token prefix is recognised on its own and inside a longer value', () => {
  const tokens = [`ghp_${'a1'.repeat(12)}`, `gho_${'a1'.repeat(12)}`, `github_pat_${'a1'.repeat(12)}`, 'sk-ant-abcdefghijk', `sk-${'a1'.repeat(9)}`, 'ASIAIOSFODNN7EXAMPLE', 'xoxp-1234567890', `glpat-${'a'.repeat(16)}`,
    `npm_${'a1'.repeat(16)}`, `AIza${'b'.repeat(31)}`, `rk_live_${'c'.repeat(16)}`, `hf_${'d1'.repeat(16)}`, '-----BEGIN CERTIFICATE-----', `eyJ${'a'.repeat(10)}.eyJ${'b'.repeat(10)}.sig`];
  for (const t of tokens) {
    assert.ok(looksLikeCredential(t), t);
    assert.ok(looksLikeCredential(`prefix ${t} suffix`), `inside: ${t}`);
  }
  assert.ok(!looksLikeCredential('xghp_' + 'a1'.repeat(12)), 'the word boundary still applies');
});
