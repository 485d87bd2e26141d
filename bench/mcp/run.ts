/**
 * MCP gateway figures beside the targets of the gateway issue, in one run:
 *   1. Round trip of an echo tools/call to @modelcontextprotocol/server-everything,
 *      direct and through cordon, calls interleaved (one per client per round,
 *      in a shuffled order) so all see the same machine load: over stdio (`cordon mcp wrap`, scanning on, DLP
 *      on arguments, audit written), beside a byte relay (bench/mcp/relay.mjs:
 *      the cost of an extra process hop alone), and over Streamable HTTP
 *      (`cordon mcp serve --url` in front of the server's own HTTP transport).
 *      cordon runs as users run it, the built CLI (dist/bin/main.js), when
 *      that is newer than every source file; otherwise (or with --src) from
 *      source through tsx, which costs more per message. The header says which.
 *   2. A 1 MB tool result framed (64 KiB chunks), parsed, scanned and handed
 *      to the client port by the gateway core, in process: prose without
 *      keyword hits (the issue's figure), and cordon's own sources (thousands
 *      of keyword hits, so the rule regexes run in many windows). Wall time is
 *      the figure; the process's CPU time is printed beside it, since on a
 *      shared machine the wall time also counts time spent waiting for a core.
 *   BENCH_BASELINE=/path/to/other/dist/bin/main.js adds that build of cordon
 *   (another checkout's, or a copy of dist/ kept from before a change) to the
 *   stdio calls, interleaved with the others: a before/after in one run;
 *   BENCH_CORDON=/path/to/main.js measures that build as cordon (dist/ goes
 *   stale whenever anyone edits a source file on a shared checkout).
 * Usage: node --import tsx bench/mcp/run.ts [N] [--no-http] [--src]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { LineFramer } from '../../src/mcp/framing.js';
import { McpGateway } from '../../src/mcp/gateway.js';
import { InjectionScanner } from '../../src/mcp/injection.js';
import { seededRandom } from '../../src/seeded-random.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EVERYTHING = path.join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const CLI = path.join(ROOT, 'src/cli/main.ts');
const BUILT = path.join(ROOT, 'dist/bin/main.js');
const RELAY = path.join(ROOT, 'bench/mcp/relay.mjs');
const TSX = import.meta.resolve('tsx');
const N = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 1000);
const HTTP = !process.argv.includes('--no-http');
/** Another build of cordon measured beside this one (BENCH_BASELINE: its dist/bin/main.js). */
const BASELINE = process.env['BENCH_BASELINE'];

/** Newest modification time of the TypeScript sources (ms). */
function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** The cordon command line: the built CLI when it is newer than every source file, else the sources through tsx. */
const BUILT_FRESH = !process.argv.includes('--src') && existsSync(BUILT) && statSync(BUILT).mtimeMs > newestSource(path.join(ROOT, 'src'));
/** BENCH_NODE_ARGS: extra node flags for the cordon process under test (e.g. `--cpu-prof --cpu-prof-dir=DIR`). */
const NODE_ARGS = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
/** BENCH_CORDON: the main.js to measure as cordon (a bundle of the tree made apart, when others' edits keep dist/ stale). */
const PINNED = process.env['BENCH_CORDON'];
const CORDON = [...NODE_ARGS, ...(PINNED !== undefined ? [PINNED] : BUILT_FRESH ? [BUILT] : ['--import', TSX, CLI])];
const WARMUP = 100;
/** Targets of the gateway issue ("Figures to reach"). */
const ADDED_P50_TARGET_MS = 0.3;
const MB_TARGET_MS = 10;

function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const ms = (x: number): string => x.toFixed(3).padStart(7);

async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(transport);
  await client.listTools();
  return client;
}

