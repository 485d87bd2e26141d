import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AlertSink } from './alerts.js';
import { publishDecision } from './publish.js';
import type { DecisionEvent } from './record.js';

interface Hook { server: Server; url: string; bodies: { events: DecisionEvent[]; dropped: number; session: string }[]; answer: (req: IncomingMessage, res: ServerResponse) => void }

async function hook(): Promise<Hook> {
  const h: Hook = { server: createServer(), url: '', bodies: [], answer: (_q, r) => r.end('ok') };
  h.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let b = '';
    req.on('data', (c: Buffer) => (b += c.toString()));
    req.on('end', () => {
      h.bodies.push(JSON.parse(b) as Hook['bodies'][number]);
      h.answer(req, res);
    });
  });
  await new Promise<void>((r) => h.server.listen(0, '127.0.0.1', r));
  h.url = `http://127.0.0.1:${(h.server.address() as AddressInfo).port}/hook?token=x`;
  return h;
}

const deny = (n: number): DecisionEvent => ({ boundary: 'egress', subject: `Net(evil${n}.example:443)`, decision: 'deny', rule: 'default', reason: 'not allowed' });
const until = async (p: () => boolean, ms = 3000): Promise<void> => {
  const t0 = Date.now();
  while (!p() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 10));
};

void describe('audit alerts webhook', () => {
  let h: Hook;
  before(async () => {
    h = await hook();
  });
  after(async () => {
    h.server.closeAllConnections();
    await new Promise<void>((r) => h.server.close(() => r()));
  });

  void it('batches blocked-egress events from the decision channel; other decisions are not alerts', async () => {
    h.bodies.length = 0;
    const sink = new AlertSink({ url: h.url, session: 's_test', batchMs: 50, log: () => undefined }).subscribe();
    publishDecision(deny(1));
    publishDecision({ ...deny(2), decision: 'allow' });
    publishDecision({ ...deny(3), boundary: 'mcp' });
    publishDecision(deny(4));
    await until(() => h.bodies.length > 0);
    await sink.close(500);
    assert.equal(h.bodies.length, 1);
    assert.equal(h.bodies[0]?.session, 's_test');
    assert.deepEqual(h.bodies[0]?.events.map((e) => e.subject), ['Net(evil1.example:443)', 'Net(evil4.example:443)']);
    assert.equal(h.bodies[0]?.dropped, 0);
  });

  void it('retries a failing webhook with backoff until it accepts', async () => {
    h.bodies.length = 0;
    let n = 0;
    h.answer = (_q, r) => {
      n += 1;
      r.statusCode = n <= 2 ? 503 : 200;
      r.end();
    };
    const sink = new AlertSink({ url: h.url, session: 's', batchMs: 10, backoffMs: 20, log: () => undefined });
    sink.push(deny(1));
    await until(() => sink.delivered === 1);
    assert.equal(sink.delivered, 1);
    assert.equal(h.bodies.length, 3, 'two failures, then delivered');
    await sink.close(100);
    h.answer = (_q, r) => r.end('ok');
  });

  void it('bounds the queue (oldest dropped and counted) and never blocks the caller while the webhook hangs', async () => {
    h.bodies.length = 0;
    const held: ServerResponse[] = [];
    h.answer = (_q, r) => void held.push(r);
    const sink = new AlertSink({ url: h.url, session: 's', batchMs: 10, maxQueue: 5, maxBatch: 5, timeoutMs: 200, attempts: 1, log: () => undefined });
    sink.push(deny(0));
    await until(() => h.bodies.length === 1); // the first POST hangs
    const t0 = performance.now();
    for (let i = 1; i <= 1000; i++) sink.push(deny(i));
    assert.ok(performance.now() - t0 < 200, 'push is a queue append');
    await until(() => h.bodies.length >= 2, 3000);
    for (const r of held) r.end();
    h.answer = (_q, r) => r.end('ok');
    await until(() => h.bodies.some((b) => b.dropped > 0));
    const withDrop = h.bodies.find((b) => b.dropped > 0);
    assert.ok(withDrop !== undefined, JSON.stringify(h.bodies.map((b) => [b.events.length, b.dropped])));
    assert.ok((withDrop?.events.length ?? 99) <= 5);
    assert.equal(withDrop?.events.at(-1)?.subject, 'Net(evil1000.example:443)', 'the newest events are kept');
    const t1 = performance.now();
    await sink.close(300);
    assert.ok(performance.now() - t1 < 1500, 'close is bounded');
  });

  void it('an unreachable webhook costs nothing but a log line; close returns within its grace', async () => {
    const lines: string[] = [];
    const sink = new AlertSink({ url: 'http://127.0.0.1:1/hook', session: 's', batchMs: 10, attempts: 2, backoffMs: 10, log: (l) => lines.push(l) });
    sink.push(deny(1));
    await until(() => sink.failed === 1);
    assert.equal(sink.failed, 1);
    assert.ok(lines.some((l) => l.includes('unreachable') && !l.includes('token')), lines.join('\n'));
    await sink.close(100);
  });
});
