/**
 * `mcp.servers.<name>.credential`: a Streamable HTTP server's own credential
 * from the policy's `credentials`, against a real server that logs the
 * Authorization header it receives. Under `cordon run` it goes through the
 * credential broker: the server gets the real value, while the agent (and
 * the gateway) only ever see the placeholder. Standalone, the gateway reads
 * the source. A server whose URL is not on the credential's hosts is refused
 * at start, with what to do.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cordon, cordonAsync } from '../cli-helpers.js';
import { makeEnv, type Env } from './helpers.js';
import { sdkClient, startEvilHttp, startServe, textOf, type Running } from './http-helpers.js';

const bwrap = ['/usr/bin/bwrap', '/bin/bwrap'].some((p) => existsSync(p));
/** The upstream's real token (made up, of a plain shape: no detector's). */
const REAL = ['upstream', 'real', 'value', '7f3k9q2m'].join('-');

const policy = (port: number, hosts: string): string => `version: 1
permissions:
  allow: [mcp__evilhttp]
credentials:
  EVIL_TOKEN: { hosts: [${JSON.stringify(hosts)}] }
mcp:
  servers:
    evilhttp: { url: "http://127.0.0.1:${port}/mcp", credential: EVIL_TOKEN }
`;

void describe('MCP upstream credentials from the policy\'s credentials', () => {
  let upstream: Running;
  let port = 0;
  let log = '';
  let env: Env;
  before(async () => {
    env = makeEnv('version: 1\n');
    log = path.join(env.base, 'auth.log');
    upstream = await startEvilHttp({ AUTH_LOG: log });
    port = Number(upstream.url.port);
  });
  after(async () => {
    await upstream.stop();
    env.cleanup();
  });

  void it('standalone (cordon mcp serve): the gateway sends the credential from its source to the server, in its header', async () => {
    const e = makeEnv(policy(port, `127.0.0.1:${port}`));
    const { serve, url, token } = await startServe(e, { EVIL_TOKEN: REAL });
    try {
      const client = await sdkClient(url, token);
      assert.equal(textOf(await client.callTool({ name: 'evilhttp__whoami', arguments: {} })), `authorization=Bearer ${REAL}`);
      await client.close();
    } finally {
      serve.child.kill('SIGTERM');
      await serve.done;
      e.cleanup();
    }
  });

  void it('refuses to start a server whose URL is not on the credential\'s hosts, saying what to do; the server hears nothing', async () => {
    const e = makeEnv(policy(port, 'api.example.com'));
    const before = existsSync(log) ? readFileSync(log, 'utf8') : '';
    const r = await cordonAsync(['mcp', 'serve', '--name', 'evilhttp', '--url', `http://127.0.0.1:${port}/mcp`], e.workspace, { XDG_STATE_HOME: e.state, HOME: e.base, EVIL_TOKEN: REAL }).done;
    try {
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /credentials\.EVIL_TOKEN may only be sent to its hosts \(api\.example\.com\).*add the host/s);
      assert.equal(existsSync(log) ? readFileSync(log, 'utf8') : '', before, 'no request reached the server');
    } finally {
      e.cleanup();
    }
  });

  void it('under cordon run the broker adds the real value: the server gets it, the agent inside sees only the placeholder', { skip: bwrap ? false : 'bubblewrap is not installed' }, () => {
    const e = makeEnv(policy(port, `127.0.0.1:${port}`));
    try {
      writeFileSync(path.join(e.workspace, 'agent.mjs'), AGENT);
      // Untrusted results, a credential and a tool that can send: the trifecta check would refuse an unattended run.
      const r = cordon(['run', '--accept-trifecta', '--', 'node', 'agent.mjs'], { cwd: e.workspace, env: { XDG_STATE_HOME: e.state, HOME: e.base, EVIL_TOKEN: REAL } });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { whoami?: string; envToken?: string; error?: string };
      assert.equal(out.error, undefined, `${r.stdout}\n${r.stderr}`);
      assert.ok(readFileSync(log, 'utf8').includes(`Bearer ${REAL}`), 'the server received the real value');
      assert.match(out.whoami ?? '', /^authorization=Bearer \S+$/);
      assert.ok(!(out.whoami ?? '').includes(REAL), `the agent saw the real value: ${out.whoami}`);
      assert.equal(out.whoami, `authorization=Bearer ${out.envToken}`, 'what the server echoed reaches the agent as the placeholder it holds');
      assert.notEqual(out.envToken, REAL);
      assert.doesNotMatch(r.stdout + r.stderr, new RegExp(REAL));
    } finally {
      e.cleanup();
    }
  });
});

/** Inside the sandbox: calls evilhttp__whoami through the gateway (2025-11-25) and prints what it got and its own EVIL_TOKEN. */
const AGENT = `const url = process.env.CORDON_MCP_URL;
const token = process.env.CORDON_MCP_TOKEN;
let sid;
let seq = 0;
async function rpc(method, params, notify = false) {
  const body = { jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }), ...(notify ? {} : { id: ++seq }) };
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: 'Bearer ' + token, ...(sid ? { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' } : {}) }, body: JSON.stringify(body) });
  sid ??= r.headers.get('mcp-session-id') ?? undefined;
  const text = await r.text();
  if (notify) return r.status;
  const json = text.startsWith('{') ? text : text.split('\\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).pop();
  return JSON.parse(json);
}
const out = { envToken: process.env.EVIL_TOKEN };
try {
  await rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'agent', version: '1' } });
  await rpc('notifications/initialized', undefined, true);
  const r = await rpc('tools/call', { name: 'evilhttp__whoami', arguments: {} });
  out.whoami = (r.result?.content ?? []).map((c) => c.text).join('') || JSON.stringify(r);
} catch (e) {
  out.error = String(e);
}
process.stdout.write(JSON.stringify(out) + '\\n');
`;
