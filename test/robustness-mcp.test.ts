/**
 * Hostile input at the stdio MCP gateway (`cordon mcp wrap`), with real processes: the CLI from
 * source and a small line-based server. Every bad message gets a JSON-RPC error where one is due,
 * the gateway never crashes or lingers, and valid messages after bad ones still work.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC_BIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

const SERVER = `
import readline from 'node:readline';
const rl = readline.createInterface({ input: process.stdin });
const send = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const tool = (name) => ({ name, description: name, inputSchema: { type: 'object' } });
rl.on('line', (l) => {
  let m; try { m = JSON.parse(l); } catch { return; }
  if (m.method === 'initialize') return send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 's', version: '1' } } });
  if (m.method === 'tools/list') return send({ jsonrpc: '2.0', id: m.id, result: { tools: [tool('echo'), tool('garbage'), tool('crash')] } });
  if (m.method === 'tools/call') {
    const n = m.params && m.params.name;
    if (n === 'crash') process.exit(3);
    if (n === 'garbage') process.stdout.write('not json\\n[1]\\n{"jsonrpc":"2.0","id":{"x":1},"result":{}}\\n{"jsonrpc":"2.0","id":"never-sent","result":{}}\\n');
    return send({ jsonrpc: '2.0', id: m.id, result: { content: [{ type: 'text', text: 'echo ' + n }] } });
  }
  if (m.id !== undefined && m.method) send({ jsonrpc: '2.0', id: m.id, result: {} });
});
`;

const POLICY = 'version: 1\npermissions:\n  allow: [mcp__srv]\n';

interface Gateway {
  readonly child: ChildProcessWithoutNullStreams;
  send(line: string): void;
  /** The next message the client gets whose id is `id` (or any error with id null when `id` is null). */
  answer(id: unknown, ms?: number): Promise<Record<string, unknown>>;
  exited(ms: number): Promise<number | null | 'alive'>;
  stderr(): string;
}

