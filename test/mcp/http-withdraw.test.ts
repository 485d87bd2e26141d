/**
 * A call held for approval is withdrawn when its HTTP client goes away: the
 * real `cordon run` (approval service, gateway process, a stdio server), an
 * agent inside that sends a call the policy asks about and then drops the
 * connection. The pending approval disappears (a person can no longer
 * approve it), the decision log says it was withdrawn, and the server never
 * sees the call. A client that cannot resume (2025-06-18) is given up at
 * once, and so is a stateless-era one (2026-07-28, where closing a request's
 * stream is its cancellation); one that can (2025-11-25: its POST became a
 * primed event stream) after the resume grace (channel.ts RESUME_GRACE_MS)
 * without coming back. A `notifications/cancelled` withdraws it at once.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openSessions } from '../../src/approval/client.js';
import type { PendingApproval } from '../../src/approval/service.js';
import { RESUME_GRACE_MS } from '../../src/mcp/http/channel.js';
import { hasBwrap, waitPending } from '../approval-helpers.js';
import { cordonAsync } from '../cli-helpers.js';
import { fixture, makeEnv } from './helpers.js';

async function pendingNow(dir: string): Promise<PendingApproval[]> {
  const sessions = await openSessions(dir);
  try {
    const all: PendingApproval[] = [];
    for (const s of sessions) all.push(...(await s.connection.list()));
    return all;
  } finally {
    for (const s of sessions) s.connection.close();
  }
}

async function withdrawnAfterDisconnect(version: string, cancel = false): Promise<void> {
  const env = makeEnv(`version: 1
permissions:
  ask: [{ rule: mcp__rec__echo, reason: "echo needs a person" }]
mcp:
  servers:
    rec: { command: [node, ./record-server.mjs], sandbox: false }
approvals: { ttl: 120s, channels: [web] }
`);
  try {
    copyFileSync(fixture('record-server.mjs'), path.join(env.workspace, 'record-server.mjs'));
    copyFileSync(fixture('withdraw-agent.mjs'), path.join(env.workspace, 'agent.mjs'));
    const dir = path.join(env.base, 'ap');
    mkdirSync(dir, { mode: 0o700 });
    const runEnv = { XDG_STATE_HOME: env.state, HOME: env.base, CORDON_APPROVALS_DIR: dir };
    const run = cordonAsync(['run', '--', 'node', 'agent.mjs', version, ...(cancel ? ['cancel'] : [])], env.workspace, runEnv);
    try {
      const [p] = await waitPending(dir, 1, 90_000);
      assert.ok(p);
      assert.deepEqual(p.request, { kind: 'mcp', server: 'rec', tool: 'echo', arguments: '{"text":"held"}' });
      // Held (and still pending) a while: nothing is withdrawn while the client waits.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await pendingNow(dir)).length, 1);
      const dropped = Date.now();
      writeFileSync(path.join(env.workspace, 'abort-now'), '');
      const resumable = version === '2025-11-25' && !cancel;
      const limit = (resumable ? RESUME_GRACE_MS : 0) + 20_000;
      let left = await pendingNow(dir);
      while (left.length > 0 && Date.now() - dropped < limit) {
        await new Promise((r) => setTimeout(r, 200));
        left = await pendingNow(dir);
      }
      assert.deepEqual(left, [], 'the approval was withdrawn');
      const after = Date.now() - dropped;
      if (resumable) assert.ok(after >= RESUME_GRACE_MS - 500, `a resumable client's call waits for the grace (withdrawn after ${after} ms)`);
      // A person's answer now decides nothing.
      const late = await cordonAsync(['approvals', 'approve', p.id], env.workspace, runEnv).done;
      assert.notEqual(late.status, 0, late.stdout);
    } finally {
      writeFileSync(path.join(env.workspace, 'abort-now'), '');
      writeFileSync(path.join(env.workspace, 'finish'), '');
    }
    const r = await run.done;
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { aborted?: boolean; call?: string; error?: string };
    assert.equal(out.error, undefined, `${r.stdout}\n${r.stderr}`);
    assert.equal(out.aborted, !cancel);
    // A cancelling client is still there: it gets the refusal.
    if (cancel) {
      assert.match(out.call ?? '', /"isError":true/);
      assert.match(out.call ?? '', /Blocked by cordon security policy.*The client cancelled the call while it waited for approval/s);
    }
    // The server never saw the call; the log records the hold and the withdrawal.
    assert.deepEqual(r.stderr.split('\n').filter((l) => l.startsWith('RECORD ')), [], r.stderr);
    const logDir = path.join(env.state, 'cordon');
    const log = readdirSync(logDir).filter((n) => n.endsWith('.jsonl')).map((n) => readFileSync(path.join(logDir, n), 'utf8')).join('');
    assert.match(log, /"subject":"mcp__rec__echo \{\\"text\\":\\"held\\"\}","decision":"ask"/);
    const why = cancel ? 'The client cancelled the call while it waited for approval' : 'The client went away while the call waited for approval';
    assert.ok(log.split('\n').some((l) => l.includes('"subject":"mcp__rec__echo {\\"text\\":\\"held\\"}","decision":"deny"') && l.includes(why) && l.includes('withdrawn and the call not sent')), log);
  } finally {
    env.cleanup();
  }
}

void describe('Streamable HTTP: a held call is withdrawn when its client goes away', { skip: hasBwrap ? false : 'bubblewrap is not installed' }, () => {
  void it('a client that cannot resume (2025-06-18): withdrawn as its connection closes', { timeout: 180_000 }, () => withdrawnAfterDisconnect('2025-06-18'));
  void it('a client that can resume (2025-11-25): withdrawn when it does not come back within the grace', { timeout: 180_000 }, () => withdrawnAfterDisconnect('2025-11-25'));
  void it('a stateless-era client (2026-07-28: closing the request\'s stream is its cancellation): withdrawn as its connection closes', { timeout: 180_000 }, () => withdrawnAfterDisconnect('2026-07-28'));
  void it('a client that cancels the call (notifications/cancelled): withdrawn at once, the client gets the refusal', { timeout: 180_000 }, () => withdrawnAfterDisconnect('2025-11-25', true));
});

/** A call already sent (allowed) whose client drops its connection: cancelled at the server in the 2026-07-28 era only. */
async function sentCallDropped(version: string): Promise<{ stderr: string; cancelled: boolean }> {
  const env = makeEnv(`version: 1
permissions:
  allow: [mcp__slow__wait]
mcp:
  servers:
    slow: { command: [node, ./slow-server.mjs], sandbox: false }
`);
  try {
    copyFileSync(fixture('slow-server.mjs'), path.join(env.workspace, 'slow-server.mjs'));
    copyFileSync(fixture('withdraw-agent.mjs'), path.join(env.workspace, 'agent.mjs'));
    const run = cordonAsync(['run', '--', 'node', 'agent.mjs', version, 'drop', 'slow__wait'], env.workspace, { XDG_STATE_HOME: env.state, HOME: env.base });
    let stderr = '';
    run.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const until = async (re: RegExp, ms: number): Promise<boolean> => {
      const end = Date.now() + ms;
      while (!re.test(stderr) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      return re.test(stderr);
    };
    let cancelled = false;
    try {
      assert.ok(await until(/^CALL /m, 90_000), `the call reached the server:\n${stderr}`);
      writeFileSync(path.join(env.workspace, 'abort-now'), '');
      cancelled = await until(/^CANCELLED /m, version >= '2026-07-28' ? 20_000 : 3_000);
    } finally {
      writeFileSync(path.join(env.workspace, 'abort-now'), '');
      writeFileSync(path.join(env.workspace, 'finish'), '');
    }
    const r = await run.done;
    assert.equal(r.status, 0, r.stderr);
    return { stderr: r.stderr, cancelled };
  } finally {
    env.cleanup();
  }
}

void describe('Streamable HTTP: a sent call whose client closes its stream', { skip: hasBwrap ? false : 'bubblewrap is not installed' }, () => {
  void it('2026-07-28 (closing the stream is the cancellation): the server gets notifications/cancelled for it', { timeout: 180_000 }, async () => {
    const r = await sentCallDropped('2026-07-28');
    assert.ok(r.cancelled, r.stderr);
    // The id the server saw is the one it is told to cancel.
    const called = /^CALL (.+)$/m.exec(r.stderr)?.[1];
    assert.match(r.stderr, new RegExp(`^CANCELLED ${(called ?? 'none').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  });
  void it('2025-06-18 (a disconnection is not a cancellation): the server is not told', { timeout: 180_000 }, async () => {
    const r = await sentCallDropped('2025-06-18');
    assert.equal(r.cancelled, false, r.stderr);
  });
});
