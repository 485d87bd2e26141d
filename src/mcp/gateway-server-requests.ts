/**
 * Requests a server sends to the client. `sampling/createMessage` carries
 * server-written messages straight to the client's model, so it is scanned
 * like any inbound text; a flagged one is refused to the server (block) or
 * passed with a record (warn; redact also passes it unchanged, as rewriting
 * a sampling conversation would change its meaning). Everything else
 * (`roots/list`, `elicitation/create`, `ping`) is forwarded.
 */
import { describeFindings } from './injection.js';
import { mcpEvent, toFindings } from './audit.js';
import type { GatewayContext } from './gateway.js';
import { errorLine, isObject, RPC, type Message } from './jsonrpc.js';

/** Returns true when the request should be forwarded to the client. */
export function handleServerRequest(ctx: GatewayContext, m: Extract<Message, { kind: 'request' }>): boolean {
  if (m.method !== 'sampling/createMessage') return true;
  const params = isObject(m.params) ? m.params : {};
  const report = ctx.scanner.scanValue({ messages: params['messages'], systemPrompt: params['systemPrompt'] });
  if (!report.flagged) return true;
  const subject = `mcp__${ctx.o.server} sampling/createMessage`;
  const block = ctx.o.injectionAction === 'block';
  ctx.audit(mcpEvent(subject, 'deny', `injection ${ctx.o.injectionAction}`, `sampling request ${block ? 'refused' : 'passed with a warning'}: ${describeFindings(report)}`, { findings: toFindings(report.findings), reportOnly: !block }));
  if (!block) return true;
  ctx.ports.toServer(errorLine(m.id, RPC.policyBlocked, 'cordon refused this sampling request: it carries text that tries to instruct the model'));
  return false;
}
