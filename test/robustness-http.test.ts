/**
 * Hostile requests at the Streamable HTTP listener of `cordon mcp serve`, as a real process over
 * raw sockets: each is refused with its status and a JSON-RPC error, an authenticated client
 * trickling its body cannot hold a request open past the body deadline, and a valid request still
 * works afterwards.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC_BIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

const SERVER = `
import readline from 'node:readline';
const rl = readline.createInterface({ input: process.stdin });
const send = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
rl.on('line', (l) => {
  let m; try { m = JSON.parse(l); } catch { return; }
  if (m.method === 'initialize') return send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 's', version: '1' } } });
  if (m.method === 'tools/list') return send({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: 'echo', description: 'echo', inputSchema: { type: 'object' } }] } });
  if (m.id !== undefined && m.method) send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'ok' }] } });
});
`;

const root = mkdtempSync(path.join(os.tmpdir(), 'cordon-robust-http-'));
let child: ChildProcessWithoutNullStreams | null = null;
let port = 0;
let token = '';

interface Raw { readonly status: number; readonly text: string; readonly closed: boolean; readonly ms: number }

/** Sends `text` on a fresh connection (then `trickle` every second, if given); resolves on the first response or close, or at `holdMs`. */
function raw(text: string, o: { holdMs?: number; trickle?: string } = {}): Promise<Raw> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const t0 = Date.now();
    let got = '';
    let iv: NodeJS.Timeout | undefined;
    let settled = false;
    const done = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearInterval(iv);
      clearTimeout(hold);
      s.destroy();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      resolve({ status: m?.[1] === undefined ? 0 : Number(m[1]), text: got, closed, ms: Date.now() - t0 });
    };
    const hold = setTimeout(() => done(false), o.holdMs ?? 15_000);
    s.on('connect', () => {
      s.write(text);
      if (o.trickle !== undefined) {
        const t = o.trickle;
        iv = setInterval(() => s.write(t), 1000);
      }
    });
    s.on('data', (d: Buffer) => {
      got += d.toString();
      // A whole chunked response (or one with a body) is enough.
      if (/\r\n0\r\n\r\n$/.test(got)) done(false);
    });
    s.on('close', () => done(true));
    s.on('error', () => done(true));
  });
}

const auth = (): string => `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n`;
function post(body: string, o: { extra?: string; ctype?: string; head?: string } = {}): string {
  return `POST /mcp HTTP/1.1\r\n${o.head ?? auth()}${o.extra ?? ''}Content-Type: ${o.ctype ?? 'application/json'}\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
const INIT = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } } });

before(async () => {
  const ws = path.join(root, 'ws');
  mkdirSync(ws, { recursive: true });
  writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: [mcp__srv]\n');
  writeFileSync(path.join(root, 'server.mjs'), SERVER);
  const c = spawn(process.execPath, ['--import', TSX, SRC_BIN, 'mcp', 'serve', '--no-sandbox', '--name', 'srv', '--', process.execPath, path.join(root, 'server.mjs')], {
    cwd: ws,
    env: { ...process.env, HOME: root, XDG_STATE_HOME: path.join(root, 'state'), CORDON_MANAGED_POLICY: '/nonexistent/m.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child = c;
  let err = '';
  c.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`cordon mcp serve printed no address: ${err}`)), 30_000);
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(t);
        resolve(out.slice(0, nl));
      }
    });
  });
  const info = JSON.parse(first) as { url: string; token: string };
  port = Number(new URL(info.url).port);
  token = info.token;
});
after(() => {
  child?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

void describe('robustness: the Streamable HTTP listener under hostile requests (real process, raw sockets)', () => {
  void it('refuses a missing or wrong bearer token, a foreign Host or Origin, and a wrong content type', async () => {
    const cases: [string, number, RegExp][] = [
      [post('{}', { head: `Host: 127.0.0.1:${port}\r\n` }), 401, /bearer token/],
      [post('{}', { head: `Host: 127.0.0.1:${port}\r\nAuthorization: Bearer ${'A'.repeat(43)}\r\n` }), 401, /not this session's token/],
      [post('{}', { head: `Host: 127.0.0.1:${port}\r\nAuthorization: Basic ${token}\r\n` }), 401, /bearer token/],
      [post(INIT, { head: `Host: evil.example:${port}\r\nAuthorization: Bearer ${token}\r\n` }), 403, /DNS rebinding/],
      [post(INIT, { extra: 'Origin: http://evil.example\r\n' }), 403, /origin/],
      [post(INIT, { extra: 'Origin: null\r\n' }), 403, /origin/],
      [post(INIT, { ctype: 'text/plain' }), 415, /application\/json/],
    ];
    for (const [req, status, says] of cases) {
      const r = await raw(req);
      assert.equal(r.status, status, r.text);
      assert.match(r.text, says);
      assert.match(r.text, /"jsonrpc":"2.0"/);
    }
  });

  void it('refuses oversized, deeply nested, batched and header-mismatched bodies with JSON-RPC errors', async () => {
    const big = await raw(`POST /mcp HTTP/1.1\r\n${auth()}Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{`);
    assert.equal(big.status, 413, big.text);
    const deep = await raw(post(`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`));
    assert.equal(deep.status, 400, deep.text);
    assert.match(deep.text, /"id":5.*nested deeper than 128 levels/);
    const batch = await raw(post(`[${INIT}]`));
    assert.equal(batch.status, 400, batch.text);
    assert.match(batch.text, /"code":-32600,"message":"[^"]*batches/);
    const notJson = await raw(post('{"jsonrpc":"2.0","id":'));
    assert.equal(notJson.status, 400, notJson.text);
    assert.match(notJson.text, /"code":-32700/);
    const badId = await raw(post('{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}'));
    assert.equal(badId.status, 400, badId.text);
    assert.match(badId.text, /"code":-32600,"message":"[^"]*id must be a string or a number/);
    const mismatch = await raw(post(INIT, { extra: 'Mcp-Method: tools/list\r\n' }));
    assert.equal(mismatch.status, 400, mismatch.text);
    assert.match(mismatch.text, /Mcp-Method header says/);
  });

  void it('an authenticated client trickling its body is cut off at the body deadline (30 s), not held forever', async () => {
    const r = await raw(`POST /mcp HTTP/1.1\r\n${auth()}Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`, { holdMs: 50_000, trickle: ' ' });
    assert.ok(r.closed, `the connection was still open after ${r.ms} ms`);
    assert.ok(r.ms < 45_000, `closed only after ${r.ms} ms`);
  });

  void it('control: a valid initialize still works after all of that', async () => {
    const r = await raw(post(INIT));
    assert.equal(r.status, 200, r.text);
    assert.match(r.text, /mcp-session-id/i);
  });
});
