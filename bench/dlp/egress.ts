/**
 * (c) agent-egress-bench cases of the DLP categories, run through the engine
 * directly: URL, headers and bodies through the proxy's RequestScanner, MCP
 * tool calls through `scanMcpRequest`. Cases about something other than
 * credential DLP (destination policy, SSRF, prompt injection in inbound
 * content) are listed as not applicable, with the boundary that owns them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ScanContext } from '../../src/egress/scanner.js';
import { scanMcpRequest } from '../../src/dlp/mcp.js';
import { createRequestScanner } from '../../src/dlp/proxy-scanner.js';
import { DlpScanner } from '../../src/dlp/scanner.js';

export const CATEGORIES = ['url', 'headers', 'request-body', 'encoding-evasion', 'mcp-input', 'false-positive'];

interface Case {
  id: string;
  input_type: string;
  expected_verdict: 'block' | 'allow';
  payload: Record<string, unknown>;
}

/** Cases whose verdict is another boundary's decision, not DLP's. */
const NOT_DLP: Record<string, string> = {
  'url-domain-blocklist-001': 'destination policy (Net rules), src/egress',
  'url-ssrf-ipv6-mapped-010': 'address checks, src/egress',
  'url-ssrf-localhost-alt-011': 'address checks, src/egress',
  'url-ssrf-metadata-009': 'mandatory metadata deny, src/egress',
  'mcp-input-injection-002': 'prompt-injection text, not a credential (gateway policy)',
};

export interface EgressRow { id: string; category: string; expected: string; got: string; detectors: string; note: string }

export async function runEgress(root: string): Promise<EgressRow[]> {
  const rows: EgressRow[] = [];
  const scanner = new DlpScanner({ minConfidence: 'medium', traffic: true });
  for (const category of CATEGORIES) {
    const dir = path.join(root, 'cases', category);
    for (const f of readdirSync(dir).sort()) {
      const c = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Case;
      const rs = createRequestScanner({ scanner });
      const p = c.payload;
      const detectors: string[] = [];
      let note = NOT_DLP[c.id] ?? '';
      const url = typeof p.url === 'string' ? p.url : '';
      const ctx: ScanContext = { subject: 'Http(bench)', method: typeof p.method === 'string' ? p.method : 'GET', host: 'bench', port: 443 };
      switch (c.input_type) {
        case 'url':
        case 'header':
        case 'request_body': {
          detectors.push(...(await rs.url(ctx, url)).map((x) => x.detector));
          const headers = Object.entries((p.headers ?? {}) as Record<string, string>).flat();
          if (typeof p.content_type === 'string') headers.push('Content-Type', p.content_type);
          detectors.push(...(await rs.headers(ctx, headers)).map((x) => x.detector));
          if (typeof p.body === 'string') {
            detectors.push(...(await rs.bodyChunk(ctx, Buffer.from(p.body), undefined)).map((x) => x.detector));
            detectors.push(...(await rs.bodyEnd(ctx)).map((x) => x.detector));
          }
          break;
        }
        case 'mcp_tool_call':
          for (const m of (p.jsonrpc_messages ?? []) as unknown[]) detectors.push(...scanMcpRequest(scanner, m).map((x) => x.detector));
          break;
        default:
          note ||= `inbound ${c.input_type}: not outbound data, DLP does not block it`;
      }
      const got = note !== '' && NOT_DLP[c.id] === undefined ? 'allow' : detectors.length > 0 ? 'block' : 'allow';
      rows.push({ id: c.id, category, expected: c.expected_verdict, got: NOT_DLP[c.id] !== undefined ? 'n/a' : got, detectors: [...new Set(detectors)].join(','), note });
    }
  }
  return rows;
}

export function printEgress(rows: readonly EgressRow[]): { blockFound: number; blockTotal: number; allowClean: number; allowTotal: number } {
  let blockFound = 0;
  let blockTotal = 0;
  let allowClean = 0;
  let allowTotal = 0;
  process.stdout.write('\n(c) agent-egress-bench, DLP categories (engine directly)\n');
  for (const r of rows) {
    const ok = r.got === 'n/a' ? 'n/a ' : r.got === r.expected ? 'ok  ' : 'FAIL';
    if (r.got !== 'n/a') {
      if (r.expected === 'block') {
        blockTotal++;
        if (r.got === 'block') blockFound++;
      } else {
        allowTotal++;
        if (r.got === 'allow') allowClean++;
      }
    }
    process.stdout.write(`  ${ok} ${r.category.padEnd(16)} ${r.id.padEnd(40)} expect ${r.expected.padEnd(5)} got ${r.got.padEnd(5)} ${r.detectors}${r.note ? `  [${r.note}]` : ''}\n`);
  }
  process.stdout.write(`  block cases found: ${blockFound}/${blockTotal}; allow cases clean: ${allowClean}/${allowTotal}; not DLP: ${rows.filter((r) => r.got === 'n/a').length}\n`);
  return { blockFound, blockTotal, allowClean, allowTotal };
}
