import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import os from 'node:os';
import { describe, it } from 'node:test';

const TSX = import.meta.resolve('tsx');
const MODULE = new URL('./inherited-fds.ts', import.meta.url).href;

/**
 * Runs closeInheritedFds in a fresh node with fd 40 (a pipe) and fd 41 (a directory) inherited; reports what it
 * closed and what still works. (Node marks low inherited fds such as 3 and 4 close-on-exec itself as it starts.)
 */
function inChild(keep: string): { closed: number[]; open: number[]; timerFired: boolean } {
  const script = `
    import { closeInheritedFds } from ${JSON.stringify(MODULE)};
    import { fstatSync, readdirSync } from 'node:fs';
    const closed = closeInheritedFds(${keep});
    const open = [40, 41].filter((fd) => { try { fstatSync(fd); return true; } catch { return false; } });
    // Node's own fds (libuv's event loop, its signal pipe) still work: a timer and an async read complete.
    setTimeout(() => import('node:fs/promises').then((f) => f.readFile(${JSON.stringify(new URL(import.meta.url).pathname)})).then(() => {
      process.stdout.write(JSON.stringify({ closed, open, timerFired: true }));
    }), 5);
  `;
  const dir = openSync(os.tmpdir(), 'r');
  try {
    const r = spawnSync(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), 'pipe', dir], encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { closed: number[]; open: number[]; timerFired: boolean };
  } finally {
    closeSync(dir);
  }
}

void describe('closeInheritedFds', { skip: process.platform === 'linux' ? false : 'Linux /proc only' }, () => {
  void it('closes the fds the process inherited (a pipe, a directory) and leaves Node\'s own working', () => {
    const r = inChild('');
    assert.deepEqual(r.closed.filter((fd) => fd === 40 || fd === 41).sort(), [40, 41]);
    assert.deepEqual(r.open, []);
    assert.equal(r.timerFired, true);
  });

  void it('keeps the fds it is told to keep', () => {
    const r = inChild('[41]');
    assert.ok(r.closed.includes(40) && !r.closed.includes(41), JSON.stringify(r));
    assert.deepEqual(r.open, [41]);
  });
});
