/**
 * The `mcp-input`, `mcp-tool` and `mcp-chain` categories of
 * agent-egress-bench through the gateway, built with the scanner list
 * `cordon mcp wrap` uses (`wrapArgumentScanners`: injection, then DLP), and
 * scored per category:
 *   - in process (the gateway core, a fake server port), every category;
 *   - over a real stdio transport: the real CLI (`cordon mcp wrap`) in front
 *     of a scripted server (fixtures/bench-server.mjs), driven with raw
 *     JSON-RPC; `mcp-input` and `mcp-chain` through one process, `mcp-tool`
 *     one process per case (the server's answer is the case's message; a
 *     case is blocked when the client gets anything else).
 * A case counts as blocked when the gateway refused or withheld any of its
 * messages. No benign case may be blocked, and the score may not fall below
 * FLOOR (raise it when a change scores more).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { describe, it } from 'node:test';
import { wrapArgumentScanners, argumentActionFor } from '../../src/mcp/gateway-scanners.js';
import { InjectionScanner } from '../../src/mcp/injection.js';
import { loadPolicy } from '../../src/policy/load.js';
import { Policy } from '../../src/policy/policy.js';
import { runBenchCase, type BenchCase } from './bench-case.js';
import { ROOT, TSX, fixture, makeEnv } from './helpers.js';

// ../shared beside the repository, as the benchmark corpora's README describes.
const BENCH = fileURLToPath(new URL('../../../shared/benchmarks/agent-egress-bench/cases', import.meta.url));
const CATEGORIES = ['mcp-input', 'mcp-tool', 'mcp-chain'] as const;
type Category = (typeof CATEGORIES)[number];
/** The least each category must score (cases right), in process and over stdio. */
const FLOOR: Record<Category, number> = { 'mcp-input': 9, 'mcp-tool': 7, 'mcp-chain': 8 };
const POLICY_FILE = fixture('bench-policy.yaml');
const WORKSPACE = '/home/user/project';
const SKIP = existsSync(BENCH) ? false : `benchmark not found at ${BENCH}`;

function loadCases(cat: Category): BenchCase[] {
  return readdirSync(path.join(BENCH, cat)).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(path.join(BENCH, cat, f), 'utf8')) as BenchCase);
}

interface Score {
  readonly right: number;
  readonly total: number;
  readonly misses: readonly string[];
  readonly benignBlocked: number;
}

function score(cases: readonly BenchCase[], verdicts: readonly ('block' | 'allow')[]): Score {
  const misses: string[] = [];
  let benignBlocked = 0;
  cases.forEach((c, i) => {
    if (verdicts[i] !== c.expected_verdict) misses.push(`${c.id} (expected ${c.expected_verdict})`);
    if (c.expected_verdict === 'allow' && verdicts[i] === 'block') benignBlocked++;
  });
  return { right: cases.length - misses.length, total: cases.length, misses, benignBlocked };
}

function report(title: string, scores: ReadonlyMap<Category, Score>): void {
  const lines = [...scores].map(([cat, s]) => `  ${cat}: ${s.right}/${s.total}${s.misses.length === 0 ? '' : `  missed: ${s.misses.join(', ')}`}`);
  process.stdout.write(`\nagent-egress-bench, ${title}\n${lines.join('\n')}\n`);
}

function check(scores: ReadonlyMap<Category, Score>): void {
  for (const [cat, s] of scores) {
    assert.equal(s.benignBlocked, 0, `${cat}: a benign case was blocked`);
    assert.ok(s.right >= FLOOR[cat], `${cat}: ${s.right}/${s.total} is below the floor ${FLOOR[cat]} (${s.misses.join(', ')})`);
  }
}

/** Raw JSON-RPC over the stdio of `cordon mcp wrap`: one request at a time, answered by id. */
class StdioPeer {
  private next = 0;
  private readonly waiting = new Map<number, (m: Record<string, unknown>) => void>();
  private readonly child: ReturnType<typeof spawn>;
  constructor(child: ReturnType<typeof spawn>) {
    this.child = child;
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const m = JSON.parse(l) as Record<string, unknown>;
      const done = typeof m['id'] === 'number' ? this.waiting.get(m['id']) : undefined;
      if (done !== undefined) {
        this.waiting.delete(m['id'] as number);
        done(m);
      }
    });
  }
  request(method: string, params: unknown): Promise<Record<string, unknown>> {
    const id = ++this.next;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }
  notify(method: string): void {
    this.child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  }
}

/** The server's answer to a forwarded call carries its marker; a refusal (an error, or cordon's isError result) does not. */
function reachedServer(m: Record<string, unknown>): boolean {
  const content = (m['result'] as { content?: { text?: string }[] } | undefined)?.content ?? [];
  return content.some((c) => c.text?.startsWith('BENCH-ECHO ') === true);
}