function start(base: string, server = 'server.mjs'): Gateway {
  const ws = path.join(base, 'ws');
  const child = spawn(process.execPath, ['--import', TSX, SRC_BIN, 'mcp', 'wrap', '--no-sandbox', '--name', 'srv', '--', process.execPath, path.join(base, server)], {
    cwd: ws,
    env: { ...process.env, HOME: base, XDG_STATE_HOME: path.join(base, 'state'), CORDON_MANAGED_POLICY: '/nonexistent/m.yaml', XDG_CONFIG_HOME: '/nonexistent/xdg' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const got: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      got.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
      buf = buf.slice(nl + 1);
      for (const w of waiters.splice(0)) w();
    }
  });
  child.stdin.on('error', () => undefined);
  return {
    child,
    send: (line) => child.stdin.write(`${line}\n`),
    answer: (id, ms = 30_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer for id ${JSON.stringify(id)} within ${ms} ms; stderr: ${err}`)), ms);
      const look = (): void => {
        const i = got.findIndex((m) => m['id'] === id);
        if (i >= 0) {
          clearTimeout(timer);
          resolve(got.splice(i, 1)[0] ?? {});
        } else waiters.push(look);
      };
      look();
    }),
    exited: (ms) => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
      const timer = setTimeout(() => resolve('alive'), ms);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    }),
    stderr: () => err,
  };
}

const req = (id: unknown, method: string, params?: unknown): string => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
const INIT = req(0, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } });

async function ready(g: Gateway): Promise<void> {
  g.send(INIT);
  await g.answer(0);
  g.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  g.send(req(1, 'tools/list'));
  await g.answer(1);
}

function errorOf(m: Record<string, unknown>): { code: number; message: string } {
  assert.ok(typeof m['error'] === 'object' && m['error'] !== null, `expected an error, got ${JSON.stringify(m).slice(0, 300)}`);
  return m['error'] as { code: number; message: string };
}

function textOf(m: Record<string, unknown>): string {
  return JSON.stringify(m['result'] ?? m['error']);
}

void describe('robustness: cordon mcp wrap under hostile input (real processes)', () => {
  let base = '';
  before(() => {
    base = mkdtempSync(path.join(tmpdir(), 'cordon-robust-mcp-'));
    mkdirSync(path.join(base, 'ws'));
    writeFileSync(path.join(base, 'ws', 'cordon.yaml'), POLICY);
    writeFileSync(path.join(base, 'server.mjs'), SERVER);
    // Ignores the end of its input and never exits by itself.
    writeFileSync(path.join(base, 'stubborn.mjs'), "process.stdin.resume(); process.stdin.on('end', () => {}); setInterval(() => {}, 1000);\n");
    // Ignores end of input and SIGTERM too: only SIGKILL ends it.
    writeFileSync(path.join(base, 'deaf.mjs'), "process.on('SIGTERM', () => {}); process.stdin.resume(); process.stdin.on('end', () => {}); setInterval(() => {}, 1000);\n");
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  void it('answers deeply nested messages (100k levels) with an error naming the depth, and keeps serving', async () => {
    const g = start(base);
    try {
      await ready(g);
      g.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"x":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}}`);
      g.send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`);
      for (const id of [2, 3]) {
        const e = errorOf(await g.answer(id));
        assert.equal(e.code, -32600);
        assert.match(e.message, /nested deeper than 128 levels/);
      }
      // Moderate nesting is ordinary and passes; the next call works.
      g.send(req(4, 'tools/call', { name: 'echo', arguments: { x: JSON.parse(`${'['.repeat(60)}1${']'.repeat(60)}`) as unknown } }));
      assert.match(textOf(await g.answer(4)), /echo echo/);
      assert.doesNotMatch(g.stderr(), /RangeError|Maximum call stack|at .*\.js:\d+/);
    } finally {
      g.child.kill('SIGKILL');
    }
  });

  void it('refuses ids it cannot echo exactly (objects, numbers past 2^53) and accepts long-but-bounded strings', async () => {
    const g = start(base);
    try {
      await ready(g);
      g.send('{"jsonrpc":"2.0","id":{"a":1},"method":"tools/call","params":{"name":"echo","arguments":{}}}');
      assert.match(errorOf(await g.answer(null)).message, /id must be a string or a number/);
      g.send('{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"tools/call","params":{"name":"echo","arguments":{}}}');
      assert.match(errorOf(await g.answer(null)).message, /id must be a string or a number/);
      const long = 'i'.repeat(1000);
      g.send(req(long, 'tools/call', { name: 'echo', arguments: {} }));
      assert.match(textOf(await g.answer(long)), /echo echo/);
      g.send(req('x'.repeat(5000), 'tools/call', { name: 'echo', arguments: {} }));
      assert.match(errorOf(await g.answer(null)).message, /id must be a string or a number/);
      // Garbage, a batch and a non-object, then a valid call: each bad line has its error, the call works.
      g.send('not json');
      const parse = errorOf(await g.answer(null));
      assert.match(parse.message, /not valid JSON/);
      assert.equal(parse.code, -32700, 'text that is not JSON: Parse error');
      g.send(`[${req(9, 'tools/list')}]`);
      const batch = errorOf(await g.answer(null));
      assert.match(batch.message, /batches/);
      assert.equal(batch.code, -32600, 'JSON that is no valid request: Invalid Request (not Parse error)');
      g.send(req(5, 'tools/call', { name: 'echo', arguments: {} }));
      assert.match(textOf(await g.answer(5)), /echo echo/);
    } finally {
      g.child.kill('SIGKILL');
    }
  });

  void it('drops server garbage and responses to ids never sent, and the pending call is still answered', async () => {
    const g = start(base);
    try {
      await ready(g);
      g.send(req(6, 'tools/call', { name: 'garbage', arguments: {} }));
      assert.match(textOf(await g.answer(6)), /echo garbage/);
      g.send(req(7, 'tools/call', { name: 'echo', arguments: {} }));
      assert.match(textOf(await g.answer(7)), /echo echo/);
      assert.equal(await g.exited(200), 'alive');
    } finally {
      g.child.kill('SIGKILL');
    }
  });

  void it('ends with its server: SIGTERM or a crash while the client keeps its pipe open does not leave it running', async () => {
    const g = start(base);
    try {
      await ready(g);
      g.child.kill('SIGTERM');
      assert.notEqual(await g.exited(10_000), 'alive', 'the gateway lives on after SIGTERM while the client holds stdin');
    } finally {
      g.child.kill('SIGKILL');
    }
    const h = start(base);
    try {
      await ready(h);
      h.send(req(8, 'tools/call', { name: 'crash', arguments: {} }));
      const e = errorOf(await h.answer(8));
      assert.match(e.message, /exit status|stopped|closed|server/i);
      assert.notEqual(await h.exited(10_000), 'alive', 'the gateway lives on after its server crashed');
    } finally {
      h.child.kill('SIGKILL');
    }
  });

  void it('a client that closes while its server ignores end of input: the server gets SIGTERM after the grace period and the gateway exits', async () => {
    const g = start(base, 'stubborn.mjs');
    try {
      g.send(INIT);
      await new Promise((r) => setTimeout(r, 1500));
      g.child.stdin.end();
      const e = errorOf(await g.answer(0, 20_000));
      assert.match(e.message, /stopped/);
      assert.notEqual(await g.exited(15_000), 'alive', 'the gateway and its server live on after the client left');
    } finally {
      g.child.kill('SIGKILL');
    }
  });

  void it('a server that ignores end of input and SIGTERM gets SIGKILL, and the gateway exits', async () => {
    const g = start(base, 'deaf.mjs');
    try {
      g.send(INIT);
      await new Promise((r) => setTimeout(r, 1500));
      g.child.stdin.end();
      assert.notEqual(await g.exited(20_000), 'alive', 'the gateway lives on while its server ignores SIGTERM');
    } finally {
      g.child.kill('SIGKILL');
    }
  });

  void it('a client that sends half a line and closes gets an error for it and the gateway exits', async () => {
    const g = start(base);
    try {
      await ready(g);
      g.child.stdin.end('{"jsonrpc":"2.0","id":77,"method":"tools/ca');
      assert.match(errorOf(await g.answer(null)).message, /not valid JSON/);
      assert.notEqual(await g.exited(10_000), 'alive');
    } finally {
      g.child.kill('SIGKILL');
    }
  });
});
