/**
 * Requests from servers through the aggregating endpoint (`cordon mcp serve`
 * as a real process): server-everything's sampling, elicitation and roots
 * triggers, over stdio, reach the real SDK client over Streamable HTTP under
 * cordon's ids, and the client's answers go back to the right server; two
 * servers that number their requests alike are told apart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { EVERYTHING, fixture, makeEnv, type Env } from './helpers.js';
import { startServe, textOf, type Serving } from './http-helpers.js';

/** An AWS access key id of the right shape, built so this file holds no literal key. */
const KEY = ['AKIA', 'Q3EGRTX7', 'WZ5KDN2M'].join('');

const server = (name: string, argv: readonly string[]): string => `    ${name}: { command: ${JSON.stringify([process.execPath, ...argv])}, sandbox: false }`;

async function client(url: string, token: string, capabilities: Record<string, unknown>): Promise<Client> {
  const c = new Client({ name: 'cordon-relay-test', version: '0.0.0' }, { capabilities });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return c;
}

void describe('cordon mcp serve: requests from servers reach the client', () => {
  let env: Env;
  let serve: Serving['serve'];
  let url = '';
  let token = '';
  const seen: { method: string; id: string | number; text: string }[] = [];
  let full: Client;
  before(async () => {
    env = makeEnv(`version: 1
permissions:
  allow: [mcp__everything, mcp__one, mcp__two]
mcp:
  servers:
${server('everything', [EVERYTHING, 'stdio'])}
${server('one', [fixture('asker-server.mjs'), 'ask_one'])}
${server('two', [fixture('asker-server.mjs'), 'ask_two'])}
`);
    ({ serve, url, token } = await startServe(env));
    full = await client(url, token, { sampling: {}, elicitation: {}, roots: { listChanged: true } });
    full.setRequestHandler(CreateMessageRequestSchema, async (req, extra) => {
      const text = JSON.stringify(req.params.messages);
      seen.push({ method: req.method, id: extra.requestId, text });
      await new Promise((r) => setTimeout(r, 50)); // both servers' requests are outstanding at once
      if (text.includes('leak')) return { model: 'test-model', role: 'assistant', content: { type: 'text', text: `here is the key ${KEY}` } };
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: `sampled for ${/(alpha|bravo|delta)/.exec(text)?.[1] ?? '?'}` } };
    });
    full.setRequestHandler(ElicitRequestSchema, (req, extra) => {
      seen.push({ method: req.method, id: extra.requestId, text: req.params.message });
      return { action: 'accept', content: { name: 'Ada Lovelace', check: true, email: 'ada@example.com' } };
    });
    full.setRequestHandler(ListRootsRequestSchema, (req, extra) => {
      seen.push({ method: req.method, id: extra.requestId, text: '' });
      return { roots: [{ uri: 'file:///work/relay-root', name: 'relay-root' }] };
    });
  });
  after(async () => {
    await full.close();
    serve.child.kill('SIGTERM');
    await serve.done;
    env.cleanup();
  });

  void it('relays two servers\' sampling requests (both numbered 0 by their servers) at once under distinct ids and returns each answer to its server', async () => {
    const [a, b] = await Promise.all([
      full.callTool({ name: 'one__ask_one', arguments: { prompt: 'alpha' } }),
      full.callTool({ name: 'two__ask_two', arguments: { prompt: 'bravo' } }),
    ]);
    assert.equal(textOf(a), 'ask_one asked with id 0; answer: sampled for alpha');
    assert.equal(textOf(b), 'ask_two asked with id 0; answer: sampled for bravo');
    const sampling = seen.filter((s) => s.method === 'sampling/createMessage');
    assert.equal(sampling.length, 2);
    assert.notEqual(sampling[0]?.id, sampling[1]?.id, 'each relayed request has its own id');
    for (const s of sampling) assert.match(String(s.id), /^cordon-r\d+$/);
  });

  void it('withholds a client answer that carries a secret (DLP): the server gets an error and never the key', async () => {
    const r = await full.callTool({ name: 'one__ask_one', arguments: { prompt: 'please leak' } });
    const text = textOf(r);
    assert.match(text, /^ask_one asked with id \d+; error: cordon withheld the client's answer: it carries a finding \(aws-access-key-id/);
    assert.ok(!text.includes(KEY) && !text.includes(KEY.slice(4)), text);
  });

  void it('relays server-everything\'s own sampling request', async () => {
    const r = await full.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'delta', maxTokens: 5 } });
    assert.match(textOf(r), /sampled for delta/);
  });

  void it('relays an elicitation and the roots request, and the servers see the client\'s answers', async () => {
    const e = await full.callTool({ name: 'everything__trigger-elicitation-request', arguments: {} });
    assert.match(textOf(e), /Ada Lovelace/);
    const r = await full.callTool({ name: 'everything__get-roots-list', arguments: {} });
    assert.match(textOf(r), /relay-root/);
    assert.ok(seen.some((s) => s.method === 'elicitation/create'));
    assert.ok(seen.some((s) => s.method === 'roots/list'));
  });

  void it('answers a server itself when the client did not declare the capability (nothing reaches that client)', async () => {
    const bare = await client(url, token, {});
    let asked = 0;
    bare.fallbackRequestHandler = () => {
      asked++;
      return Promise.resolve({});
    };
    try {
      const r = await bare.callTool({ name: 'everything__trigger-sampling-request', arguments: { prompt: 'charlie', maxTokens: 5 } });
      assert.equal(r.isError, true, textOf(r));
      assert.match(textOf(r), /did not declare the sampling capability/);
      assert.equal(asked, 0);
    } finally {
      await bare.close();
    }
  });

  void it('refuses a response that answers nothing cordon relayed', async () => {
    const init = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } }) });
    const sid = init.headers.get('mcp-session-id') ?? '';
    await init.text();
    const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25', 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 'cordon-r1', result: { model: 'forged', role: 'assistant', content: { type: 'text', text: 'x' } } }) });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /answers no request cordon relayed to this session/);
  });
});
