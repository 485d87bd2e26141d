import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { sha256Hex, type AskInput } from './request.js';
import { ApprovalService } from './service.js';
import { formatPending } from './show.js';
import { signBody, startWebhookChannel } from './webhook.js';

const SECRET = 'test-webhook-secret-0123456789';
const input: AskInput = {
  request: { kind: 'http', method: 'POST', host: '127.0.0.1', port: 9, target: `/p?q=\u202eevil\u200b${'x'.repeat(300)}`, bodySha256: sha256Hex('b'), bodyLength: 1 },
  boundary: 'egress', subject: 'Http(POST 127.0.0.1:9/p)', rule: 'ask Http(POST 127.0.0.1:9/*)', reason: 'asks', suggestion: 'Http(POST 127.0.0.1:9/p)', preview: 'b',
};

async function callback(url: string, body: string, signature: string | undefined): Promise<number> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'x-cordon-signature': signature }) }, body });
  await r.body?.cancel();
  return r.status;
}

void describe('webhook channel', () => {
  void it('POSTs the pending approval signed; only a signed answer for the exact hash decides', async () => {
    const received: { body: string; sig: string | undefined }[] = [];
    const hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const sig = req.headers['x-cordon-signature'];
        received.push({ body: Buffer.concat(chunks).toString('utf8'), sig: typeof sig === 'string' ? sig : undefined });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const svc = new ApprovalService({ session: 's_0abc', ttlMs: 10_000 });
    const ch = await startWebhookChannel(svc, { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, secret: SECRET, log: () => undefined });
    try {
      const waiting = svc.ask(input);
      for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const [first] = received;
      assert.ok(first);
      assert.equal(first.sig, signBody(SECRET, first.body), 'the POST is signed with the shared secret');
      const payload = JSON.parse(first.body) as { approval: { id: string; hash: string }; answer: { url: string } };
      assert.equal(payload.answer.url, ch.callbackUrl);
      const { id, hash } = payload.approval;
      const good = JSON.stringify({ id, hash, verdict: 'approve' });
      assert.equal(await callback(ch.callbackUrl, good, undefined), 401, 'unsigned');
      assert.equal(await callback(ch.callbackUrl, good, signBody('another-secret-0123456789', good)), 401, 'signed with another key');
      const otherHash = JSON.stringify({ id, hash: sha256Hex('x'), verdict: 'approve' });
      assert.equal(await callback(ch.callbackUrl, otherHash, signBody(SECRET, otherHash)), 409, 'a signed answer for another request');
      const extra = JSON.stringify({ id, hash, verdict: 'approve', always: true });
      assert.equal(await callback(ch.callbackUrl, extra, signBody(SECRET, extra)), 400, 'unknown keys are refused');
      assert.equal(svc.pending().length, 1);
      assert.equal(await callback(ch.callbackUrl, good, signBody(SECRET, good)), 200);
      assert.equal((await waiting).approved, true);
      assert.equal(await callback(ch.callbackUrl, good, signBody(SECRET, good)), 409, 'a replay finds nothing');
    } finally {
      await ch.close();
      hook.close();
    }
  });

  void it('refuses a short secret', async () => {
    const svc = new ApprovalService({ session: 's_0abd', ttlMs: 1000 });
    await assert.rejects(startWebhookChannel(svc, { url: 'http://127.0.0.1:9/', secret: 'short' }), /at least 16 characters/);
  });
});

void describe('terminal view of a pending approval', () => {
  void it('shows bidi and zero-width characters and states the length of long values', () => {
    const svc = new ApprovalService({ session: 's_0abe', ttlMs: 1000 });
    void svc.ask(input);
    const [p] = svc.pending();
    assert.ok(p);
    const text = formatPending(p);
    assert.match(text, /\\u\{202e\}evil\\u\{200b\}/i);
    assert.ok(!/[\u202e\u200b]/.test(text), 'no raw invisible character');
    assert.match(text, /path and query \(\d+ characters, shown whole\)/);
    assert.ok(text.includes('x'.repeat(300)), 'never cut');
    assert.match(text, /body \(all 1 bytes\)/);
    svc.close();
  });
});
