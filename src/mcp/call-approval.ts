/**
 * An MCP call the policy asks about, under `cordon run`: the exact call
 * (server, tool, canonical JSON of the arguments: one byte different is
 * another request) goes to the supervisor's approval service and the call
 * waits. Only an approval of that exact request forwards it (the original
 * bytes, so what runs is what was approved); a deny, a timeout, a failure or
 * a gone supervisor answers the refusal naming what came of the approval.
 * A held call can be withdrawn (its client went away or cancelled it): the
 * approval is withdrawn with it (the approver's signal) and the call refused.
 */
import { APPROVAL_LIMITS, canonicalJson, type AskInput } from '../approval/request.js';
import { mcpEvent, type AuditSink } from './audit.js';
import type { CallTarget, CallVerdict, McpApprover } from './call-policy.js';

export interface HeldCall {
  readonly server: string;
  readonly target: CallTarget;
  /** The subject as recorded (`mcp__server__tool {args}`, or the withheld form when the arguments carry a finding). */
  readonly subject: string;
  readonly verdict: CallVerdict;
}

export interface HoldOutcome {
  readonly audit: AuditSink;
  /** Forward the call (and record the allow) with this reason. */
  approved(reason: string): void;
  /** Answer the refusal with this reason (already recorded). */
  refused(reason: string): void;
}

/** The exact request an answer applies to; a string (why it is refused) when the arguments have no canonical form within the limits. */
export function mcpAsk(call: HeldCall): AskInput | string {
  let args: string;
  try {
    args = canonicalJson(call.target.args);
  } catch (e) {
    return `the arguments cannot be put in canonical form (${e instanceof Error ? e.message : 'error'}), so no approval can name them`;
  }
  if (args.length > APPROVAL_LIMITS.maxArguments) return `the arguments are ${args.length} characters, more than the ${APPROVAL_LIMITS.maxArguments} an approval can hold`;
  const ruleReason = call.verdict.ruleReason ?? call.verdict.reason;
  return {
    request: { kind: 'mcp', server: call.server.slice(0, 256), tool: call.target.tool, arguments: args },
    boundary: 'mcp',
    subject: call.subject.slice(0, APPROVAL_LIMITS.maxText),
    rule: call.verdict.rule.slice(0, APPROVAL_LIMITS.maxText),
    reason: ruleReason.slice(0, APPROVAL_LIMITS.maxText),
    suggestion: `allow mcp__${call.server}__${call.target.tool}`.slice(0, APPROVAL_LIMITS.maxText),
  };
}

/** Why a call held for approval was withdrawn when its client cancelled it (`notifications/cancelled`). */
export const CLIENT_CANCELLED = 'The client cancelled the call while it waited for approval; the approval was withdrawn and the call not sent.';

/** Withdraws a held call: its approval is withdrawn and the call refused with this reason (nothing once it was answered). */
export type Withdraw = (why: string) => void;

/** Holds the call for a person; returns how to withdraw it, or undefined when it was refused at once. */
export function holdForApproval(approve: McpApprover, call: HeldCall, out: HoldOutcome): Withdraw | undefined {
  const { subject, verdict } = call;
  const ruleReason = verdict.ruleReason ?? verdict.reason;
  const deny = (why: string): void => {
    const reason = `${ruleReason} ${why}`;
    out.audit(mcpEvent(subject, 'deny', verdict.rule, reason, { mandatory: verdict.mandatory }));
    out.refused(reason);
  };
  const ask = mcpAsk(call);
  if (typeof ask === 'string') {
    deny(`This call needs a person's approval, but ${ask}; refused.`);
    return undefined;
  }
  out.audit(mcpEvent(subject, 'ask', verdict.rule, `${ruleReason} Held for a person's approval of exactly this call.`, { mandatory: verdict.mandatory }));
  let settled = false;
  const settle = (approved: boolean, why: string): void => {
    if (settled) return;
    settled = true;
    if (approved) out.approved(`${ruleReason} ${why}`);
    else deny(why);
  };
  const withdrawn = new AbortController();
  approve(ask, withdrawn.signal).then(
    (o) => settle(o.approved, `${o.reason} (${o.id})`),
    (e: unknown) => settle(false, `The approval service failed (${e instanceof Error ? e.message : 'error'}); an ask is a deny.`),
  );
  return (why) => {
    if (settled) return;
    settle(false, why);
    withdrawn.abort();
  };
}
