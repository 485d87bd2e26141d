import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSessionId, latestSessionFile, newSessionId, sessionFile, stateDir } from './paths.js';

void test('stateDir follows XDG_STATE_HOME when it is absolute', () => {
  assert.equal(stateDir({ XDG_STATE_HOME: '/x/state' }, '/home/u'), '/x/state/cordon');
  assert.equal(stateDir({ XDG_STATE_HOME: 'relative' }, '/home/u'), '/home/u/.local/state/cordon');
  assert.equal(stateDir({ XDG_STATE_HOME: '' }, '/home/u'), '/home/u/.local/state/cordon');
  assert.equal(stateDir({}, '/home/u'), '/home/u/.local/state/cordon');
});

void test('newSessionId is s_ and 8 hex characters, and random', () => {
  const a = newSessionId();
  assert.match(a, /^s_[0-9a-f]{8}$/);
  assert.equal(isSessionId(a), true);
  assert.notEqual(a, newSessionId());
  assert.equal(isSessionId('s_../x'), false);
});

void test('latestSessionFile picks the most recently modified session log', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-paths-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(latestSessionFile(dir), null);
  assert.equal(latestSessionFile(join(dir, 'missing')), null);
  const older = sessionFile(dir, 's_00000001');
  const newer = sessionFile(dir, 's_00000002');
  writeFileSync(older, '');
  writeFileSync(newer, '');
  writeFileSync(join(dir, 'notes.jsonl'), '');
  utimesSync(older, new Date(2000, 0, 1), new Date(2030, 0, 1));
  utimesSync(newer, new Date(2000, 0, 1), new Date(2020, 0, 1));
  utimesSync(join(dir, 'notes.jsonl'), new Date(2000, 0, 1), new Date(2040, 0, 1));
  assert.equal(latestSessionFile(dir), older);
});
