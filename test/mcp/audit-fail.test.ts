/**
 * The gateway fails closed when its audit log cannot be written: `cordon mcp
 * wrap` (real CLI code, real SDK client, a real server) runs with a file size
 * limit, so an append of the deferred records fails for real (EFBIG); from
 * then on every call is refused with an error and never reaches the server.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fixture, makeEnv, TSX, WRAP_ENTRY, type Env } from './helpers.js';

const POLICY = 'version: 1\npermissions:\n  allow: [mcp__rec__echo]\n';
const LIMIT = 4096;
const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));

void describe('a gateway whose audit log fails', { skip: PRLIMIT === undefined ? 'prlimit (util-linux) is not installed' : false }, () => {
  let env: Env;
  let client: Client;
  let stderr = '';
  before(async () => {
    env = makeEnv(POLICY);
    const transport = new StdioClientTransport({
      command: PRLIMIT ?? 'prlimit',
      args: [`--fsize=${LIMIT}`, '--', process.execPath, '--import', TSX, WRAP_ENTRY, '--', process.execPath, fixture('record-server.mjs')],
      cwd: env.workspace,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: env.base, XDG_STATE_HOME: env.state, CORDON_TEST_WRAP_OPTS: JSON.stringify({ workspace: env.workspace, name: 'rec', sandbox: false }), CORDON_MANAGED_POLICY: path.join(env.base, 'no-managed.yaml') },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    client = new Client({ name: 'cordon-test', version: '0.0.0' });
    await client.connect(transport);
  });
  after(async () => {
    await client.close();
    env.cleanup();
  });

  void it('answers calls while the log is written, then refuses every call and the server sees none of them', async () => {
    const outcomes: ('sent' | 'refused')[] = [];
    for (let i = 0; i < 40 && !outcomes.slice(-3).every((o) => o === 'refused') || outcomes.length < 3; i++) {
      try {
        const r = await client.callTool({ name: 'echo', arguments: { text: `call ${i} ${'x'.repeat(100)}` } });
        assert.notEqual(r.isError, true);
        outcomes.push('sent');
      } catch (e) {
        assert.match(String(e), /cannot record decisions any more \(the audit log could not be written\); the call was not sent/);
        outcomes.push('refused');
      }
      // Past the writer's deferral, so each call's record is appended (or fails) before the next call.
      await new Promise((r) => setTimeout(r, 40));
    }
    const firstRefused = outcomes.indexOf('refused');
    assert.ok(firstRefused > 0, `some calls pass before the log is full, then calls are refused: ${outcomes.join(' ')}\n${stderr}`);
    assert.ok(outcomes.slice(firstRefused).every((o) => o === 'refused'), outcomes.join(' '));
    const seen = [...stderr.matchAll(/^RECORD tools\/call (.*)$/gm)].map((m) => (JSON.parse(m[1] ?? '{}') as { text: string }).text.split(' ')[1]);
    assert.deepEqual(seen, outcomes.slice(0, firstRefused).map((_, i) => String(i)), 'the server saw exactly the calls that were sent');
    assert.match(stderr, /cordon audit: writing the audit log .* failed/);
    // What reached the file is a chain of whole records (plus, at most, the torn line of the failed append).
    const dir = path.join(env.state, 'cordon');
    const log = readFileSync(path.join(dir, readdirSync(dir).find((n) => n.endsWith('.jsonl')) ?? ''), 'utf8');
    assert.ok(log.length <= LIMIT);
    const whole = log.slice(0, log.lastIndexOf('\n') + 1).trim().split('\n').map((l) => JSON.parse(l) as { seq: number });
    assert.deepEqual(whole.map((r) => r.seq), whole.map((_, i) => i + 1));
  });
});
