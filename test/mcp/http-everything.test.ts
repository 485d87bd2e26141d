/** The real server-everything over Streamable HTTP and the real SDK client, through the HTTP gateway; and a stdio server fronted over HTTP. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { newToken } from '../../src/mcp/http/guard.js';
import { singleServerFront } from '../../src/mcp/http/single.js';
import type { HttpFront } from '../../src/mcp/http/front.js';
import { EVERYTHING, makeEnv, type Env } from './helpers.js';
import { gatewayOptions, post, sdkClient, startEverythingHttp, textOf, type Running } from './http-helpers.js';

const POLICY = `version: 1
permissions:
  deny: [{ rule: mcp__everything__echo, args: { message: { regex: "forbidden" } }, reason: "test deny" }]
  allow: [mcp__everything__echo, mcp__everything__get-sum, mcp__everything__resources/read, mcp__everything__trigger-long-running-operation]
`;

void describe('server-everything over Streamable HTTP through the HTTP gateway', () => {
  let env: Env;
  let upstream: Running;
  let front: HttpFront;
  let url: string;
  const token = newToken();
  let client: Client;
  before(async () => {
    env = makeEnv(POLICY);
    upstream = await startEverythingHttp();
    front = singleServerFront({ token, gateway: gatewayOptions(env, 'everything'), target: { kind: 'http', url: upstream.url, headers: {} } });
    const port = await front.listen();
    url = `http://127.0.0.1:${port}/mcp`;
    client = await sdkClient(url, token);
  });
  after(async () => {
    await client.close();
    await front.close();
    await upstream.stop();
    env.cleanup();
  });

  void it('lists the real tools and passes an allowed call', async () => {
    const { tools } = await client.listTools();
    assert.ok(tools.some((t) => t.name === 'echo'));
    const r = await client.callTool({ name: 'echo', arguments: { message: 'hello over http' } });
    assert.match(textOf(r), /hello over http/);
    assert.notEqual(r.isError, true);
  });

  void it('refuses a denied call with an isError result, and a tool no rule allows', async () => {
    const denied = await client.callTool({ name: 'echo', arguments: { message: 'this is forbidden' } });
    assert.equal(denied.isError, true);
    assert.match(textOf(denied), /Blocked by cordon security policy.*test deny/is);
    const ask = await client.callTool({ name: 'get-env', arguments: {} });
    assert.equal(ask.isError, true);
  });

  void it('relays a call whose response arrives on an event stream with progress notifications', async () => {
    const seen: number[] = [];
    const { tools } = await client.listTools();
    const slow = tools.find((t) => t.name === 'trigger-long-running-operation');
    assert.ok(slow !== undefined, tools.map((t) => t.name).join(','));
    const r = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } }, undefined, { onprogress: (p) => seen.push(p.progress) });
    assert.notEqual(r.isError, true, textOf(r));
    assert.ok(seen.length >= 2, `progress seen: ${seen.join(',')}`);
  });

  void it('refuses requests without the bearer token, with a wrong one, or from a foreign origin', async () => {
    const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    assert.equal((await post(url, init, {})).status, 401);
    assert.equal((await post(url, init, { authorization: `Bearer ${newToken()}` })).status, 401);
    const bad = await post(url, init, { authorization: `Bearer ${token}`, origin: 'http://evil.example' });
    assert.equal(bad.status, 403);
    assert.match(bad.text, /origin/);
    const ok = await post(url, init, { authorization: `Bearer ${token}`, origin: new URL(url).origin });
    assert.equal(ok.status, 200);
    assert.ok(ok.headers.get('mcp-session-id'));
  });
});

void describe('a stdio server fronted over Streamable HTTP', () => {
  let env: Env;
  let front: HttpFront;
  const token = newToken();
  let client: Client;
  before(async () => {
    env = makeEnv(POLICY);
    front = singleServerFront({
      token, gateway: gatewayOptions(env, 'everything'),
      target: { kind: 'stdio', launch: { server: 'everything', argv: [process.execPath, EVERYTHING, 'stdio'], env: {}, cwd: env.workspace, sandbox: null }, audit: () => true },
    });
    const port = await front.listen();
    client = await sdkClient(`http://127.0.0.1:${port}/mcp`, token);
  });
  after(async () => {
    await client.close();
    await front.close();
    env.cleanup();
  });

  void it('calls through to the stdio server', async () => {
    const r = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    assert.match(textOf(r), /5/);
  });
});
