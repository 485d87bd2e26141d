/**
 * Client requests: `tools/call`, `resources/read` and `prompts/get` go through
 * the pin gate, the call policy and the argument scanners; anything else is
 * forwarded untouched. A call the policy asks about is held until a person
 * answers (`call-approval.ts`) when an approval service is wired in. A
 * refused call is answered by the gateway itself:
 * `tools/call` with an `isError` result, the others with a policy error. An
 * allowed call is forwarded first and recorded right after, in the same
 * turn, so the server starts on it while the audit record is written (its
 * subject, with the arguments as JSON, is built only then too).
 */
import type { Finding } from '../audit/record.js';
import { mcpEvent } from './audit.js';
import { holdForApproval, type Withdraw } from './call-approval.js';
import { callTarget, decideCall, isPolicyMethod, refusalResult, type CallTarget } from './call-policy.js';
import type { GatewayContext } from './gateway.js';
import { sha256 } from './tool-hash.js';
import { errorLine, isObject, resultLine, RPC, type JsonRpcId, type Message } from './jsonrpc.js';

export interface Pending {
  readonly id: JsonRpcId;
  readonly method: string;
  /** `mcp__server__tool {args}` for policy methods (set right after the call is forwarded). */
  subject?: string;
  /** The resource URI of `resources/read`. */
  readonly uri?: string;
}

function subjectOf(server: string, t: CallTarget): string {
  return `mcp__${server}__${t.tool} ${JSON.stringify(t.args)}`;
}

function refuse(ctx: GatewayContext, id: JsonRpcId, method: string, subject: string, rule: string, reason: string): void {
  if (method === 'tools/call') ctx.ports.toClient(resultLine(id, refusalResult(subject, rule, reason)), { kind: 'response', id });
  else ctx.ports.toClient(errorLine(id, RPC.policyBlocked, `Blocked by cordon security policy (not a server failure): ${reason}`, { cordon: { decision: 'deny', rule } }), { kind: 'response', id });
}

/** The arguments, plus the answers a stateless-era client sends back after an `input_required` result. */
function scanArguments(ctx: GatewayContext, t: CallTarget, params: unknown): { findings: Finding[]; error: string | null } {
  const findings: Finding[] = [];
  const answers = isObject(params) ? params['inputResponses'] : undefined;
  const scanned = answers === undefined ? t.args : { arguments: t.args, inputResponses: answers };
  for (const s of ctx.o.argumentScanners) {
    try {
      for (const f of s.scan(scanned, { server: ctx.o.server, tool: t.tool })) findings.push({ detector: f.detector, where: f.where, sample: f.sample });
    } catch (e) {
      return { findings, error: `the ${s.name} argument scanner failed (${e instanceof Error ? e.message : 'error'})` };
    }
  }
  return { findings, error: null };
}

/**
 * Calls `forward` with what to remember until the response, unless the
 * gateway answered the request itself. A call held for approval returns how
 * to withdraw it; `settled` is called when its hold ends (forwarded or refused).
 */
export function handleRequest(ctx: GatewayContext, m: Extract<Message, { kind: 'request' }>, forward: (p: Pending) => void, settled?: () => void): Withdraw | undefined {
  const { server } = ctx.o;
  if (!isPolicyMethod(m.method)) {
    forward({ id: m.id, method: m.method });
    return;
  }
  const target = callTarget(m.method, m.params);
  if (target === null) {
    const subject = `mcp__${server} ${m.method}`;
    ctx.audit(mcpEvent(subject, 'deny', 'gateway protocol', `malformed ${m.method} parameters; refused`));
    refuse(ctx, m.id, m.method, subject, 'gateway protocol', `the ${m.method} parameters are malformed`);
    return;
  }
  let subjectText: string | undefined;
  const subject = (): string => (subjectText ??= subjectOf(server, target));
  if (m.method === 'tools/call') {
    const why = ctx.tools.refusal(target.tool);
    if (why !== null) {
      ctx.audit(mcpEvent(subject(), 'deny', 'pin', why));
      refuse(ctx, m.id, m.method, subject(), 'pin', why);
      return;
    }
  }
  const v = decideCall(ctx.o.policy, server, target);
  // `ask` with an approval service (cordon run): held for a person's answer about exactly this call.
  const approve = v.effect === 'ask' ? ctx.o.policy.approve : undefined;
  if (!v.allow && approve === undefined) {
    ctx.audit(mcpEvent(subject(), v.effect, v.rule, v.reason, { mandatory: v.mandatory }));
    refuse(ctx, m.id, m.method, subject(), v.rule, v.reason);
    return;
  }
  const scan = scanArguments(ctx, target, m.params);
  if (scan.error !== null) {
    ctx.audit(mcpEvent(subject(), 'deny', 'argument scan', `${scan.error}; refused rather than sent unscanned`));
    refuse(ctx, m.id, m.method, subject(), 'argument scan', `${scan.error}; refused rather than sent unscanned`);
    return;
  }
  // The arguments carry a secret: records name the call and the arguments' hash, never the arguments.
  const bare = scan.findings.length === 0 ? undefined : `mcp__${server}__${target.tool} [arguments withheld, sha256 ${sha256(JSON.stringify(target.args) ?? '')}]`;
  const found = bare === undefined ? '' : `the arguments carry ${scan.findings.length === 1 ? 'a finding' : `${scan.findings.length} findings`} (${[...new Set(scan.findings.map((f) => f.detector))].join(', ')})`;
  if (bare !== undefined && ctx.o.argumentAction === 'block') {
    ctx.audit(mcpEvent(bare, 'deny', 'argument scan', `${found}; not sent`, { findings: scan.findings }));
    refuse(ctx, m.id, m.method, bare, 'argument scan', `${found}; the call was not sent`);
    return;
  }
  const send = (rule: string, reason: string): void => {
    if (bare !== undefined) {
      forward({ id: m.id, method: m.method, subject: bare });
      ctx.audit(mcpEvent(bare, 'deny', 'argument scan', `${found}; sent anyway (report mode)`, { findings: scan.findings, reportOnly: true }));
      return;
    }
    const pending: Pending = target.tool === 'resources/read' ? { id: m.id, method: m.method, uri: (target.args as { uri: string }).uri } : { id: m.id, method: m.method };
    forward(pending);
    pending.subject = subject();
    ctx.audit(mcpEvent(pending.subject, 'allow', rule, reason, { mandatory: v.mandatory }));
  };
  if (approve !== undefined) {
    return holdForApproval(approve, { server, target, subject: bare ?? subject(), verdict: v }, {
      audit: ctx.audit,
      approved: (reason) => {
        settled?.();
        send(v.rule, reason);
      },
      refused: (reason) => {
        settled?.();
        refuse(ctx, m.id, m.method, bare ?? subject(), v.rule, reason);
      },
    });
  }
  send(v.rule, v.reason);
  return undefined;
}
