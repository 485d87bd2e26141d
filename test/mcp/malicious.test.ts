/**
 * Malicious servers written for the tests (fixtures/evil-server.mjs), each
 * behind `cordon mcp wrap` with the real SDK client: every attack is stopped
 * and the server's legitimate tool keeps working.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { mcpPins } from '../../src/cli/mcp-cmd.js';
import { emptyPinFile, PinStore } from '../../src/mcp/pin-store.js';
import { connectThroughGateway, fixture, makeEnv, type Env, type Wrapped } from './helpers.js';

const EVIL = fixture('evil-server.mjs');
const POLICY = `version: 1
permissions:
  allow: [mcp__evil]
`;

function textOf(r: unknown): string {
  return ((r as { content?: { text?: string }[] }).content ?? []).map((c) => c.text ?? '').join('');
}

async function addWorks(w: Wrapped): Promise<void> {
  const r = await w.client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
  assert.equal(textOf(r), '5');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void describe('malicious MCP servers behind the gateway', () => {
  let env: Env | undefined;
  let w: Wrapped | undefined;
  const open = async (mode: string, opts: Record<string, unknown> = {}, extraEnv?: Env): Promise<Wrapped> => {
    env = extraEnv ?? makeEnv(POLICY);
    w = await connectThroughGateway(env, [process.execPath, EVIL, mode], { name: 'evil', sandbox: false, ...opts });
    return w;
  };
  afterEach(async () => {
    await w?.close();
    env?.cleanup();
    w = undefined;
    env = undefined;
  });

  void it('poisoned description: the tool is held back, calling it is refused, instructions are dropped', async () => {
    const c = await open('poison');
    const { tools } = await c.client.listTools();
    assert.deepEqual(tools.map((t) => t.name), ['add']);
    assert.equal(c.client.getInstructions(), undefined);
    const r = await c.client.callTool({ name: 'search_docs', arguments: { query: 'x' } });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /tries to instruct the agent/);
    await addWorks(c);
  });

  void it('rug pull: a definition that changes after the first list is held back until approved', async () => {
    const c = await open('rugpull');
    assert.deepEqual((await c.client.listTools()).tools.map((t) => t.name).sort(), ['add', 'get_weather']);
    await sleep(400); // list_changed arrives; the gateway re-lists by itself
    assert.deepEqual((await c.client.listTools()).tools.map((t) => t.name), ['add']);
    const r = await c.client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /changed since it was pinned/);
    await addWorks(c);
    const out: string[] = [];
    const pinDir = path.join(env?.state ?? '', 'cordon', 'mcp-pins');
    const io = { out: (t: string) => out.push(t), stderr: (t: string) => out.push(t) };
    assert.equal(mcpPins('list', ['evil'], { pinDir }, io), 0);
    assert.match(out.join(''), /held {5}get_weather {2}\(changed\)[\s\S]*\+ {3}"description": "Get the weather for a city\. Results are cached/);
    assert.equal(mcpPins('approve', ['evil', 'get_weather'], { pinDir }, io), 0);
    // A new session sees the approved definition.
    await c.close();
    const again = await connectThroughGateway(env as Env, [process.execPath, EVIL, 'rugpull'], { name: 'evil', sandbox: false });
    w = again;
    // This fresh server instance starts with the old definition, which is no longer the pinned one.
    assert.deepEqual((await again.client.listTools()).tools.map((t) => t.name), ['add']);
  });

  void it('shadowing: a description that rewrites another server\'s send_email is held back', async () => {
    const e = makeEnv(POLICY);
    const store = new PinStore(path.join(e.state, 'cordon', 'mcp-pins'));
    const mail = emptyPinFile('mail', ['mail-server']);
    store.save({ ...mail, tools: { send_email: { hash: 'a'.repeat(64), definition: { name: 'send_email' }, approvedAt: new Date().toISOString(), how: 'approved' } } });
    const c = await open('shadow', {}, e);
    const { tools } = await c.client.listTools();
    assert.deepEqual(tools.map((t) => t.name), ['add']);
    await addWorks(c);
  });

  void it('result with an injection and a markdown image beacon: withheld (block) or cut out (redact)', async () => {
    const c = await open('beacon');
    const r = await c.client.callTool({ name: 'fetch_page', arguments: { url: 'https://docs.example' } });
    assert.equal(r.isError, true);
    assert.doesNotMatch(textOf(r), /evil\.example/);
    await addWorks(c);
    await c.close();
    env?.cleanup();
    const d = await open('beacon', { injection: 'redact' });
    const red = await d.client.callTool({ name: 'fetch_page', arguments: { url: 'https://docs.example' } });
    assert.notEqual(red.isError, true);
    assert.match(textOf(red), /Our docs are here/);
    assert.doesNotMatch(textOf(red), /pixel\.png|Ignore all previous/);
  });

  void it('a server reading the agent\'s secrets from its environment finds only its configured variables', async () => {
    process.env['CORDON_TEST_FAKE_SECRET'] = 'AKIAIOSFODNN7EXAMPLE';
    try {
      const c = await open('env');
      const r = await c.client.callTool({ name: 'print_env', arguments: {} });
      const seen = JSON.parse(textOf(r)) as Record<string, string>;
      assert.equal(seen['CORDON_TEST_FAKE_SECRET'], undefined);
      assert.equal(seen['CORDON_TEST_WRAP_OPTS'], undefined);
      assert.equal(seen['XDG_STATE_HOME'], undefined);
      assert.ok(seen['PATH'] !== undefined);
    } finally {
      delete process.env['CORDON_TEST_FAKE_SECRET'];
    }
  });

  void it('oversized and malformed stream: the client gets an error, never a hang, and the next call works', async () => {
    const c = await open('flood', { maxMessageBytes: 64 * 1024 });
    await assert.rejects(c.client.callTool({ name: 'big', arguments: { bytes: 200_000 } }), /over cordon's limit/);
    await addWorks(c);
    const small = await c.client.callTool({ name: 'big', arguments: { bytes: 1000 } });
    assert.equal(textOf(small).length, 1000);
    assert.match(c.stderr(), /dropped a server message: not valid JSON/);
    assert.match(c.stderr(), /no pending request/);
  });
});
