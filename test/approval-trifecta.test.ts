/**
 * The trifecta analysis: `cordon doctor` prints the legs with the rules
 * responsible, and `cordon run` refuses to start unattended (no terminal, no
 * webhook) with all three legs unless --accept-trifecta is given, which is
 * logged.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cordonAsync } from './cli-helpers.js';
import { runSkip } from './approval-helpers.js';

function world(): { ws: string; env: NodeJS.ProcessEnv; state: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-tri-'));
  const ws = path.join(root, 'ws');
  mkdirSync(ws);
  writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: ["Net(127.0.0.1:9)", "Read(~/.config/gcloud/**)"]\napprovals: { channels: [tty, web] }\n');
  const state = path.join(root, 'state');
  return { ws, state, env: { XDG_STATE_HOME: state, CORDON_APPROVALS_DIR: path.join(root, 'ap'), CORDON_APPROVAL_TTY: '/nonexistent/tty' } };
}

function log(state: string): string {
  const dir = path.join(state, 'cordon');
  return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(path.join(dir, f), 'utf8')).join('');
}

void describe('trifecta', () => {
  void it('cordon doctor names each leg and the rules responsible', async () => {
    const w = world();
    const r = await cordonAsync(['doctor', '-w', w.ws], w.ws, w.env).done;
    assert.match(r.stdout, /^HELD untrusted input/m);
    assert.match(r.stdout, /^HELD private data.*\n.*because allow Read\(~\/\.config\/gcloud\/\*\*\) \(project, .*cordon\.yaml:3:/m);
    assert.match(r.stdout, /^HELD external communication.*\n.*because allow Net\(127\.0\.0\.1:9\)/m);
    assert.match(r.stdout, /holds all three legs/);
  });

  void it('cordon run refuses an unattended all-three-legs run; --accept-trifecta starts it and is logged', { skip: runSkip }, async () => {
    const w = world();
    const refused = await cordonAsync(['run', '--', 'true'], w.ws, w.env).done;
    assert.equal(refused.status, 125, refused.stderr);
    assert.match(refused.stderr, /refusing to start unattended/);
    assert.match(refused.stderr, /--accept-trifecta/);
    assert.match(log(w.state), /"subject":"Trifecta\(true\)","decision":"deny"/);
    const accepted = await cordonAsync(['run', '--accept-trifecta', '--', 'true'], w.ws, w.env).done;
    assert.equal(accepted.status, 0, accepted.stderr);
    assert.match(log(w.state), /"subject":"Trifecta\(true\)","decision":"allow","rule":"--accept-trifecta"/);
  });
});
