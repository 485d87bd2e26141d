/**
 * Requests a server sends to the client. `sampling/createMessage` carries
 * server-written messages straight to the client's model, so it is scanned
 * like any inbound text; a flagged one is refused to the server (block) or
 * passed with a record (warn; redact also passes it unchanged, as rewriting
 * a sampling conversation would change its meaning). Everything else
 * (`roots/list`, `elicitation/create`, `ping`) is forwarded.
 *
 * The client's answers to elicitation and sampling (what a person typed, or
 * what the client's model wrote) go to the server only after the outbound
 * argument scanners (DLP): an answer carrying a secret is withheld and the
 * server gets an error instead (report mode passes it, recorded), as are
 * tool arguments and a stateless-era client's `inputResponses`.
 */
import type { Finding } from '../audit/record.js';
import { describeFindings } from './injection.js';
import { mcpEvent, toFindings } from './audit.js';
import { sha256 } from './tool-hash.js';
import type { GatewayContext } from './gateway.js';
import { errorLine, isObject, RPC, type Message } from './jsonrpc.js';

/** Server requests whose answers carry the client's (or its user's) data to the server. */
const ANSWERS_SCANNED = new Set(['elicitation/create', 'sampling/createMessage']);

/**
 * The client's response to a server request of `method`: null to forward it
 * as it is, or the error line to send the server instead.
 */
export function checkClientAnswer(ctx: GatewayContext, method: string, m: Extract<Message, { kind: 'response' }>): string | null {
  if (!m.ok || !ANSWERS_SCANNED.has(method)) return null;
  const findings: Finding[] = [];
  let failed: string | null = null;
  for (const s of ctx.o.argumentScanners) {
    try {
      for (const f of s.scan(m.result, { server: ctx.o.server, tool: method })) findings.push({ detector: f.detector, where: f.where, sample: f.sample });
    } catch (e) {
      failed = `the ${s.name} scanner failed (${e instanceof Error ? e.message : 'error'})`;
      break;
    }
  }
  if (failed === null && findings.length === 0) return null;
  const subject = `mcp__${ctx.o.server} ${method} [the client's answer withheld from this record, sha256 ${sha256(JSON.stringify(m.result) ?? '')}]`;
  const what = failed ?? `it carries ${findings.length === 1 ? 'a finding' : `${findings.length} findings`} (${[...new Set(findings.map((f) => f.detector))].join(', ')})`;
  if (failed === null && ctx.o.argumentAction === 'report') {
    ctx.audit(mcpEvent(subject, 'deny', 'argument scan', `the client's answer ${what}; sent anyway (report mode)`, { findings, reportOnly: true }));
    return null;
  }
  ctx.audit(mcpEvent(subject, 'deny', 'argument scan', `the client's answer ${what}; not sent`, { findings }));
  return errorLine(m.id, RPC.policyBlocked, `cordon withheld the client's answer: ${what}`);
}

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
