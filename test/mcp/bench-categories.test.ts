/**
 * The `mcp-input`, `mcp-tool` and `mcp-chain` categories of
 * agent-egress-bench, run through the gateway core (in process, fake server
 * port) with a bench policy; prints the score per category. A case counts as
 * blocked when the gateway refused or withheld any of its messages.
 * Cases that need DLP (known secrets, credential detectors) pass only once
 * the DLP engine is plugged in as an ArgumentScanner; the score says so.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { Policy } from '../../src/policy/policy.js';
import { runBenchCase, type BenchCase } from './bench-case.js';

// ../shared beside the repository, as the benchmark corpora's README describes.
const BENCH = fileURLToPath(new URL('../../../shared/benchmarks/agent-egress-bench/cases', import.meta.url));
const CATEGORIES = ['mcp-input', 'mcp-tool', 'mcp-chain'] as const;

void describe('agent-egress-bench MCP categories through the gateway', () => {
  void it('scores each category and never blocks a benign case', { skip: existsSync(BENCH) ? false : `benchmark not found at ${BENCH}` }, () => {
    const policy = Policy.load({ workspace: '/home/user/project', home: '/home/user', managedFile: null, userFile: null, projectFile: null, files: [path.join(import.meta.dirname, 'fixtures', 'bench-policy.yaml')] });
    const lines: string[] = [];
    let benignBlocked = 0;
    for (const cat of CATEGORIES) {
      const files = readdirSync(path.join(BENCH, cat)).filter((f) => f.endsWith('.json')).sort();
      let right = 0;
      const misses: string[] = [];
      for (const f of files) {
        const c = JSON.parse(readFileSync(path.join(BENCH, cat, f), 'utf8')) as BenchCase;
        const verdict = runBenchCase(c, policy);
        if (verdict === c.expected_verdict) right++;
        else misses.push(`${c.id} (expected ${c.expected_verdict})`);
        if (c.expected_verdict === 'allow' && verdict === 'block') benignBlocked++;
      }
      lines.push(`${cat}: ${right}/${files.length}${misses.length === 0 ? '' : `  missed: ${misses.join(', ')}`}`);
    }
    process.stdout.write(`\nagent-egress-bench through the MCP gateway\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    assert.equal(benignBlocked, 0);
  });
});