/** `cordon mcp wrap` (the CLI from source, bench policy, workspace /home/user/project) in front of bench-server.mjs with `script`, initialised. */
async function startWrap(script: { tools: unknown; result?: unknown }): Promise<{ peer: StdioPeer; stderr: () => string; close: () => Promise<void> }> {
  const env = makeEnv('version: 1\n');
  const file = path.join(env.base, 'script.json');
  writeFileSync(file, JSON.stringify(script));
  const child = spawn(process.execPath, [
    '--import', TSX, path.join(ROOT, 'src/cli/main.ts'), 'mcp', 'wrap', '--name', 'bench', '--no-sandbox', '-w', WORKSPACE, '-p', POLICY_FILE,
    '--', process.execPath, fixture('bench-server.mjs'), file,
  ], {
    cwd: env.workspace, stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: env.base, XDG_STATE_HOME: env.state, XDG_CONFIG_HOME: path.join(env.base, 'xdg'), CORDON_MANAGED_POLICY: path.join(env.base, 'none.yaml') },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const close = async (): Promise<void> => {
    child.stdin.end();
    await exited;
    env.cleanup();
  };
  const peer = new StdioPeer(child);
  try {
    const init = await peer.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '0' } });
    assert.ok(init['result'] !== undefined, stderr);
  } catch (e) {
    await close();
    throw e;
  }
  peer.notify('notifications/initialized');
  return { peer, stderr: () => stderr, close };
}

void describe('agent-egress-bench MCP categories through the gateway', () => {
  void it('in process, with the scanner list of cordon mcp wrap: scores each category, never blocks a benign case', { skip: SKIP }, async () => {
    const loaded = loadPolicy({ workspace: WORKSPACE, home: '/home/user', managedFile: null, userFile: null, projectFile: null, files: [POLICY_FILE] });
    const scanner = new InjectionScanner();
    const g = { policy: new Policy(loaded), scanner, argumentScanners: await wrapArgumentScanners(loaded, scanner, {}), argumentAction: argumentActionFor(loaded) };
    assert.deepEqual(g.argumentScanners.map((s) => s.name), ['injection', 'dlp']);
    const scores = new Map<Category, Score>();
    for (const cat of CATEGORIES) {
      const cases = loadCases(cat);
      scores.set(cat, score(cases, cases.map((c) => runBenchCase(c, g))));
    }
    report('through the MCP gateway (in process)', scores);
    check(scores);
  });

  void it('over stdio, the real cordon mcp wrap in front of a scripted server: mcp-input and mcp-chain', { skip: SKIP, timeout: 60_000 }, async () => {
    const cats = ['mcp-input', 'mcp-chain'] as const;
    const all = new Map(cats.map((cat) => [cat, loadCases(cat)] as const));
    const names = new Set<string>();
    for (const cases of all.values()) for (const c of cases) for (const m of c.payload.jsonrpc_messages) names.add((m['params'] as { name: string }).name);
    const tools = [...names].map((name) => ({ name, description: `The ${name.replace(/_/g, ' ')} tool.`, inputSchema: { type: 'object' } }));
    const w = await startWrap({ tools });
    try {
      const listed = await w.peer.request('tools/list', {});
      assert.deepEqual((listed['result'] as { tools: unknown[] } | undefined)?.tools, tools, `${JSON.stringify(listed)} ${w.stderr()}`);
      const scores = new Map<Category, Score>();
      for (const [cat, cases] of all) {
        const verdicts: ('block' | 'allow')[] = [];
        for (const c of cases) {
          let blocked = false;
          for (const m of c.payload.jsonrpc_messages) if (!reachedServer(await w.peer.request('tools/call', m['params']))) blocked = true;
          verdicts.push(blocked ? 'block' : 'allow');
        }
        scores.set(cat, score(cases, verdicts));
      }
      report('through cordon mcp wrap over stdio', scores);
      check(scores);
    } finally {
      await w.close();
    }
  });

  void it('over stdio, mcp-tool: one cordon mcp wrap per case, the server answering with the case', { skip: SKIP, timeout: 120_000 }, async () => {
    const cases = loadCases('mcp-tool');
    const verdicts: ('block' | 'allow')[] = [];
    for (const c of cases) {
      const [m] = c.payload.jsonrpc_messages;
      const result = (m?.['result'] ?? {}) as Record<string, unknown>;
      // A tool list is the server's tools/list answer; a tool result answers a call of the tool `search`.
      const definition = c.input_type === 'mcp_tool_definition';
      const w = await startWrap(definition ? { tools: result['tools'] } : { tools: [{ name: 'search', inputSchema: { type: 'object' } }], result });
      try {
        const got = definition
          ? (await w.peer.request('tools/list', {}))['result']
          : (await w.peer.request('tools/call', { name: 'search', arguments: { query: 'docs' } }))['result'];
        verdicts.push(isDeepStrictEqual(got, result) ? 'allow' : 'block');
      } finally {
        await w.close();
      }
    }
    const scores = new Map<Category, Score>([['mcp-tool', score(cases, verdicts)]]);
    report('through cordon mcp wrap over stdio, one process per case', scores);
    check(scores);
  });
});
