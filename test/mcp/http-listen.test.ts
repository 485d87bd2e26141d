/**
 * `subscriptions/listen` (2026-07-28: the request whose response is the
 * event stream that replaced the session era's GET stream) through the
 * single-server HTTP gateway, against a real Streamable HTTP server: the
 * acknowledgement and the events reach the client on the listen stream, a
 * tool change announced there is still held back until re-approved, and a
 * client that closes its listen stream ends the server's too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpFront } from '../../src/mcp/http/front.js';
import { newToken } from '../../src/mcp/http/guard.js';
import { singleServerFront } from '../../src/mcp/http/single.js';
import { fixture, makeEnv, type Env } from './helpers.js';
import { gatewayOptions, post, startEvilHttp, startServe, type Running, type Serving } from './http-helpers.js';

const POLICY = `version: 1
permissions:
  allow: [mcp__evil]
`;
const STATELESS = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': STATELESS, 'io.modelcontextprotocol/clientCapabilities': {} };
const SUB = 'io.modelcontextprotocol/subscriptionId';

interface Listen {
  /** JSON-RPC messages received on the stream so far. */
  readonly messages: Record<string, unknown>[];
  /** Resolves with the first message `pick` accepts (rejects after 10 s). */
  next(pick: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  close(): void;
}

interface Target {
  readonly url: string;
  readonly token: string;
  seq(): number;
}

