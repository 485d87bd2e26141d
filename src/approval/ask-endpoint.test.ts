/**
 * The ask-only endpoint over its real Unix socket, with a real approval
 * service behind it: only `ask` is accepted, the verdict is that submission's,
 * closing the connection withdraws the approval, and the caps hold.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { routeAsk } from '../hook/ask-client.js';
import { startAskEndpoint, type AskEndpoint } from './ask-endpoint.js';
import type { AskRequest } from './ask-protocol.js';
import type { HookAskJudgement } from './hook-ask.js';
import { ApprovalService } from './service.js';

const parent = mkdtempSync(path.join(tmpdir(), 'cordon-ask-test-'));
after(() => rmSync(parent, { recursive: true, force: true }));

/** Asks about `touch *`, denies `curl *`, leaves the rest to the harness. */
function judge(q: AskRequest): Promise<HookAskJudgement> {
  const c = q.tool_input['command'];
  const command = typeof c === 'string' ? c : '';
  if (command.startsWith('curl ')) return Promise.resolve({ kind: 'not-asked', decision: 'deny', reason: 'curl is denied' });
  if (!command.startsWith('touch ')) return Promise.resolve({ kind: 'not-asked', decision: 'allow', reason: 'no rule asks' });
  return Promise.resolve({
    kind: 'ask',
    input: { request: { kind: 'command', command, cwd: q.cwd, executable: null, executableSha256: null }, boundary: 'hook', subject: `Bash(${command})`, rule: 'ask Bash(touch *)', reason: 'touch asks' },
  });
}

async function world(o: { maxConcurrent?: number; perMinute?: number } = {}): Promise<{ service: ApprovalService; ep: AskEndpoint }> {
  const service = new ApprovalService({ session: 's_0123', ttlMs: 30_000 });
  const ep = await startAskEndpoint({ judge, ask: (i, signal) => service.ask(i, signal), ttlMs: service.ttlMs, parent, ...o });
  return { service, ep };
}

function raw(socketPath: string, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    let got = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(text));
    s.on('data', (d: string) => (got += d));
    s.on('close', () => resolve(got));
    s.on('error', () => resolve(got));
  });
}

const call = (command: string): Omit<AskRequest, 'type'> => ({ tool_name: 'Bash', tool_input: { command }, cwd: '/w' });

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond());
}

void describe('ask-only endpoint', () => {
  void it('a person\'s answer reaches the one submission; a deny and a denied policy too', async () => {
    const { service, ep } = await world();
    try {
      const approved = routeAsk(ep.socketPath, call('touch a'), 10_000);
      await until(() => service.pending().length === 1);
      const p = service.pending()[0];
      assert.ok(p);
      assert.equal(p.boundary, 'hook');
      assert.equal(service.answer({ id: p.id, hash: p.hash, verdict: 'approve', by: 't' }).ok, true);
      const a = await approved;
      assert.equal(a.kind, 'approved');
      const denied = routeAsk(ep.socketPath, call('touch b'), 10_000);
      await until(() => service.pending().length === 1);
      const q = service.pending()[0];
      assert.ok(q);
      service.answer({ id: q.id, hash: q.hash, verdict: 'deny', by: 't' });
      assert.equal((await denied).kind, 'denied');
      assert.deepEqual(await routeAsk(ep.socketPath, call('curl x'), 10_000), { kind: 'not-asked', decision: 'deny', reason: 'curl is denied' });
    } finally {
      await ep.close();
      service.close();
    }
  });

  void it('refuses everything but one ask; cannot list or answer', async () => {
    const { service, ep } = await world();
    try {
      for (const m of ['{"type":"list"}', '{"type":"watch"}', '{"type":"hello"}', JSON.stringify({ type: 'answer', id: 'a_000000000000', hash: '0'.repeat(64), verdict: 'approve', by: 'x', mac: '0'.repeat(64) })]) {
        assert.match(await raw(ep.socketPath, `${m}\n`), /"code":"refused"/, m);
      }
      assert.match(await raw(ep.socketPath, 'not json\n'), /"code":"bad-line"/);
      assert.equal(service.pending().length, 0);
    } finally {
      await ep.close();
      service.close();
    }
  });

  void it('the hook giving up withdraws its approval; the caps refuse without asking', async () => {
    const { service, ep } = await world({ maxConcurrent: 1, perMinute: 2 });
    try {
      const resolved: string[] = [];
      service.on((e) => {
        if (e.kind === 'resolved') resolved.push(e.reason);
      });
      const gaveUp = routeAsk(ep.socketPath, call('touch slow'), 1000);
      await until(() => service.pending().length === 1);
      const busy = await routeAsk(ep.socketPath, call('touch other'), 5000);
      assert.equal(busy.kind, 'denied');
      assert.match(busy.kind === 'denied' ? busy.reason : '', /busy/);
      const g = await gaveUp;
      assert.equal(g.kind, 'denied');
      assert.match(g.kind === 'denied' ? g.reason : '', /no answer from a person within 1 s/);
      await until(() => service.pending().length === 0);
      assert.match(resolved.join('\n'), /asker went away/);
      const third = routeAsk(ep.socketPath, call('touch third'), 1000);
      await third;
      const rate = await routeAsk(ep.socketPath, call('touch fourth'), 5000);
      assert.match(rate.kind === 'denied' ? rate.reason : '', /rate: more than 2 asks/);
    } finally {
      await ep.close();
      service.close();
    }
  });

  void it('a tool_input nested 100k deep is refused as a bad line before any walk, and the endpoint keeps serving', async () => {
    const { ep } = await world();
    try {
      const deep = `{"type":"ask","tool_name":"mcp__s__t","tool_input":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}},"cwd":"/w"}\n`;
      assert.match(await raw(ep.socketPath, deep), /"code":"bad-line"/);
      assert.match(await raw(ep.socketPath, `${JSON.stringify({ type: 'ask', ...call('curl x') })}\n`), /curl is denied/);
    } finally {
      await ep.close();
    }
  });

  void it('no socket is absent (the hook keeps the harness prompt)', async () => {
    const r = await routeAsk(path.join(parent, 'nothing.sock'), call('touch a'), 1000);
    assert.equal(r.kind, 'absent');
  });
});