/** Echo calls on each client, one per client per round in a shuffled order; returns the round-trip times (ms) per client. */
async function alternate(clients: readonly Client[]): Promise<number[][]> {
  const times = clients.map((): number[] => []);
  // A client called twice in a row (last of one round, first of the next) finds its process and its server
  // still warm: with rounds alternately in order and reversed, the first and last clients got that 1 round in 2
  // and measured up to 0.15 ms faster than in the middle (the same build, two runs). A shuffled order gives every client
  // every place equally often.
  const random = seededRandom(0x6d6370); // the same call order in every run
  const order = [...clients.keys()];
  for (let i = 0; i < N + WARMUP; i++) {
    for (let j = order.length - 1; j > 0; j--) {
      const r = Math.floor(random() * (j + 1));
      [order[j], order[r]] = [order[r] ?? 0, order[j] ?? 0];
    }
    for (const k of order) {
      const client = clients[k]!;
      const t0 = process.hrtime.bigint();
      await client.callTool({ name: 'echo', arguments: { message: `hello ${i}` } });
      if (i >= WARMUP) times[k]?.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return times;
}

function row(label: string, xs: readonly number[], base?: readonly number[], target?: number): string {
  const head = `  ${label.padEnd(44)} p50 ${ms(pct(xs, 50))}  p90 ${ms(pct(xs, 90))}`;
  if (base === undefined) return head;
  const added = pct(xs, 50) - pct(base, 50);
  const verdict = target === undefined ? '(no target)' : `target <= ${target.toFixed(3)}: ${added <= target ? 'met' : 'NOT met'}`;
  return `${head}   added p50 ${ms(added)}  ${verdict}`;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/** Starts a process and resolves with its output once `ready` matches it. */
async function started(child: ChildProcess, ready: RegExp): Promise<string> {
  let out = '';
  return new Promise<string>((resolve, reject) => {
    const on = (d: Buffer): void => {
      out += d.toString();
      if (ready.test(out)) resolve(out);
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (c) => reject(new Error(`exited (${c}): ${out}`)));
    setTimeout(() => reject(new Error(`timeout: ${out}`)), 30_000).unref();
  });
}

async function echoFigures(): Promise<void> {
  const base = mkdtempSync(path.join(tmpdir(), 'cordon-mcp-bench-'));
  const ws = path.join(base, 'ws');
  mkdirSync(ws);
  writeFileSync(path.join(ws, 'cordon.yaml'), 'version: 1\npermissions:\n  allow: [mcp__everything__echo]\n');
  const env = { PATH: process.env['PATH'] ?? '', HOME: base, XDG_STATE_HOME: path.join(base, 'state'), CORDON_MANAGED_POLICY: path.join(base, 'none.yaml') };
  const children: ChildProcess[] = [];
  const clients: Client[] = [];
  try {
    const direct = await connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore' }));
    clients.push(direct);
    const relayed = await connect(new StdioClientTransport({ command: process.execPath, args: [RELAY, process.execPath, EVERYTHING, 'stdio'], stderr: 'ignore' }));
    clients.push(relayed);
    const wrapped = await connect(new StdioClientTransport({
      command: process.execPath,
      args: [...CORDON, 'mcp', 'wrap', '--name', 'everything', '--no-sandbox', '--', process.execPath, EVERYTHING, 'stdio'],
      cwd: ws, env, stderr: 'ignore',
    }));
    clients.push(wrapped);
    const stdio = [direct, relayed, wrapped];
    if (BASELINE !== undefined) {
      const old = await connect(new StdioClientTransport({
        command: process.execPath,
        args: [BASELINE, 'mcp', 'wrap', '--name', 'everything', '--no-sandbox', '--', process.execPath, EVERYTHING, 'stdio'],
        cwd: ws, env, stderr: 'ignore',
      }));
      clients.push(old);
      stdio.push(old);
    }
    let http: Client[] = [];
    if (HTTP) {
      const port = await freePort();
      const upstream = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(upstream);
      await started(upstream, /listening on port/i);
      const upstreamUrl = `http://127.0.0.1:${port}/mcp`;
      const serve = spawn(process.execPath, [...CORDON, 'mcp', 'serve', '--url', upstreamUrl, '--name', 'everything'], { cwd: ws, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(serve);
      const line = (await started(serve, /^\{.*\}\n/m)).split('\n').find((l) => l.startsWith('{')) ?? '{}';
      const { url, token } = JSON.parse(line) as { url: string; token: string };
      const directHttp = await connect(new StreamableHTTPClientTransport(new URL(upstreamUrl)));
      clients.push(directHttp);
      const served = await connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      clients.push(served);
      http = [directHttp, served];
    }
    const [d, r, g, b] = await alternate(stdio);
    console.log(`echo tools/call round trip, ${N} calls each, interleaved in a shuffled order: direct, byte relay and through cordon (ms); cordon: ${PINNED !== undefined ? `BENCH_CORDON ${PINNED}` : BUILT_FRESH ? 'built CLI (dist/bin/main.js)' : 'sources through tsx (dist is missing, older than a source file, or --src)'}`);
    console.log(row('stdio: direct to server-everything', d ?? []));
    console.log(row('stdio: through a byte relay (hop floor)', r ?? [], d ?? []));
    if (b !== undefined) console.log(row('stdio: through the baseline (BENCH_BASELINE)', b, d ?? [], ADDED_P50_TARGET_MS));
    console.log(row('stdio: through cordon mcp wrap', g ?? [], d ?? [], ADDED_P50_TARGET_MS));
    if (http.length === 2) {
      const [hd, hg] = await alternate(http);
      console.log(row('Streamable HTTP: direct to server-everything', hd ?? []));
      console.log(row('Streamable HTTP: through cordon mcp serve', hg ?? [], hd ?? []));
    }
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(base, { recursive: true, force: true });
  }
}

function sources(dir: string, max: number): string {
  let out = '';
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= max) return;
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith('.ts')) out += readFileSync(path.join(d, e.name), 'utf8');
    }
  };
  walk(dir);
  return out.slice(0, max);
}

/** A 1 MB tool result through the gateway core: framing, parse, scan, forward. */
function megabyte(text: string, runs = 60): { times: number[]; cpu: number[]; forwarded: boolean; findings: number } {
  const scanner = new InjectionScanner();
  const findings = scanner.scanText(text).length;
  const bytes = Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text }] } })}\n`);
  const times: number[] = [];
  const cpu: number[] = [];
  let forwarded = 0;
  for (let i = 0; i < runs + 10; i++) {
    const gwc = new McpGateway(
      { server: 'b', launch: ['b'], policy: { decide: () => ({ effect: 'allow', rules: [], reason: '', subject: '', mandatory: false }) }, scanner, pins: null, audit: () => true, log: () => undefined, injectionAction: 'warn' },
      { toClient: (l) => { forwarded += l.length; }, toServer: () => undefined },
    );
    gwc.fromClient({ kind: 'line', text: '{"jsonrpc":"2.0","id":"l","method":"tools/list"}' });
    gwc.fromServer({ kind: 'line', text: '{"jsonrpc":"2.0","id":"l","result":{"tools":[{"name":"get","inputSchema":{"type":"object"}}]}}' });
    gwc.fromClient({ kind: 'line', text: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get","arguments":{}}}' });
    const framer = new LineFramer(16 * 1024 * 1024);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let off = 0; off < bytes.length; off += 65536) for (const ev of framer.push(bytes.subarray(off, off + 65536))) gwc.fromServer(ev);
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    if (i >= 10) {
      times.push(wall);
      cpu.push((c.user + c.system) / 1e3);
    }
  }
  return { times, cpu, forwarded: forwarded > 0, findings };
}

function megabyteFigures(): void {
  const words = 'The quick brown fox jumps over the lazy dog; see https://example.com/docs for details. ';
  const prose = words.repeat(Math.ceil((1024 * 1024) / words.length)).slice(0, 1024 * 1024);
  const code = sources(path.join(ROOT, 'src'), 1024 * 1024);
  console.log('1 MB tool result framed (64 KiB chunks), parsed, scanned and forwarded, in process (ms)');
  for (const [label, text, target] of [['prose, no keyword hits', prose, MB_TARGET_MS], ["cordon's own sources, many keyword hits", code, undefined]] as const) {
    const r = megabyte(text);
    const p50 = pct(r.times, 50);
    const verdict = target === undefined ? '(no target)' : `target <= ${target}: ${p50 <= target ? 'met' : 'NOT met'}`;
    console.log(`  ${label.padEnd(44)} p50 ${ms(p50)}  p90 ${ms(pct(r.times, 90))}   ${verdict}${r.forwarded ? '' : '  NOT FORWARDED'}  (CPU p50 ${pct(r.cpu, 50).toFixed(2)}; ${r.findings} findings, passed with warn)`);
  }
}

await echoFigures();
megabyteFigures();
