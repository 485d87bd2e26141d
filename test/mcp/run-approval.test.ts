/**
 * An MCP call the policy asks about, end to end under the real `cordon run`:
 * the gateway process holds the call and the supervisor's approval service
 * shows exactly it (server, tool, canonical arguments); approved through
 * `cordon approvals approve`, that call (and only it) reaches the server;
 * an answer carrying the hash of a one-byte-different call decides nothing;
 * denied or unanswered, the agent gets the refusal and the server saw nothing.
 * And a held call whose supervisor dies (SIGKILL, mid-wait) is refused: the
 * real gateway process, started by the real supervisor code, answers the
 * client with the refusal, the server never sees the call, and the gateway
 * and its servers exit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openSessions, readKey } from '../../src/approval/client.js';
import { canonicalJson, requestHash } from '../../src/approval/request.js';
import { waitPending } from '../approval-helpers.js';
import { cordonAsync } from '../cli-helpers.js';
import { fixture, makeEnv, TSX } from './helpers.js';
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

  void it('a held call is refused when the supervisor dies; the server saw nothing and the gateway exits', { timeout: 120_000 }, async () => {
    const env = makeEnv(`version: 1
permissions:
  ask: [{ rule: mcp__rec__echo, reason: "echo needs a person" }]
mcp:
  servers:
    rec: { command: [node, ./record-server.mjs] }
`);
    let supervisorPid = 0;
    try {
      copyFileSync(fixture('record-server.mjs'), path.join(env.workspace, 'record-server.mjs'));
      // The supervisor's side, as cordon run runs it: the real startRunMcp forks the real gateway process; the
      // listener is made here on the host's loopback (cordon run makes it inside the sandbox's namespace);
      // the approval service holds every ask and never answers.
      const supervisor = path.join(env.base, 'supervisor.mts');
      writeFileSync(supervisor, `
import { createServer } from 'node:net';
import { Policy } from ${JSON.stringify(path.resolve('src/policy/policy.ts'))};
import { startRunMcp } from ${JSON.stringify(path.resolve('src/mcp/run/start.ts'))};
const policy = Policy.load({ workspace: process.cwd(), files: [] });
const mcp = startRunMcp(policy.loaded, undefined, process.cwd(), (ask) => {
  process.stdout.write('ASK ' + JSON.stringify(ask.request) + '\\n');
  return new Promise(() => undefined);
});
const server = createServer();
server.listen(0, '127.0.0.1', () => {
  void mcp.listener.sink(server).then(() => {
    // As cordon run does once the gateway took it: this process's copy of the listener would accept connections too
    // (and leave them unanswered), so it is closed.
    const port = server.address().port;
    server.close();
    const vars = mcp.apply({ env: {} }).env;
    process.stdout.write('READY ' + JSON.stringify({ port, token: vars.CORDON_MCP_TOKEN }) + '\\n');
  });
});
`);
      const child = spawn(process.execPath, ['--import', TSX, supervisor], {
        cwd: env.workspace, stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, HOME: env.base, XDG_STATE_HOME: env.state, CORDON_MANAGED_POLICY: path.join(env.base, 'no-managed.yaml'), XDG_CONFIG_HOME: path.join(env.base, 'cfg') },
      });
      supervisorPid = child.pid ?? 0;
      let stdout = '';
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const line = (prefix: string, ms: number): Promise<string> => new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${prefix} line within ${ms} ms:\n${stdout}\n${stderr}`)), ms);
        const check = (): void => {
          const l = stdout.split('\n').find((x) => x.startsWith(`${prefix} `));
          if (l !== undefined) {
            clearTimeout(timer);
            resolve(l.slice(prefix.length + 1));
          }
        };
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
          check();
        });
        check();
      });
      const { port, token } = JSON.parse(await line('READY', 90_000)) as { port: number; token: string };
      let sid: string | undefined;
      let seq = 0;
      const rpc = (method: string, params?: unknown, notify = false): Promise<{ status: number; json: { result?: ToolResult; error?: unknown } | undefined }> => new Promise((resolve, reject) => {
        const body = JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }), ...(notify ? {} : { id: ++seq }) });
        const r = request({
          host: '127.0.0.1', port, method: 'POST', path: '/mcp',
          headers: {
            host: '127.0.0.1:3129', 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`,
            ...(sid === undefined ? {} : { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }),
          },
        }, (res) => {
          sid ??= typeof res.headers['mcp-session-id'] === 'string' ? res.headers['mcp-session-id'] : undefined;
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          // A response cut before its end fails the test with what came, never hangs it.
          res.on('aborted', () => reject(new Error(`the ${method} response was cut before its end: ${text.slice(0, 500)}`)));
          res.on('error', reject);
          res.on('end', () => {
            const raw = text.startsWith('{') ? text : text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).pop();
            resolve({ status: res.statusCode ?? 0, json: raw === undefined || raw === '' ? undefined : JSON.parse(raw) as { result?: ToolResult } });
          });
        });
        r.on('error', reject);
        r.end(body);
      });
      await rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'held-call', version: '1' } });
      await rpc('notifications/initialized', undefined, true);
      const call = rpc('tools/call', { name: 'rec__echo', arguments: { text: 'held' } });
      const asked = JSON.parse(await line('ASK', 30_000)) as { kind: string; arguments?: string };
      assert.deepEqual(asked, { kind: 'mcp', server: 'rec', tool: 'echo', arguments: '{"text":"held"}' });
      // The gateway and the servers it started, before the supervisor dies.
      const kids = descendantsOf(supervisorPid);
      assert.ok(kids.length >= 1, 'the gateway process runs under the supervisor');
      process.kill(supervisorPid, 'SIGKILL');

      const r = await call;
      assert.equal(r.status, 200);
      assert.equal(r.json?.result?.isError, true, JSON.stringify(r.json));
      assert.match(r.json?.result?.content?.[0]?.text ?? '', /Blocked by cordon security policy.*The supervisor went away before an answer; an ask is a deny/s);
      // The gateway and its servers exit (none is left holding a call), and the server never saw the call.
      const end = Date.now() + 15_000;
      while (kids.some(alive) && Date.now() < end) await new Promise((res) => setTimeout(res, 100));
      assert.deepEqual(kids.filter(alive), [], 'the gateway and its servers exited');
      assert.equal(stderr.split('\n').filter((l) => l.startsWith('RECORD ')).length, 0, stderr);
    } finally {
      if (supervisorPid !== 0 && alive(supervisorPid)) process.kill(supervisorPid, 'SIGKILL');
      env.cleanup();
    }
  });
});

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every process below `pid` (by parent links in /proc). */
function descendantsOf(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of parent) {
      if (pp === p) {
        out.push(c);
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}
