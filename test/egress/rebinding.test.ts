/** DNS rebinding: a name answering public then private is never connected to the private address. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { TSX } from '../cli-helpers.js';

const scenario = fileURLToPath(new URL('./rebinding-scenario.ts', import.meta.url));
const canUnshare = spawnSync('unshare', ['--net', 'true']).status === 0;
const skip = canUnshare ? false : 'needs `unshare --net` (root or unprivileged user namespaces) to give the test its own network';

void describe('egress proxy: DNS rebinding', { skip }, () => {
  void it('connects only to the checked address; later private answers are refused, and the private upstream sees nothing', () => {
    const r = spawnSync('unshare', ['--net', '--', process.execPath, '--import', TSX, scenario], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    assert.deepEqual(out.statuses, [200, 403, 403], 'first answer public: forwarded; then private: refused');
    assert.equal(out.mixed, 403, 'an answer with any private address is refused as a whole');
    assert.equal(out.connect, 'HTTP/1.1 403');
    assert.deepEqual(out.socks, [5, 0, 5, 2, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(out.seen, { public: 1, private: 0 });
    assert.equal(out.privConnections, 0);
  });
});
