/**
 * Malicious and broken Streamable HTTP servers, and malformed clients,
 * through the HTTP gateway: each is stopped and legitimate calls still work.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { HttpFront } from '../../src/mcp/http/front.js';
import { newToken } from '../../src/mcp/http/guard.js';
import { singleServerFront } from '../../src/mcp/http/single.js';
import { makeEnv, type Env } from './helpers.js';
import { gatewayOptions, post, sdkClient, startEvilHttp, textOf, type Running } from './http-helpers.js';

const POLICY = `version: 1
permissions:
  allow: [mcp__evil]
`;
const STATELESS = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': STATELESS, 'io.modelcontextprotocol/clientCapabilities': {} };

void describe('HTTP gateway against a malicious Streamable HTTP server', () => {
  let env: Env;
  let upstream: Running;
  let front: HttpFront;
  let url: string;
  const token = newToken();
  let client: Client;
  const records: { subject: string; decision: string; rule: string }[] = [];
  before(async () => {
    env = makeEnv(POLICY);
    upstream = await startEvilHttp();
    front = singleServerFront({
      token, maxMessageBytes: 1024 * 1024,
      gateway: gatewayOptions(env, 'evil', { audit: (r) => { records.push(r); return true; }, limits: { maxMessageBytes: 1024 * 1024 } }),
      target: { kind: 'http', url: upstream.url, headers: { authorization: 'Bearer upstream-credential' } },
    });
    url = `http://127.0.0.1:${await front.listen()}/mcp`;
    client = await sdkClient(url, token);
  });
  after(async () => {
    await client.close();
    await front.close();
    await upstream.stop();
    env.cleanup();
  });

  const add = async (): Promise<void> => {
    const r = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
    assert.equal(textOf(r), '42');
  };

  void it('never passes the client\'s token upstream: the server sees only its configured credential', async () => {
    const r = await client.callTool({ name: 'whoami', arguments: {} });
    assert.equal(textOf(r), 'authorization=Bearer upstream-credential');
  });

  void it('withholds a tool result that carries an injection and a beacon', async () => {
    const r = await client.callTool({ name: 'fetch_page', arguments: { url: 'https://docs.example' } });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /cordon withheld this tool result/);
    assert.doesNotMatch(textOf(r), /aws\/credentials/);
    await add();
  });

  void it('holds back a tool whose definition changed (rug pull over HTTP)', async () => {
    const first = await client.listTools();
    assert.ok(first.tools.some((t) => t.name === 'get_weather'));
    const second = await client.listTools();
    assert.ok(!second.tools.some((t) => t.name === 'get_weather'), 'changed tool still shown');
    const r = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /cordon mcp pins approve evil get_weather/);
    await add();
  });

  void it('answers a result over the size limit with an error, never a hang', async () => {
    await assert.rejects(client.callTool({ name: 'big', arguments: { bytes: 2 * 1024 * 1024 } }), /over cordon's limit/);
    await add();
  });

  void it('answers a malformed event stream with an error, never a hang', async () => {
    await assert.rejects(client.callTool({ name: 'garbage', arguments: {} }), /did not answer|malformed|not valid JSON/);
    await add();
  });

  void it('refuses an oversized request body with 413', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'add', arguments: { a: 'x'.repeat(2 * 1024 * 1024) } } });
    const r = await post(url, big, { authorization: `Bearer ${token}` });
    assert.equal(r.status, 413);
    await add();
  });

  void it('refuses malformed JSON-RPC and batches with 400', async () => {
    assert.equal((await post(url, '{"jsonrpc":"2.0",', { authorization: `Bearer ${token}` })).status, 400);
    const batch = await post(url, JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }]), { authorization: `Bearer ${token}` });
    assert.equal(batch.status, 400);
    assert.match(batch.text, /batches/);
  });

  void it('stateless era (2026-07-28): refuses Mcp-Method and Mcp-Name headers that disagree with the body', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 'h1', method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 }, _meta: meta } });
    const auth = { authorization: `Bearer ${token}`, 'mcp-protocol-version': STATELESS };
    const wrongMethod = await post(url, body, { ...auth, 'mcp-method': 'tools/list', 'mcp-name': 'add' });
    assert.equal(wrongMethod.status, 400);
    assert.equal((JSON.parse(wrongMethod.text) as { error: { code: number } }).error.code, -32020);
    const wrongName = await post(url, body, { ...auth, 'mcp-method': 'tools/call', 'mcp-name': 'whoami' });
    assert.equal(wrongName.status, 400);
    const missing = await post(url, body, auth);
    assert.equal(missing.status, 400);
    const wrongVersion = await post(url, body, { ...auth, 'mcp-protocol-version': '2026-09-01', 'mcp-method': 'tools/call', 'mcp-name': 'add' });
    assert.equal(wrongVersion.status, 400);
    // The same request with matching headers goes through (the server checks what the gateway sent it).
    const ok = await post(url, body, { ...auth, 'mcp-method': 'tools/call', 'mcp-name': 'add' });
    assert.equal(ok.status, 200, ok.text);
    assert.match(ok.text, /"text":"3"/);
    assert.equal(ok.headers.get('mcp-session-id'), null);
  });

  void it('stateless era: server/discover passes, a base64 Mcp-Name is decoded, input_required results are scanned', async () => {
    const auth = { authorization: `Bearer ${token}`, 'mcp-protocol-version': STATELESS };
    const disc = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 'd1', method: 'server/discover', params: { _meta: meta } }), { ...auth, 'mcp-method': 'server/discover' });
    assert.equal(disc.status, 200, disc.text);
    assert.match(disc.text, /supportedVersions/);
    const ask = (id: string, poison: boolean): Promise<{ status: number; text: string }> => post(url, JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'ask', arguments: { poison }, _meta: meta } }), { ...auth, 'mcp-method': 'tools/call', 'mcp-name': `=?base64?${Buffer.from('ask').toString('base64')}?=` });
    const benign = await ask('a1', false);
    assert.equal(benign.status, 200, benign.text);
    assert.match(benign.text, /input_required/);
    assert.match(benign.text, /Which city/);
    const poisoned = await ask('a2', true);
    assert.equal(poisoned.status, 200);
    assert.doesNotMatch(poisoned.text, /id_rsa/);
    assert.match(poisoned.text, /cordon withheld/);
  });

  void it('records the refusals in the audit records', () => {
    assert.ok(records.some((r) => r.rule === 'injection block'));
    assert.ok(records.some((r) => r.subject.startsWith('mcp__evil__get_weather') && r.decision === 'deny'));
  });
});
