/**
 * The agent-egress-bench runner (bench/egress/agent-bench.ts) completes
 * through the real proxy, prints its score table, covers every proxy
 * category, reports the others as not applicable, and does not regress below
 * the score measured when it was written (minus a small margin).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TSX } from '../cli-helpers.js';

const runner = fileURLToPath(new URL('../../bench/egress/agent-bench.ts', import.meta.url));
const corpus = process.env.AGENT_EGRESS_BENCH ?? fileURLToPath(new URL('../../../shared/benchmarks/agent-egress-bench', import.meta.url));
const canUnshare = spawnSync('unshare', ['--net', 'true']).status === 0 || spawnSync('unshare', ['--user', '--map-root-user', '--net', 'true']).status === 0;
const skip = !existsSync(corpus) ? `the corpus is not at ${corpus}` : canUnshare ? false : 'needs `unshare --net` (root or unprivileged user namespaces) for its private network';

/**
 * Measured 2026-11-23: 72 of 72 applicable cases correct (56 blocks, 16 allows, 0 false blocks); 61 on 2026-11-22,
 * before the DNS label scanner, checksum-validated financial identifiers and the WebSocket joins.
 */
const MEASURED_CORRECT = 72;
const MARGIN = 2;
const PROXY_CATEGORIES = ['url', 'headers', 'request-body', 'encoding-evasion', 'ssrf-bypass', 'websocket-dlp', 'hostname-exfiltration', 'false-positive', 'crypto-financial'];

interface Row { category: string; cases: number; run: number; na: number; correct: number; falseBlocks: number; errors: number; naReasons: Record<string, number> }
interface Result { id: string; category: string; expected: string; actual: string; upstream?: { requests: number; heads: number; connections: number; frames: number } }
interface Report { categories: Row[]; total: Row; results: Result[] }

void describe('agent-egress-bench through the real proxy', { skip }, () => {
  void it('completes with a score per category, no errors, no false blocks, and no regression', () => {
    const r = spawnSync(process.execPath, ['--import', TSX, runner, '--json', '--cases', corpus], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^category\s+cases\s+run\s+correct\s+blocked ok\s+allowed ok\s+false blk\s+misses\s+errors\s+score$/m);
    assert.match(r.stderr, /^total\s+151\s+\d+\s+\d+/m);
    assert.match(r.stderr, /^mcp-input\s+\d+\s+n\/a \(boundary: MCP gateway \/ hook\)$/m);
    const report = JSON.parse(r.stdout) as Report;
    const by = new Map(report.categories.map((c) => [c.category, c]));
    for (const name of PROXY_CATEGORIES) assert.ok((by.get(name)?.run ?? 0) > 0, `${name} runs through the proxy`);
    for (const name of ['mcp-input', 'mcp-tool', 'mcp-chain', 'shell-obfuscation', 'a2a-message', 'a2a-agent-card']) {
      const row = by.get(name);
      assert.ok(row !== undefined && row.run === 0 && row.na === row.cases && row.cases > 0, `${name} is counted as not applicable, not dropped`);
    }
    assert.equal(report.total.cases, 151, 'every case is accounted for');
    assert.equal(report.total.errors, 0, JSON.stringify(report.results.filter((x) => x.actual === 'error')));
    assert.equal(report.total.falseBlocks, 0);
    assert.ok(report.total.correct >= MEASURED_CORRECT - MARGIN, `correct ${report.total.correct} of ${report.total.run}, measured ${MEASURED_CORRECT}`);
    // The categories the DLP gaps were in (issue 4): every case correct, so a regression names its category.
    for (const name of ['hostname-exfiltration', 'crypto-financial', 'websocket-dlp']) {
      const row = by.get(name);
      assert.equal(row?.correct, row?.run, `${name}: ${JSON.stringify(report.results.filter((x) => x.category === name && x.actual !== x.expected).map((x) => x.id))}`);
    }
    // IP-literal SSRF cases: refused, and the upstreams listening on those addresses saw nothing at all.
    const ssrf = report.results.filter((x) => x.category === 'ssrf-bypass' && x.expected === 'block');
    assert.ok(ssrf.length > 0);
    for (const x of ssrf) {
      assert.equal(x.actual, 'block', x.id);
      assert.deepEqual(x.upstream, { requests: 0, heads: 0, connections: 0, frames: 0 }, x.id);
    }
  });
});
