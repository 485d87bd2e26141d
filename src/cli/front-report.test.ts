import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { describe, it } from 'node:test';
import { takeExitFd } from './front-report.js';

void describe('takeExitFd', () => {
  void it('takes nothing without the variable, or with a value that is not a pipe of ours, and removes the variable', () => {
    assert.equal(takeExitFd({}), undefined);
    for (const v of ['', 'abc', '-3', '0', '1', '2', '3x', '1e3', '99999999']) {
      const env: NodeJS.ProcessEnv = { CORDON_EXIT_FD: v };
      assert.equal(takeExitFd(env), undefined, v);
      assert.equal(env['CORDON_EXIT_FD'], undefined);
    }
    // An open fd that is not a pipe (a file) is left alone.
    const fd = openSync(new URL(import.meta.url).pathname, 'r');
    try {
      assert.equal(takeExitFd({ CORDON_EXIT_FD: String(fd) }), undefined);
      assert.ok(fstatSync(fd).isFile(), 'still open');
    } finally {
      closeSync(fd);
    }
  });
});