/** A stateless-era client of the gateway at `target()` (raw HTTP: what the SDK client does not send yet). */
function client(target: () => Target) {
const headers = (method: string, name?: string): Record<string, string> => ({
  authorization: `Bearer ${target().token}`, 'mcp-protocol-version': STATELESS, 'mcp-method': method, ...(name === undefined ? {} : { 'mcp-name': name }),
});
const request = async (method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
  const name = typeof params['name'] === 'string' ? params['name'] : undefined;
  const r = await post(target().url, JSON.stringify({ jsonrpc: '2.0', id: target().seq(), method, params: { ...params, _meta: meta } }), headers(method, name));
  assert.equal(r.status, 200, r.text);
  const data = r.text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
  const out = r.headers.get('content-type')?.startsWith('text/event-stream') === true ? data.find((m) => 'result' in m || 'error' in m) : (JSON.parse(r.text) as Record<string, unknown>);
  assert.ok(out !== undefined, r.text);
  return out;
};
const callText = async (name: string): Promise<string> => {
  const r = (await request('tools/call', { name, arguments: {} }))['result'] as { content?: { text?: string }[] } | undefined;
  return (r?.content ?? []).map((c) => c.text ?? '').join('');
};
const toolNames = async (): Promise<string[]> => {
  const r = (await request('tools/list', {}))['result'] as { tools: { name: string }[] };
  return r.tools.map((t) => t.name);
};

const listen = async (id: string): Promise<Listen> => {
  const ac = new AbortController();
  const res = await fetch(target().url, {
    method: 'POST', signal: ac.signal,
    headers: { ...headers('subscriptions/listen'), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { _meta: meta, notifications: { toolsListChanged: true } } }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const body = res.body;
  assert.ok(body !== null);
  void (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of body) {
        buf += dec.decode(chunk as Uint8Array, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          for (const l of buf.slice(0, cut).split('\n')) if (l.startsWith('data: ')) messages.push(JSON.parse(l.slice(6)) as Record<string, unknown>);
          buf = buf.slice(cut + 2);
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    messages,
    next: (pick) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message on the listen stream; got ${JSON.stringify(messages)}`)), 10_000);
      const check = (): void => {
        const m = messages.find(pick);
        if (m !== undefined) {
          clearTimeout(timer);
          resolve(m);
        } else waiters.push(check);
      };
      check();
    }),
    close: () => ac.abort(),
  };
};

const until = async (what: string, f: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 100; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting: ${what}`);
};

return { request, callText, toolNames, listen, until };
}

void describe('HTTP gateway: subscriptions/listen (2026-07-28)', () => {
  let env: Env;
  let upstream: Running;
  let front: HttpFront;
  let url: string;
  const token = newToken();
  let seq = 0;
  before(async () => {
    env = makeEnv(POLICY);
    upstream = await startEvilHttp();
    front = singleServerFront({
      token, maxMessageBytes: 1024 * 1024,
      gateway: gatewayOptions(env, 'evil', { limits: { maxMessageBytes: 1024 * 1024 } }),
      target: { kind: 'http', url: upstream.url, headers: {} },
    });
    url = `http://127.0.0.1:${await front.listen()}/mcp`;
  });
  after(async () => {
    await front.close();
    await upstream.stop();
    env.cleanup();
  });

  const t = (): Target => ({ url, token, seq: () => ++seq });
  const { callText, toolNames, listen, until } = client(t);

  void it('relays the acknowledgement and the events on the listen stream; a change announced there is still held back', async () => {
    const before = await toolNames();
    assert.ok(before.includes('get_weather'), 'the first list pins get_weather');
    const l = await listen('listen-1');
    const ack = await l.next((m) => m['method'] === 'notifications/subscriptions/acknowledged');
    assert.deepEqual((ack['params'] as Record<string, unknown>)['notifications'], { toolsListChanged: true });
    assert.equal(((ack['params'] as Record<string, unknown>)['_meta'] as Record<string, unknown>)[SUB], 'listen-1');
    assert.equal(await callText('listeners'), 'open 1', 'the server holds one listen stream');
    assert.equal(await callText('change'), 'told 1');
    const changed = await l.next((m) => m['method'] === 'notifications/tools/list_changed');
    assert.equal(((changed['params'] as Record<string, unknown>)['_meta'] as Record<string, unknown>)[SUB], 'listen-1');
    // The client refetches, as the event tells it to: the changed tool is not shown until a person approves it.
    const after = await toolNames();
    assert.ok(after.includes('add'), 'unchanged tools still listed');
    assert.ok(!after.includes('get_weather'), `a changed tool is held back: ${after.join(',')}`);
    l.close();
    await until('the server sees the listen stream closed', async () => (await callText('listeners')) === 'open 0');
  });

  void it('a listen stream the client closes at once ends upstream too, and the gateway keeps serving', async () => {
    const l = await listen('listen-2');
    await l.next((m) => m['method'] === 'notifications/subscriptions/acknowledged');
    l.close();
    await until('the server sees the listen stream closed', async () => (await callText('listeners')) === 'open 0');
    assert.equal(await callText('whoami'), 'authorization=none');
  });
});

void describe('cordon mcp serve (aggregating): subscriptions/listen (2026-07-28)', () => {
  let env: Env;
  let serve: Serving['serve'];
  let url = '';
  let token = '';
  let seq = 0;
  const { callText, toolNames, listen } = client(() => ({ url, token, seq: () => ++seq }));
  before(async () => {
    env = makeEnv(`version: 1
permissions:
  allow: [mcp__rug]
mcp:
  servers:
    rug: { command: ${JSON.stringify([process.execPath, fixture('evil-server.mjs'), 'change'])}, sandbox: false }
`);
    ({ serve, url, token } = await startServe(env));
  });
  after(async () => {
    serve.child.kill('SIGTERM');
    await serve.done;
    env.cleanup();
  });

  void it('acknowledges the list filter it honours and tells the subscription of every server\'s list change; the changed tool stays held', async () => {
    const l = await listen('agg-listen');
    const ack = await l.next((m) => m['method'] === 'notifications/subscriptions/acknowledged');
    const params = ack['params'] as Record<string, unknown>;
    assert.deepEqual(params['notifications'], { toolsListChanged: true }, 'honours the list change asked for');
    assert.equal((params['_meta'] as Record<string, unknown>)[SUB], 'agg-listen');
    assert.ok((await toolNames()).includes('rug__get_weather'));
    // The server changes a tool's definition and announces it (a rug pull).
    assert.equal(await callText('rug__change'), 'changed');
    const changed = await l.next((m) => m['method'] === 'notifications/tools/list_changed');
    assert.equal(((changed['params'] as Record<string, unknown>)['_meta'] as Record<string, unknown>)[SUB], 'agg-listen');
    const names = await toolNames();
    assert.ok(names.includes('rug__add'));
    assert.ok(!names.includes('rug__get_weather'), `the changed tool is held back: ${names.join(',')}`);
    l.close();
  });

  void it('answers subscriptions/listen without an event stream with an error, never a hang', async () => {
    const r = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 'no-sse', method: 'subscriptions/listen', params: { _meta: meta, notifications: { toolsListChanged: true } } }), {
      authorization: `Bearer ${token}`, 'mcp-protocol-version': STATELESS, 'mcp-method': 'subscriptions/listen', accept: 'application/json',
    });
    assert.match(r.text, /event stream/);
    assert.match(r.text, /"error"/);
  });
});
