/** The real server-everything and the real SDK client, over stdio through `cordon mcp wrap`. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectThroughGateway, EVERYTHING, makeEnv, ROOT, type Env, type Wrapped } from './helpers.js';

const POLICY = `version: 1
permissions:
  deny: [{ rule: mcp__everything__echo, args: { message: { regex: "forbidden" } }, reason: "test deny" }]
  allow: [mcp__everything__echo, mcp__everything__get-sum, mcp__everything__resources/read]
`;

function textOf(r: unknown): string {
  const content = (r as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('');
}

void describe('server-everything through the gateway (stdio, unsandboxed)', () => {
  let env: Env;
  let w: Wrapped;
  before(async () => {
    env = makeEnv(POLICY);
    w = await connectThroughGateway(env, [process.execPath, EVERYTHING, 'stdio'], { name: 'everything', sandbox: false });
  });
  after(async () => {
    await w.close();
    env.cleanup();
  });

  void it('lists the real tools (none flagged) and pins them on first use', async () => {
    const { tools } = await w.client.listTools();
    const names = tools.map((t) => t.name);
    assert.ok(names.includes('echo'), names.join(','));
    assert.ok(names.length >= 5);
    const pins = readdirSync(path.join(env.state, 'cordon', 'mcp-pins'));
    assert.equal(pins.length, 1);
    const rec = JSON.parse(readFileSync(path.join(env.state, 'cordon', 'mcp-pins', pins[0] ?? ''), 'utf8')) as { tools: Record<string, unknown>; pending: Record<string, unknown> };
    assert.deepEqual(Object.keys(rec.pending), []);
    assert.ok(rec.tools['echo'] !== undefined);
  });

  void it('passes an allowed echo call and refuses a denied one with an isError result', async () => {
    const ok = await w.client.callTool({ name: 'echo', arguments: { message: 'hello' } });
    assert.match(textOf(ok), /hello/);
    assert.notEqual(ok.isError, true);
    const denied = await w.client.callTool({ name: 'echo', arguments: { message: 'this is forbidden' } });
    assert.equal(denied.isError, true);
    assert.match(textOf(denied), /Blocked by cordon security policy.*test deny/is);
  });

  void it('refuses a tool no rule allows (standalone wrap has no approval service; the reason says how to get asked)', async () => {
    const r = await w.client.callTool({ name: 'get-env', arguments: {} });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /needs a person's approval.*no approval service.*cordon run/s);
  });

  void it('records every decision in the audit log', async () => {
    const logs = readdirSync(path.join(env.state, 'cordon')).filter((n) => n.endsWith('.jsonl'));
    assert.equal(logs.length, 1);
    const read = (): { subject: string; decision: string }[] => readFileSync(path.join(env.state, 'cordon', logs[0] ?? ''), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { subject: string; decision: string });
    const recorded = (lines: { subject: string; decision: string }[]): boolean[] => [
      lines.some((l) => l.subject.startsWith('mcp__everything spawn') && l.decision === 'allow'),
      lines.some((l) => l.subject.startsWith('mcp__everything__echo {"message":"hello"}') && l.decision === 'allow'),
      lines.some((l) => l.subject.includes('forbidden') && l.decision === 'deny'),
    ];
    // The gateway appends its records within 10 ms of each decision (off the reply's path): wait that long, boundedly.
    let seen = recorded(read());
    for (let i = 0; i < 50 && seen.includes(false); i++) {
      await new Promise((r) => setTimeout(r, 20));
      seen = recorded(read());
    }
    assert.deepEqual(seen, [true, true, true]);
  });
});

const SANDBOX_POLICY = `version: 1
mcp:
  servers:
    everything: { policy: server-policy.yaml, env: { GIVEN_TO_SERVER: "yes" } }
permissions:
  allow: [mcp__everything__echo, mcp__everything__get-env]
`;

void describe('server-everything in its own sandbox', { skip: existsSync('/usr/bin/bwrap') ? false : 'bubblewrap is not installed' }, () => {
  let env: Env;
  let w: Wrapped;
  before(async () => {
    env = makeEnv(SANDBOX_POLICY);
    writeFileSync(path.join(env.workspace, 'server-policy.yaml'), `version: 1\npermissions:\n  allow: ["Read(/${path.join(ROOT, 'node_modules')}/**)"]\n`);
    w = await connectThroughGateway(env, [process.execPath, EVERYTHING, 'stdio'], { name: 'everything' });
  });
  after(async () => {
    await w.close();
    env.cleanup();
  });

  void it('answers calls, sees only its configured environment and a private home', async () => {
    const ok = await w.client.callTool({ name: 'echo', arguments: { message: 'from the sandbox' } });
    assert.match(textOf(ok), /from the sandbox/);
    const envResult = await w.client.callTool({ name: 'get-env', arguments: {} });
    const seen = JSON.parse(textOf(envResult)) as Record<string, string>;
    assert.equal(seen['GIVEN_TO_SERVER'], 'yes');
    assert.equal(seen['CORDON_TEST_WRAP_OPTS'], undefined);
    assert.notEqual(seen['HOME'], env.base);
  });
});
