/**
 * The MCP gateway under `cordon run` fails closed when the run's audit log
 * cannot be written: the real `cordon run` (supervisor, gateway process, a
 * stdio server) runs under a file size limit (prlimit --fsize), so an append
 * to the log fails for real (EFBIG) partway through; from then on every call
 * the agent makes is refused and never reaches the server (the server writes
 * `RECORD tools/call` to the run's stderr for each call it gets).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, TSX } from '../cli-helpers.js';
import { fixture, makeEnv } from './helpers.js';

const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));
const BWRAP = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
const skip = PRLIMIT === undefined ? 'prlimit (util-linux) is not installed' : !BWRAP ? 'bubblewrap is not installed' : false;
const SRC_BIN = path.join(ROOT, 'src/cli/main.ts');
/** Bytes of audit log the run may write: its first records and some calls' fit, then an append fails. */
const LIMIT = 8192;

void describe('cordon run: the MCP gateway when the audit log fails', { skip }, () => {
  void it('calls pass while the log is written, then every call is refused and the server sees none of them', async () => {
    const env = makeEnv(`version: 1
permissions:
  allow: [mcp__rec__echo]
mcp:
  servers:
    rec: { command: [node, ./record-server.mjs], sandbox: false }
`);
    try {
      copyFileSync(fixture('record-server.mjs'), path.join(env.workspace, 'record-server.mjs'));
      copyFileSync(fixture('audit-fail-agent.mjs'), path.join(env.workspace, 'agent.mjs'));
      const child = spawn(PRLIMIT ?? 'prlimit', [`--fsize=${LIMIT}`, '--', process.execPath, '--import', TSX, SRC_BIN, 'run', '--', 'node', 'agent.mjs', '80'], {
        cwd: env.workspace,
        env: { ...process.env, XDG_STATE_HOME: env.state, HOME: env.base, CORDON_MANAGED_POLICY: '/nonexistent/m.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      const out = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { outcomes?: string[]; error?: string };
      assert.equal(out.error, undefined, `${stdout}\n${stderr}`);
      const outcomes = out.outcomes ?? [];
      const firstRefused = outcomes.findIndex((o) => o.startsWith('refused'));
      assert.ok(firstRefused > 0, `some calls pass before the log fails, then calls are refused (status ${String(status)}): ${outcomes.join(' | ')}\n${stderr}`);
      assert.ok(outcomes.slice(firstRefused).every((o) => /^refused: cordon cannot record decisions any more \(the audit log could not be written\); the call was not sent$/.test(o)), outcomes.join('\n'));
      // The server saw exactly the calls that were answered, none after the failure.
      const seen = [...stderr.matchAll(/^RECORD tools\/call (.*)$/gm)].map((m) => (JSON.parse(m[1] ?? '{}') as { text: string }).text.split(' ')[1]);
      assert.deepEqual(seen, outcomes.slice(0, firstRefused).map((_, i) => String(i)), 'the server saw exactly the calls that were sent');
      assert.match(stderr, /cordon audit: writing the audit log .* failed/);
      assert.match(stderr, /cordon mcp: the audit log cannot be written any more; every call is refused from now on/);
      // What reached the file is a chain of whole records (plus, at most, the torn line of the failed append).
      const dir = path.join(env.state, 'cordon');
      const log = readFileSync(path.join(dir, readdirSync(dir).find((n) => n.endsWith('.jsonl')) ?? ''), 'utf8');
      assert.ok(log.length <= LIMIT);
      const whole = log.slice(0, log.lastIndexOf('\n') + 1).trim().split('\n').map((l) => JSON.parse(l) as { seq: number; subject: string });
      assert.deepEqual(whole.map((r) => r.seq), whole.map((_, i) => i + 1));
    } finally {
      env.cleanup();
    }
  });
});
