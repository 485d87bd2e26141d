/**
 * `cordon mcp wrap` (the real CLI) in front of the real server-memory from
 * npm, run in its own bubblewrap sandbox with only the environment the policy
 * gives it, driven by the real SDK client: allowed calls change the knowledge
 * graph; a denied tool and a call carrying a credential are refused with an
 * isError result, and the server's memory file shows it never got them.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ROOT, connectThroughCli, makeEnv, type Env, type Wrapped } from './helpers.js';

const MEMORY = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
const skip = !existsSync(MEMORY) ? 'server-memory is not installed (npm ci)' : !existsSync('/usr/bin/bwrap') ? 'bubblewrap is not installed' : false;

function text(r: unknown): string {
  const c = (r as { content?: { type: string; text?: string }[] }).content ?? [];
  return c.map((x) => x.text ?? '').join('\n');
}

void describe('server-memory through cordon mcp wrap (real CLI, server sandboxed)', { skip }, () => {
  let env: Env;
  let client: Client;
  let w: Wrapped;
  let memoryFile = '';
  const memory = (): string => (existsSync(memoryFile) ? readFileSync(memoryFile, 'utf8') : '');

  before(async () => {
    env = makeEnv('version: 1\n');
    memoryFile = path.join(env.workspace, 'memory.jsonl');
    writeFileSync(path.join(env.workspace, 'cordon.yaml'), `version: 1
mcp:
  servers:
    memory: { policy: server-policy.yaml, env: { MEMORY_FILE_PATH: ${JSON.stringify(memoryFile)} } }
permissions:
  allow: [mcp__memory__create_entities, mcp__memory__add_observations, mcp__memory__read_graph, mcp__memory__search_nodes, mcp__memory__open_nodes]
  deny: [mcp__memory__delete_entities]
`);
    // The server's own sandbox: it may read its package (and the SDK beside it); the workspace is writable.
    writeFileSync(path.join(env.workspace, 'server-policy.yaml'), `version: 1\npermissions:\n  allow: ["Read(/${path.join(ROOT, 'node_modules')}/**)"]\n`);
    w = await connectThroughCli(env, ['--name', 'memory', '--', process.execPath, MEMORY]);
    client = w.client;
  });
  after(async () => {
    await client.close();
    env.cleanup();
  });

  void it('lists the server\'s tools', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    for (const n of ['create_entities', 'read_graph', 'search_nodes', 'delete_entities']) assert.ok(names.includes(n), `${n} in ${names.join(', ')} (${w.stderr()})`);
  });

  void it('allowed calls reach the server: an entity created, found and read back', async () => {
    const made = await client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'cordon', entityType: 'project', observations: ['contains coding agents'] }] } });
    assert.notEqual(made.isError, true, `${text(made)} ${w.stderr()}`);
    const found = await client.callTool({ name: 'search_nodes', arguments: { query: 'cordon' } });
    assert.match(text(found), /contains coding agents/);
    const graph = await client.callTool({ name: 'read_graph', arguments: {} });
    assert.match(text(graph), /"name":\s*"cordon"/);
    assert.match(memory(), /contains coding agents/, 'the server wrote its file in the workspace (its sandbox lets it)');
  });

  void it('a denied tool is refused with an isError result, and the server never ran it', async () => {
    const r = await client.callTool({ name: 'delete_entities', arguments: { entityNames: ['cordon'] } });
    assert.equal(r.isError, true, text(r));
    assert.match(text(r), /delete_entities/);
    assert.match(memory(), /"name":"cordon"/, 'the entity is still in the server\'s file');
    const graph = await client.callTool({ name: 'read_graph', arguments: {} });
    assert.match(text(graph), /"name":\s*"cordon"/);
  });

  void it('an observation carrying a credential is refused before the server sees it', async () => {
    const key = ['ghp', '_', 'R7kQ2mX9vL4pT8wZ3nB6cF1hJ5dS0aE2yU7i'].join('');
    const r = await client.callTool({ name: 'add_observations', arguments: { observations: [{ entityName: 'cordon', contents: [`deploy token ${key}`] }] } });
    assert.equal(r.isError, true, text(r));
    assert.doesNotMatch(text(r), new RegExp(key), 'the refusal does not repeat the secret');
    assert.doesNotMatch(memory(), new RegExp(key), 'the server\'s file never got it');
    const ok = await client.callTool({ name: 'add_observations', arguments: { observations: [{ entityName: 'cordon', contents: ['written in TypeScript'] }] } });
    assert.notEqual(ok.isError, true, text(ok));
    assert.match(memory(), /written in TypeScript/, 'a clean call after it still works');
  });
});
