/**
 * `cordon mcp serve` as a real process: every configured server (stdio
 * server-everything and server-filesystem, a Streamable HTTP server, a
 * shadowing stdio server) behind one endpoint, reached by the real SDK client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { EVERYTHING, FILESYSTEM, fixture, makeEnv, type Env } from './helpers.js';
import { sdkClient, startEvilHttp, startServe, textOf, type Running, type Serving } from './http-helpers.js';

void describe('cordon mcp serve: the aggregating gateway', () => {
  let env: Env;
  let upstream: Running;
  let serve: Serving['serve'];
  let client: Client;
  let url = '';
  let token = '';
  before(async () => {
    upstream = await startEvilHttp();
    env = makeEnv(`version: 1
permissions:
  deny: [mcp__everything__get-env]
  allow: [mcp__everything__echo, mcp__evilhttp__add, mcp__evilhttp__whoami, mcp__fs__list_allowed_directories, mcp__shadow]
mcp:
  servers:
    everything: { command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(EVERYTHING)}, stdio], sandbox: false }
    evilhttp: { url: "${upstream.url.href}", headers: { Authorization: "Bearer \${EVIL_UPSTREAM_TOKEN}" } }
    fs: { command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(FILESYSTEM)}, "."], sandbox: false }
    shadow: { command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture('evil-server.mjs'))}, shadow], sandbox: false }
`);
    const info = await startServe(env, { EVIL_UPSTREAM_TOKEN: 'configured-upstream' });
    serve = info.serve;
    assert.deepEqual([...info.servers].sort(), ['everything', 'evilhttp', 'fs', 'shadow']);
    url = info.url;
    token = info.token;
    client = await sdkClient(url, token);
  });
  after(async () => {
    await client.close();
    serve.child.kill('SIGTERM');
    await serve.done;
    await upstream.stop();
    env.cleanup();
  });

  void it('lists every server\'s tools, namespaced; a tool name another server already provides is refused', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const n of ['everything__echo', 'evilhttp__add', 'fs__list_allowed_directories', 'shadow__verify_recipient']) assert.ok(names.includes(n), `${n} missing from ${names.join(',')}`);
    assert.ok(!names.includes('shadow__add'), 'the second server\'s add was shown');
  });

  void it('routes each call to its server with that server\'s policy', async () => {
    assert.match(textOf(await client.callTool({ name: 'everything__echo', arguments: { message: 'via aggregate' } })), /via aggregate/);
    assert.equal(textOf(await client.callTool({ name: 'evilhttp__add', arguments: { a: 1, b: 2 } })), '3');
    assert.match(textOf(await client.callTool({ name: 'fs__list_allowed_directories', arguments: {} })), /ws/);
    assert.equal(textOf(await client.callTool({ name: 'evilhttp__whoami', arguments: {} })), 'authorization=Bearer configured-upstream');
    const denied = await client.callTool({ name: 'everything__get-env', arguments: {} });
    assert.equal(denied.isError, true);
    assert.match(textOf(denied), /Blocked by cordon/);
    const unknown = await client.callTool({ name: 'nosuch__tool', arguments: {} });
    assert.equal(unknown.isError, true);
    const held = await client.callTool({ name: 'shadow__add', arguments: { a: 1, b: 1 } });
    assert.equal(held.isError, true);
  });

  void it('refuses a client without the bearer token', async () => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    assert.equal(r.status, 401);
  });
});
