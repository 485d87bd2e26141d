/**
 * MCP gateway figures, side by side in one run:
 *   1. p50 round trip of an echo tools/call to server-everything over stdio,
 *      direct and through `cordon mcp wrap` (scanning on); the added latency.
 *   2. a 1 MB tool result framed, parsed, scanned and forwarded by the gateway.
 * Usage: node --import tsx bench/mcp/run.ts [N]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LineFramer } from '../../src/mcp/framing.js';
import { McpGateway } from '../../src/mcp/gateway.js';
import { InjectionScanner } from '../../src/mcp/injection.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const N = Number(process.argv[2] ?? 1000);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function echoLatency(transport: StdioClientTransport): Promise<number[]> {
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(transport);
  await client.listTools();
  const times: number[] = [];
  for (let i = 0; i < N + 100; i++) {
    const t0 = process.hrtime.bigint();
    await client.callTool({ name: 'echo', arguments: { message: `hello ${i}` } });
    if (i >= 100) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await client.close();
  return times;
}

async function main(): Promise<void> {
  const base = mkdtempSync(path.join(tmpdir(), 'cordon-mcp-bench-'));
  const ws = path.join(base, 'ws');
  mkdirSync(ws);
  writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: [mcp__everything__echo]\n');
  try {
    const direct = await echoLatency(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' }));
    const gw = await echoLatency(new StdioClientTransport({
      command: process.execPath,
      args: ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'test/mcp/fixtures/wrap-entry.ts'), '--', process.execPath, EVERYTHING, 'stdio'],
      cwd: ws,
      env: { PATH: process.env['PATH'] ?? '', HOME: base, XDG_STATE_HOME: path.join(base, 'state'), CORDON_MANAGED_POLICY: path.join(base, 'none.yaml'), CORDON_TEST_WRAP_OPTS: JSON.stringify({ workspace: ws, name: 'everything', sandbox: false }) },
      stderr: 'ignore',
    }));
    const d50 = pct(direct, 50);
    const g50 = pct(gw, 50);
    console.log(`echo tools/call round trip over stdio, ${N} calls (ms)`);
    console.log(`  direct to server-everything   p50 ${d50.toFixed(3)}  p90 ${pct(direct, 90).toFixed(3)}  p99 ${pct(direct, 99).toFixed(3)}`);
    console.log(`  through cordon mcp wrap       p50 ${g50.toFixed(3)}  p90 ${pct(gw, 90).toFixed(3)}  p99 ${pct(gw, 99).toFixed(3)}`);
    console.log(`  added p50                     ${(g50 - d50).toFixed(3)}   (target <= 0.300)`);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }

  // 1 MB tool result: framing + parse + scan + forward, in process.
  const scanner = new InjectionScanner();
  const words = 'The quick brown fox jumps over the lazy dog; see https://example.com/docs for details. ';
  const text = words.repeat(Math.ceil((1024 * 1024) / words.length)).slice(0, 1024 * 1024);
  const times: number[] = [];
  let forwarded = 0;
  for (let i = 0; i < 60; i++) {
    const gwc = new McpGateway(
      { server: 'b', launch: ['b'], policy: { decide: () => ({ effect: 'allow', rules: [], reason: '', subject: '', mandatory: false }) }, scanner, pins: null, audit: () => true, log: () => undefined },
      { toClient: (l) => { forwarded += l.length; }, toServer: () => undefined },
    );
    gwc.fromClient({ kind: 'line', text: '{"jsonrpc":"2.0","id":"l","method":"tools/list"}' });
    gwc.fromServer({ kind: 'line', text: '{"jsonrpc":"2.0","id":"l","result":{"tools":[{"name":"get","inputSchema":{"type":"object"}}]}}' });
    gwc.fromClient({ kind: 'line', text: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get","arguments":{}}}' });
    const bytes = Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text }] } })}\n`);
    const framer = new LineFramer(16 * 1024 * 1024);
    const t0 = process.hrtime.bigint();
    for (let off = 0; off < bytes.length; off += 65536) for (const ev of framer.push(bytes.subarray(off, off + 65536))) gwc.fromServer(ev);
    if (i >= 10) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`1 MB tool result framed (64 KiB chunks), parsed, scanned and forwarded: p50 ${pct(times, 50).toFixed(2)} ms, p90 ${pct(times, 90).toFixed(2)} ms (target <= 10 ms; ${forwarded > 0 ? 'forwarded' : 'NOT forwarded'})`);
}

await main();
