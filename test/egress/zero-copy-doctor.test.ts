/** `cordon doctor` reports the zero-copy relay: loaded (with its path), or not available with the reason. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { zeroCopyStatus } from '../../src/egress/zero-copy.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function doctorLine(extra: NodeJS.ProcessEnv): string {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  if (extra.CORDON_NO_SPLICE === undefined) delete env.CORDON_NO_SPLICE;
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'doctor'], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return r.stdout.split('\n').find((l) => l.includes('zero-copy relay')) ?? `no zero-copy line in: ${r.stdout}${r.stderr}`;
}

void describe('cordon doctor: zero-copy relay line', () => {
  void it('says whether the relay is loaded, or why not', { timeout: 120_000 }, () => {
    // The status without CORDON_NO_SPLICE (the first doctor run has it removed too).
    const off = process.env.CORDON_NO_SPLICE;
    delete process.env.CORDON_NO_SPLICE;
    const st = zeroCopyStatus();
    if (off !== undefined) process.env.CORDON_NO_SPLICE = off;
    const line = doctorLine({});
    if (st.available) assert.equal(line, `ok   zero-copy relay: splice(2) addon loaded (${st.path})`);
    else assert.equal(line, `note zero-copy relay: not available (${st.reason}); the egress proxy relays in JavaScript (slower)`);
    assert.equal(doctorLine({ CORDON_NO_SPLICE: '1' }), 'note zero-copy relay: not available (disabled by CORDON_NO_SPLICE=1); the egress proxy relays in JavaScript (slower)');
  });
});
