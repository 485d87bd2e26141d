import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { newQuarantineDir, pruneQuarantine } from './quarantine-dir.js';

void test('a new quarantine directory is private, dated, and old ones (only ours) are pruned', () => {
  const root = path.join(mkdtempSync(path.join(os.tmpdir(), 'cordon-q-')), 'quarantine');
  const first = newQuarantineDir(root);
  assert.equal(statSync(first).mode & 0o777, 0o700);
  assert.match(path.basename(first), /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-/);
  writeFileSync(path.join(first, 'settings.json'), '{}');
  const old = Date.now() / 1000 - 40 * 24 * 3600;
  utimesSync(first, old, old);
  const foreign = path.join(root, 'keep-me');
  mkdirSync(foreign);
  utimesSync(foreign, old, old);
  const second = newQuarantineDir(root);
  assert.equal(existsSync(first), false, 'a quarantine directory older than 30 days is removed');
  assert.equal(existsSync(foreign), true, 'a directory cordon did not name is left alone');
  assert.equal(existsSync(second), true);
  pruneQuarantine(path.join(root, 'absent')); // a missing root is no error
});
