/** `cordon mcp scan` as a real process: exit 1 with findings, 0 clean, 2 when a server cannot be scanned; pins are never written. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cordon } from '../cli-helpers.js';
import { EVERYTHING, fixture, makeEnv } from './helpers.js';

void describe('cordon mcp scan', () => {
  void it('flags a poisoned server, passes a clean one, and writes no pins', () => {
    const env = makeEnv(`version: 1
mcp:
  servers:
    poison: { command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture('evil-server.mjs'))}, poison], sandbox: false }
    everything: { command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(EVERYTHING)}, stdio], sandbox: false }
    broken: { command: [/nonexistent/mcp-server] , sandbox: false }
`);
    try {
      const e = { XDG_STATE_HOME: env.state, HOME: env.base };
      const all = cordon(['mcp', 'scan', 'poison', 'everything'], { cwd: env.workspace, env: e });
      assert.equal(all.status, 1, all.stderr);
      assert.match(all.stdout, /poison: 1 tools.*2 flagged/);
      assert.match(all.stdout, /mcp__poison__search_docs: pin flagged: .*read-sensitive-file/);
      assert.match(all.stdout, /everything: \d+ tools.*nothing flagged/);
      const clean = cordon(['mcp', 'scan', '--json', 'everything'], { cwd: env.workspace, env: e });
      assert.equal(clean.status, 0, clean.stderr);
      assert.equal((JSON.parse(clean.stdout) as { findings: unknown[] }[])[0]?.findings.length, 0);
      const broken = cordon(['mcp', 'scan', 'broken'], { cwd: env.workspace, env: e });
      assert.equal(broken.status, 2, broken.stdout + broken.stderr);
      const cmd = cordon(['mcp', 'scan', '--no-sandbox', '--name', 'adhoc', '--', process.execPath, fixture('evil-server.mjs'), 'poison'], { cwd: env.workspace, env: e });
      assert.equal(cmd.status, 1, cmd.stderr);
      assert.match(cmd.stdout, /adhoc: 1 tools/);
      assert.equal(existsSync(path.join(env.state, 'cordon', 'mcp-pins')), false, 'a scan wrote pins');
    } finally {
      env.cleanup();
    }
  });
});
