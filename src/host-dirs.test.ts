import assert from 'node:assert/strict';
import os from 'node:os';
import { test } from 'node:test';
import { homeDir, signalNumber, tempDir } from './host-dirs.js';

void test('homeDir and tempDir agree with node:os for the same environment', () => {
  const saved = { ...process.env };
  const cases: Record<string, string | undefined>[] = [
    { HOME: '/home/a', TMPDIR: '/tmp/x/' },
    { HOME: '', TMPDIR: '', TMP: '/var/tmp' },
    { HOME: '/root', TMPDIR: undefined, TMP: undefined, TEMP: '/t/' },
    { TMPDIR: '/' },
    { TMPDIR: undefined, TMP: undefined, TEMP: undefined },
  ];
  try {
    for (const c of cases) {
      for (const [k, v] of Object.entries(c)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      assert.equal(tempDir(), os.tmpdir(), JSON.stringify(c));
      assert.equal(homeDir(), os.homedir(), JSON.stringify(c));
    }
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});

void test('homeDir falls back to the password database without HOME', () => {
  const env: NodeJS.ProcessEnv = {};
  assert.equal(homeDir(env), os.userInfo().homedir);
});

void test('signalNumber is the platform number', () => {
  assert.equal(signalNumber('SIGTERM'), os.constants.signals.SIGTERM);
  assert.equal(signalNumber('SIGKILL'), 9);
});
