/**
 * Server responses to client requests: `initialize` (manifest pin, scanned
 * instructions), `tools/list` (pins, scan, shadowing), tool results,
 * resources, prompts and the resource and prompt lists are inspected; every
 * other response is forwarded as the original bytes.
 */
import { describeFindings, type InjectionReport } from './injection.js';
import { mcpEvent, toFindings } from './audit.js';
import type { GatewayContext } from './gateway.js';
import type { Pending } from './gateway-requests.js';
import { LIST_KEYS, scanInitializeResult, scanListResult, scanPromptResult, scanResourceResult, scanToolResult, type InboundOutcome } from './inbound.js';
import { errorLine, isObject, RPC, withResult, type Message } from './jsonrpc.js';

type Response = Extract<Message, { kind: 'response' }>;

function record(ctx: GatewayContext, subject: string, out: InboundOutcome, what: string): void {
  const report: InjectionReport | null = out.report;
  if (report === null) return;
  const action = ctx.o.injectionAction;
  const did = out.blocked ? 'withheld' : action === 'redact' ? 'redacted' : 'passed with a warning';
  ctx.audit(mcpEvent(subject, 'deny', `injection ${action}`, `${what} ${did}: ${describeFindings(report)}`, { findings: toFindings(report.findings), reportOnly: !out.blocked && action === 'warn' }));
}

function forward(ctx: GatewayContext, m: Response, out: InboundOutcome): void {
  if (out.replacement === undefined) ctx.ports.toClient(m.raw, { kind: 'response', id: m.id, message: m });
  else ctx.ports.toClient(withResult(m.obj, out.replacement), { kind: 'response', id: m.id });
}

export function handleResponse(ctx: GatewayContext, p: Pending, m: Response): void {
  const { server } = ctx.o;
  if (!m.ok) {
    ctx.ports.toClient(m.raw, { kind: 'response', id: m.id, message: m });
    return;
  }
  switch (p.method) {
    case 'initialize':
    case 'server/discover': {
      const r = isObject(m.result) ? m.result : {};
      const out = scanInitializeResult(ctx.scanner, m.result, ctx.o.injectionAction);
      record(ctx, `mcp__${server} ${p.method}`, out, 'server instructions');
      ctx.tools.manifest({
        protocolVersion: typeof r['protocolVersion'] === 'string' ? r['protocolVersion'] : Array.isArray(r['supportedVersions']) ? JSON.stringify(r['supportedVersions']) : null,
        serverInfo: r['serverInfo'] ?? null,
        capabilities: r['capabilities'] ?? null,
        instructions: typeof r['instructions'] === 'string' ? r['instructions'] : null,
      });
      forward(ctx, m, out);
      return;
    }
    case 'tools/list': {
      const paged = isObject(m.result) && typeof m.result['nextCursor'] === 'string';
      const out = ctx.tools.observe(m.result, !paged);
      if (out.tools === null) {
        ctx.ports.toClient(errorLine(p.id, RPC.gatewayUnavailable, `the MCP server ${server} sent a malformed tools/list result`), { kind: 'response', id: p.id });
        return;
      }
      ctx.ports.toClient(out.unchanged ? m.raw : withResult(m.obj, { ...(m.result as Record<string, unknown>), tools: out.tools }), { kind: 'response', id: m.id });
      return;
    }
    case 'tools/call': {
      const out = scanToolResult(ctx.scanner, m.result, ctx.o.injectionAction);
      record(ctx, p.subject ?? `mcp__${server} tools/call`, out, 'tool result');
      forward(ctx, m, out);
      return;
    }
    case 'resources/read': {
      const out = scanResourceResult(ctx.scanner, m.result, ctx.o.injectionAction, p.uri ?? '');
      record(ctx, p.subject ?? `mcp__${server} resources/read`, out, 'resource');
      forward(ctx, m, out);
      return;
    }
    case 'prompts/get': {
      const out = scanPromptResult(ctx.scanner, m.result, ctx.o.injectionAction);
      record(ctx, p.subject ?? `mcp__${server} prompts/get`, out, 'prompt');
      forward(ctx, m, out);
      return;
    }
    default: {
      const key = LIST_KEYS[p.method];
      if (key === undefined) {
        ctx.ports.toClient(m.raw, { kind: 'response', id: m.id, message: m });
        return;
      }
      const out = scanListResult(ctx.scanner, m.result, key, ctx.o.injectionAction);
      record(ctx, `mcp__${server} ${p.method}`, out, out.removed > 0 ? `${out.removed} list entries` : 'list entries');
      forward(ctx, m, out);
    }
  }
}
