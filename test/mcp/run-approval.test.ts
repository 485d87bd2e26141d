/**
 * An MCP call the policy asks about, end to end under the real `cordon run`:
 * the gateway process holds the call and the supervisor's approval service
 * shows exactly it (server, tool, canonical arguments); approved through
 * `cordon approvals approve`, that call (and only it) reaches the server;
 * an answer carrying the hash of a one-byte-different call decides nothing;
 * denied or unanswered, the agent gets the refusal and the server saw nothing.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openSessions, readKey } from '../../src/approval/client.js';
import { canonicalJson, requestHash } from '../../src/approval/request.js';
import { waitPending } from '../approval-helpers.js';
import { cordonAsync } from '../cli-helpers.js';
import { fixture, makeEnv } from './helpers.js';
import { hasBwrap } from '../approval-helpers.js';

interface ToolResult { content?: { text: string }[]; isError?: boolean; error?: unknown }

void describe('cordon run: an MCP call decided ask waits for a person', { skip: hasBwrap ? false : 'bubblewrap is not installed' }, () => {
  void it('approve forwards exactly that call; a one-byte-different call is not approved; deny and timeout refuse', async () => {
    const env = makeEnv(`version: 1
permissions:
  ask: [{ rule: mcp__rec__echo, reason: "echo needs a person" }]
mcp:
  servers:
    rec: { command: [node, ./record-server.mjs] }
approvals: { ttl: 6s, channels: [web] }
`);
    try {
      copyFileSync(fixture('record-server.mjs'), path.join(env.workspace, 'record-server.mjs'));
      copyFileSync(fixture('approval-agent.mjs'), path.join(env.workspace, 'agent.mjs'));
      const dir = path.join(env.base, 'ap');
      mkdirSync(dir, { mode: 0o700 });
      const runEnv = { XDG_STATE_HOME: env.state, HOME: env.base, CORDON_APPROVALS_DIR: dir };
      const run = cordonAsync(['run', '--', 'node', 'agent.mjs', 'hello', 'hellp', 'late'], env.workspace, runEnv);

      // 1: the exact call is pending; approved by a person with `cordon approvals approve`.
      const [p1] = await waitPending(dir);
      assert.ok(p1);
      assert.equal(p1.boundary, 'mcp');
      assert.deepEqual(p1.request, { kind: 'mcp', server: 'rec', tool: 'echo', arguments: canonicalJson({ text: 'hello' }) });
      assert.equal(p1.hash, requestHash(p1.request));
      assert.match(p1.reason, /echo needs a person/i);
      const ok = await cordonAsync(['approvals', 'approve', p1.id], env.workspace, runEnv).done;
      assert.equal(ok.status, 0, ok.stderr);

      // 2: one byte different: an answer naming the first call's hash decides nothing; then a person denies it.
      const [p2] = await waitPending(dir);
      assert.ok(p2);
      assert.notEqual(p2.id, p1.id);
      assert.equal(p2.request.kind === 'mcp' ? p2.request.arguments : '', '{"text":"hellp"}');
      assert.notEqual(p2.hash, p1.hash);
      const [s] = await openSessions(dir);
      assert.ok(s);
      const key = readKey(s.keyFile);
      await assert.rejects(s.connection.answer(key, { session: s.hello.session, id: p2.id, hash: p1.hash, verdict: 'approve', by: 'test' }), /different request/);
      await s.connection.answer(key, { session: s.hello.session, id: p2.id, hash: p2.hash, verdict: 'deny', by: 'test' });
      s.connection.close();

      // 3: nobody answers: after the TTL it is a deny.
      const [p3] = await waitPending(dir);
      assert.ok(p3);
      const r = await run.done;
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { tools?: string[]; results?: ToolResult[]; error?: string };
      assert.equal(out.error, undefined, `${r.stdout}\n${r.stderr}`);
      const [first, second, third] = out.results ?? [];
      assert.equal(first?.content?.[0]?.text, 'echo: hello', JSON.stringify(first));
      assert.equal(second?.isError, true, JSON.stringify(second));
      assert.match(second?.content?.[0]?.text ?? '', /Blocked by cordon security policy.*Denied by a person \(test\)/s);
      assert.equal(third?.isError, true, JSON.stringify(third));
      assert.match(third?.content?.[0]?.text ?? '', /No answer within 6 s; an unanswered approval is a deny/);
      // The server saw exactly the approved call.
      const seen = r.stderr.split('\n').filter((l) => l.startsWith('RECORD '));
      assert.deepEqual(seen, ['RECORD tools/call {"text":"hello"}'], r.stderr);
    } finally {
      env.cleanup();
    }
  });
});
