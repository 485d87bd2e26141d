/**
 * Approvals end to end with the real `cordon run`: an `ask` Http rule holds
 * the request in the egress proxy (the upstream sees nothing) until a person
 * answers through `cordon approvals` or the session socket; approve lets that
 * exact request through once, deny and timeout refuse it; the socket, its
 * directory and the host's loopback listeners are unreachable from inside.
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSessions, readKey } from '../src/approval/client.js';
import { sha256Hex } from '../src/approval/request.js';
import { startDashboard } from '../src/approval/web/server.js';
import { cordonAsync } from './cli-helpers.js';
import { httpUpstream, type Upstream } from './egress/helpers.js';
import { approvalWorld, post, runSkip, waitPending } from './approval-helpers.js';

void describe('approvals with cordon run', { skip: runSkip }, () => {
  let up: Upstream;
  before(async () => {
    up = await httpUpstream();
  });
  after(async () => {
    await up.close();
  });
  const uploads = (): string[] => up.seen.filter((s) => s.startsWith('POST /upload'));

  void it('holds the request until approved via cordon approvals; the same request again asks again', async () => {
    up.seen.length = 0;
    const w = approvalWorld(up.port);
    const run = cordonAsync(['run', '--', 'sh', '-c', `${post('first', up.port, 'payload-1')}; ${post('again', up.port, 'payload-1')}`], w.ws, w.env);
    const [p] = await waitPending(w.dir);
    assert.ok(p);
    assert.equal(p.request.kind, 'http');
    assert.equal(p.boundary, 'egress');
    if (p.request.kind === 'http') {
      assert.equal(p.request.bodySha256, sha256Hex('payload-1'));
      assert.equal(p.request.target, '/upload');
    }
    assert.deepEqual(uploads(), [], 'nothing reached the upstream while the approval waits');
    const listed = await cordonAsync(['approvals', '--json'], w.ws, w.env).done;
    assert.equal(listed.status, 0, listed.stderr);
    const json = JSON.parse(listed.stdout) as { pending: { id: string; hash: string }[] };
    assert.deepEqual(json.pending.map((x) => x.id), [p.id]);
    const wrongHash = await cordonAsync(['approvals', 'approve', p.id, '--hash', sha256Hex('other')], w.ws, w.env).done;
    assert.equal(wrongHash.status, 1, 'an approval pinned to another hash decides nothing');
    const ok = await cordonAsync(['approvals', 'approve', p.id], w.ws, w.env).done;
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /approved a_/);
    // The identical second request is a new pending approval: nothing is cached.
    const second = await waitPending(w.dir);
    assert.equal(second.length, 1);
    assert.notEqual(second[0]?.id, p.id);
    assert.equal(second[0]?.hash, p.hash);
    const denied = await cordonAsync(['approvals', 'deny', second[0]?.id ?? ''], w.ws, w.env).done;
    assert.equal(denied.status, 0, denied.stderr);
    const r = await run.done;
    assert.match(r.stdout, /^first=200$/m, r.stdout + r.stderr);
    assert.match(r.stdout, /payload-1/);
    assert.match(r.stdout, /^again=403$/m, r.stdout + r.stderr);
    assert.match(r.stdout, /Denied by a person/);
    assert.equal(uploads().length, 1, 'exactly the one approved request reached the upstream');
    const replay = await cordonAsync(['approvals', 'approve', p.id], w.ws, w.env).done;
    assert.equal(replay.status, 1, 'a consumed approval cannot be answered again');
  });

  void it('denied through the socket or unanswered: 403 and the upstream sees nothing', async () => {
    up.seen.length = 0;
    const w = approvalWorld(up.port, '2s');
    const run = cordonAsync(['run', '--', 'sh', '-c', `${post('denied', up.port, 'secret-ish')}; ${post('late', up.port, 'x')}`], w.ws, w.env);
    const [p] = await waitPending(w.dir);
    assert.ok(p);
    const [s] = await openSessions(w.dir);
    assert.ok(s);
    await s.connection.answer(readKey(s.keyFile), { session: s.hello.session, id: p.id, hash: p.hash, verdict: 'deny', by: 'test' });
    s.connection.close();
    const r = await run.done;
    assert.match(r.stdout, /^denied=403$/m, r.stdout + r.stderr);
    assert.match(r.stdout, /^late=403$/m, r.stdout + r.stderr);
    assert.match(r.stdout, /No answer within 2 s; an unanswered approval is a deny/);
    assert.deepEqual(uploads(), []);
    assert.deepEqual(readdirSync(w.dir), [], 'the socket and key are removed when the run ends');
  });

  void it('the approval socket, its directory and loopback listeners on the host are unreachable from the sandbox', async () => {
    up.seen.length = 0;
    const w = approvalWorld(up.port);
    const ui = await startDashboard({ dir: w.dir });
    try {
      const script = [
        'while [ ! -s sock.txt ]; do sleep 0.1; done',
        'S=$(cat sock.txt)',
        'curl -s -m 3 --unix-socket "$S" http://x/ >/dev/null 2>&1; echo "unix=$?"',
        `ls "${w.dir}" >/dev/null 2>&1; echo "ls=$?"`,
        `curl -s -m 3 --noproxy '*' http://127.0.0.1:${ui.port}/ >/dev/null 2>&1; echo "direct=$?"`,
        `echo "viaproxy=$(curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:${ui.port}/)"`,
        `echo "cat=$(cat "${w.dir}"/*.key 2>/dev/null | wc -c)"`,
      ].join('\n');
      const run = cordonAsync(['run', '--', 'sh', '-c', script], w.ws, w.env);
      let sock: string | undefined;
      for (let i = 0; i < 200 && sock === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        sock = (() => {
          try {
            return readdirSync(w.dir).find((n) => n.endsWith('.sock'));
          } catch {
            return undefined;
          }
        })();
      }
      assert.ok(sock, 'the run opened its approval socket');
      writeFileSync(path.join(w.ws, 'sock.txt'), path.join(w.dir, sock));
      const r = await run.done;
      assert.match(r.stdout, /^unix=(?!0$)\d+$/m, r.stdout + r.stderr);
      assert.match(r.stdout, /^ls=(?!0$)\d+$/m, r.stdout);
      assert.match(r.stdout, /^direct=(?!0$)\d+$/m, r.stdout);
      assert.match(r.stdout, /^viaproxy=403$/m, r.stdout);
      assert.match(r.stdout, /^cat=0$/m, r.stdout);
    } finally {
      await ui.close();
    }
  });
});
