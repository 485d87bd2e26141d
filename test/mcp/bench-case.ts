/** Runs one agent-egress-bench case through an in-process gateway and reports block or allow. */
import { McpGateway } from '../../src/mcp/gateway.js';
import type { ArgumentScanner } from '../../src/mcp/argument-scanner.js';
import type { InjectionScanner } from '../../src/mcp/injection.js';
import type { CallDecider } from '../../src/mcp/call-policy.js';

export interface BenchCase {
  readonly id: string;
  readonly expected_verdict: 'block' | 'allow';
  readonly input_type: string;
  readonly payload: { readonly jsonrpc_messages: readonly Record<string, unknown>[] };
}

/** What the gateway is built with: the CLI's scanner list (see `wrapArgumentScanners`) and the policy. */
export interface BenchGateway {
  readonly policy: CallDecider;
  readonly scanner: InjectionScanner;
  readonly argumentScanners: readonly ArgumentScanner[];
  readonly argumentAction: 'block' | 'report';
}

const line = (text: string): { kind: 'line'; text: string } => ({ kind: 'line', text });

export function runBenchCase(c: BenchCase, g: BenchGateway): 'block' | 'allow' {
  const toClient: string[] = [];
  const toServer: string[] = [];
  const gw = new McpGateway(
    { server: 'bench', launch: ['bench'], policy: g.policy, scanner: g.scanner, pins: null, argumentScanners: g.argumentScanners, argumentAction: g.argumentAction, audit: () => true, log: () => undefined },
    { toClient: (l) => toClient.push(l), toServer: (l) => toServer.push(l) },
  );
  const msgs = c.payload.jsonrpc_messages;
  const isResponse = msgs.every((m) => m['result'] !== undefined);
  if (!isResponse) {
    // Agent-side messages: tools/call requests. The gateway must know the tools, so the (benign) server lists them first.
    const names = [...new Set(msgs.map((m) => (m['params'] as { name?: string } | undefined)?.name ?? ''))];
    gw.fromClient(line(JSON.stringify({ jsonrpc: '2.0', id: 'list', method: 'tools/list' })));
    gw.fromServer(line(JSON.stringify({ jsonrpc: '2.0', id: 'list', result: { tools: names.map((name) => ({ name, inputSchema: { type: 'object' } })) } })));
    toClient.length = 0;
    toServer.length = 0;
    for (const m of msgs) gw.fromClient(line(JSON.stringify(m)));
    return toServer.length === msgs.length ? 'allow' : 'block';
  }
  // Server-side messages: answers to the request the client made.
  let blocked = false;
  for (const m of msgs) {
    const id = m['id'] as string | number;
    const method = c.input_type === 'mcp_tool_definition' ? 'tools/list' : 'tools/call';
    if (method === 'tools/call') {
      gw.fromClient(line(JSON.stringify({ jsonrpc: '2.0', id: 'l', method: 'tools/list' })));
      gw.fromServer(line(JSON.stringify({ jsonrpc: '2.0', id: 'l', result: { tools: [{ name: 'search', inputSchema: { type: 'object' } }] } })));
    }
    toClient.length = 0;
    gw.fromClient(line(JSON.stringify({ jsonrpc: '2.0', id, method, params: method === 'tools/call' ? { name: 'search', arguments: {} } : {} })));
    gw.fromServer(line(JSON.stringify(m)));
    const out = toClient.at(-1) ?? '';
    if (out !== JSON.stringify(m)) blocked = true;
  }
  return blocked ? 'block' : 'allow';
}
