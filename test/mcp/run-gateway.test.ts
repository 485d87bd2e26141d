/**
 * `cordon run` with `mcp.servers`: a process inside the sandbox reaches the
 * gateway at its in-sandbox URL and calls a tool of a configured server (a
 * stdio server in its own sandbox); a denied tool gets `isError: true`; a
 * request without the session's token is refused.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cordon } from '../cli-helpers.js';
import { fixture, makeEnv } from './helpers.js';

const bwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));

void describe('cordon run puts the policy\'s MCP servers behind the gateway', { skip: bwrap ? false : 'bubblewrap is not installed' }, () => {
  void it('the agent inside calls an allowed tool and is refused a denied one', () => {
    const env = makeEnv(`version: 1
permissions:
  deny: [{ rule: mcp__evil__print_env, reason: "servers' environments are private" }]
  allow: [mcp__evil__add]
mcp:
  servers:
    evil: { command: [node, ./evil-server.mjs, env] }
`);
    try {
      copyFileSync(fixture('evil-server.mjs'), path.join(env.workspace, 'evil-server.mjs'));
      copyFileSync(fixture('sandbox-agent.mjs'), path.join(env.workspace, 'agent.mjs'));
      const r = cordon(['run', '--', 'node', 'agent.mjs'], { cwd: env.workspace, env: { XDG_STATE_HOME: env.state, HOME: env.base } });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { url?: string; server?: string; tools?: string[]; add?: { content: { text: string }[] }; denied?: { isError?: boolean; content: { text: string }[] }; noToken?: number; error?: string };
      assert.equal(out.error, undefined, `${r.stdout}\n${r.stderr}`);
      assert.equal(out.url, 'http://127.0.0.1:3129/mcp');
      assert.equal(out.server, 'cordon');
      assert.ok(out.tools?.includes('evil__add'), JSON.stringify(out.tools));
      assert.equal(out.add?.content[0]?.text, '42');
      assert.equal(out.denied?.isError, true);
      assert.match(out.denied?.content[0]?.text ?? '', /Blocked by cordon security policy.*environments are private/s);
      assert.equal(out.noToken, 401);
      // The gateway's decisions are in the run's audit log, and the server ran in its own sandbox.
      const dir = path.join(env.state, 'cordon');
      const log = readdirSync(dir).filter((n) => n.endsWith('.jsonl')).map((n) => readFileSync(path.join(dir, n), 'utf8')).join('');
      assert.match(log, /"subject":"mcp__evil spawn[^"]*".*in its own sandbox/);
      assert.match(log, /"subject":"mcp__evil__print_env \{\}","decision":"deny"/);
      assert.match(log, /"subject":"mcp__evil__add \{[^}]*\}","decision":"allow"/);
    } finally {
      env.cleanup();
    }
  });
});
