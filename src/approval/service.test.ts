import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ApprovalConnection, readKey } from './client.js';
import { canonicalJson, requestHash, sha256Hex, type AskInput, type ExactRequest } from './request.js';
import { ApprovalService } from './service.js';
import { startApprovalSocket } from './socket-server.js';
import { analyseTrifecta } from './trifecta.js';

const http = (body: string, target = '/upload?x=1'): ExactRequest => ({ kind: 'http', method: 'POST', host: 'example.com', port: 443, target, bodySha256: sha256Hex(body), bodyLength: Buffer.byteLength(body) });
const ask = (request: ExactRequest): AskInput => ({ request, boundary: 'egress', subject: 'Http(POST example.com/upload)', rule: 'ask Http(POST example.com/*) (project, cordon.yaml:3:5)', reason: 'The rule asks.' });
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void describe('approval service', () => {
  void it('an approval for X does not allow X\' (one byte different body, path, argument or command)', async () => {
    const pairs: [ExactRequest, ExactRequest][] = [
      [http('hello'), http('hellp')],
      [http('hello', '/upload?x=1'), http('hello', '/upload?x=2')],
      [{ kind: 'mcp', server: 'gh', tool: 'create_issue', arguments: canonicalJson({ title: 'a', repo: 'o/r' }) }, { kind: 'mcp', server: 'gh', tool: 'create_issue', arguments: canonicalJson({ title: 'b', repo: 'o/r' }) }],
      [{ kind: 'command', command: 'git push origin main', cwd: '/w', executable: null, executableSha256: null }, { kind: 'command', command: 'git push origin mair', cwd: '/w', executable: null, executableSha256: null }],
      [{ kind: 'tunnel', host: 'example.com', port: 443 }, { kind: 'tunnel', host: 'example.com', port: 444 }],
    ];
    for (const [x, x2] of pairs) {
      assert.notEqual(requestHash(x), requestHash(x2));
      const svc = new ApprovalService({ session: 's_0001', ttlMs: 5000 });
      const waiting = svc.ask(ask(x));
      const [p] = svc.pending();
      assert.ok(p);
      const wrong = svc.answer({ id: p.id, hash: requestHash(x2), verdict: 'approve', by: 't' });
      assert.equal(wrong.ok, false);
      assert.equal(svc.pending().length, 1, 'still pending after an answer for another request');
      assert.equal(svc.answer({ id: p.id, hash: p.hash, verdict: 'approve', by: 't' }).ok, true);
      assert.equal((await waiting).approved, true);
    }
  });

  void it('canonical JSON ignores key order and refuses non-JSON values', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] }), '{"a":[{"c":2,"d":1}],"b":1}');
    assert.throws(() => canonicalJson({ a: undefined }));
    assert.throws(() => canonicalJson(Number.NaN));
  });

  void it('expires into a deny, and an unanswered approval is a deny', async () => {
    const events: string[] = [];
    const svc = new ApprovalService({ session: 's_0002', ttlMs: 50, publish: (e) => events.push(`${e.decision}:${e.reason}`) });
    const out = await svc.ask(ask(http('x')));
    assert.equal(out.approved, false);
    assert.match(out.reason, /unanswered approval is a deny/);
    assert.equal(svc.pending().length, 0);
    assert.ok(events.some((e) => e.startsWith('ask:')) && events.some((e) => e.startsWith('deny:')));
    const late = svc.answer({ id: out.id, hash: requestHash(http('x')), verdict: 'approve', by: 't' });
    assert.equal(late.ok, false, 'an answer after expiry decides nothing');
  });

  void it('is consumed on use: a replayed answer is refused and the next identical request asks again', async () => {
    const svc = new ApprovalService({ session: 's_0003', ttlMs: 5000 });
    const first = svc.ask(ask(http('same')));
    const [p] = svc.pending();
    assert.ok(p);
    assert.equal(svc.answer({ id: p.id, hash: p.hash, verdict: 'approve', by: 't' }).ok, true);
    assert.equal((await first).approved, true);
    const replay = svc.answer({ id: p.id, hash: p.hash, verdict: 'approve', by: 't' });
    assert.equal(replay.ok, false);
    const second = svc.ask(ask(http('same')));
    assert.equal(svc.pending().length, 1, 'the same request again is a new pending approval, never cached');
    svc.close();
    assert.equal((await second).approved, false, 'closing denies what is pending');
  });

  void it('denies at once above the pending bound', async () => {
    const svc = new ApprovalService({ session: 's_0004', ttlMs: 5000, maxPending: 1 });
    const a = svc.ask(ask(http('1')));
    const b = await svc.ask(ask(http('2')));
    assert.equal(b.approved, false);
    svc.close();
    assert.equal((await a).approved, false);
  });
});

void describe('approval socket', () => {
  void it('lists and answers with the session key; a forged answer and malformed input decide nothing', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cordon-appr-')), 'a');
    const svc = new ApprovalService({ session: 's_00ab', ttlMs: 10_000 });
    const trifecta = analyseTrifecta({ rules: [], settings: {} });
    const sock = await startApprovalSocket({ service: svc, dir, info: { command: 'true', workspace: '/w', pid: 1, channels: ['web'], trifecta } });
    try {
      const waiting = svc.ask(ask(http('body')));
      const c = await ApprovalConnection.open(sock.path);
      const [p] = await c.list();
      assert.ok(p);
      // Forged: a key that is not the session's.
      await assert.rejects(c.answer(Buffer.alloc(32, 7), { session: 's_00ab', id: p.id, hash: p.hash, verdict: 'approve', by: 'agent' }), /not signed with this session's key/);
      // Raw garbage and an unknown message type.
      const raw = connect(sock.path);
      raw.write('{"type":"answer","id":"a_000000000000"}\n{"type":"approve-all"}\nnot json\n');
      await tick(100);
      raw.destroy();
      assert.equal(svc.pending().length, 1);
      await c.answer(readKey(sock.keyFile), { session: 's_00ab', id: p.id, hash: p.hash, verdict: 'approve', by: 'test' });
      assert.equal((await waiting).approved, true);
      await assert.rejects(c.answer(readKey(sock.keyFile), { session: 's_00ab', id: p.id, hash: p.hash, verdict: 'approve', by: 'test' }), /no pending approval/);
      c.close();
    } finally {
      await sock.close();
    }
  });
});
