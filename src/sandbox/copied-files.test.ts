import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fileSizeLimit } from './copied-files.js';

const HERE = fileURLToPath(new URL('./copied-files.ts', import.meta.url));
const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));

/** fileSizeLimit() in a child started under `prlimit --fsize=...` (this process's own limit is left alone). */
function limitUnder(fsize: string): string {
  const code = `import(${JSON.stringify(HERE)}).then((m) => process.stdout.write(String(m.fileSizeLimit())))`;
  const r = spawnSync(prlimit ?? 'prlimit', [`--fsize=${fsize}`, process.execPath, '--import', 'tsx', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

void describe('fileSizeLimit', () => {
  void it('reads this process\'s RLIMIT_FSIZE from /proc/self/limits', () => {
    const v = fileSizeLimit();
    assert.ok(v === Infinity || (Number.isInteger(v) && v > 0), String(v));
  });

  void it('follows the soft limit the process was started with', { skip: prlimit === undefined ? 'prlimit (util-linux) is not installed' : false }, () => {
    assert.equal(limitUnder('1048576:unlimited'), '1048576');
    assert.equal(limitUnder('unlimited'), 'Infinity');
  });
});
