/**
 * Call policy for `tools/call`, `resources/read` and `prompts/get`: the
 * request becomes an `mcp__server__tool` subject (resources and prompts as
 * the pseudo-tools `resources/read` and `prompts/get`, which no real tool
 * name can spell) and the policy engine decides. Only `allow` passes: `ask`
 * is refused until approvals exist, and tool annotations are never read.
 */
import { describeOrigin } from '../policy/engine.js';
import type { Decision, Subject } from '../policy/types.js';
import { isObject } from './jsonrpc.js';

export const POLICY_METHODS = ['tools/call', 'resources/read', 'prompts/get'] as const;
export type PolicyMethod = (typeof POLICY_METHODS)[number];

export function isPolicyMethod(m: string): m is PolicyMethod {
  return (POLICY_METHODS as readonly string[]).includes(m);
}

export interface CallTarget {
  /** The tool name, or `resources/read` / `prompts/get`. */
  readonly tool: string;
  readonly args: unknown;
}

/** The decision-maker the gateway needs: `Policy` satisfies it. */
export interface CallDecider {
  decide(subject: Subject): Decision;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const NAME = /^[^\u0000-\u001f\u007f]{1,256}$/u;

/** Reads the target of a policy method; null when the params are malformed (then the call is refused). */
export function callTarget(method: PolicyMethod, params: unknown): CallTarget | null {
  if (!isObject(params)) return null;
  switch (method) {
    case 'tools/call': {
      const name = params['name'];
      if (typeof name !== 'string' || !NAME.test(name)) return null;
      const args = params['arguments'];
      if (args !== undefined && !isObject(args)) return null;
      return { tool: name, args: args ?? {} };
    }
    case 'resources/read': {
      const uri = params['uri'];
      if (typeof uri !== 'string' || uri.length > 8192) return null;
      return { tool: 'resources/read', args: { uri } };
    }
    case 'prompts/get': {
      const name = params['name'];
      if (typeof name !== 'string' || !NAME.test(name)) return null;
      const args = params['arguments'];
      if (args !== undefined && !isObject(args)) return null;
      return { tool: 'prompts/get', args: { name, arguments: args ?? {} } };
    }
  }
}

export interface CallVerdict {
  readonly allow: boolean;
  readonly effect: Decision['effect'];
  readonly rule: string;
  readonly reason: string;
  readonly mandatory: boolean;
}

export function decideCall(policy: CallDecider, server: string, target: CallTarget): CallVerdict {
  let d: Decision;
  try {
    d = policy.decide({ kind: 'Mcp', server, tool: target.tool, args: target.args });
  } catch (e) {
    return { allow: false, effect: 'deny', rule: 'gateway error', reason: `the policy could not decide (${e instanceof Error ? e.message : 'error'}); refused`, mandatory: false };
  }
  const rule = d.rules.length === 0 ? 'default' : d.rules.map(describeOrigin).join('; ');
  if (d.effect === 'allow') return { allow: true, effect: 'allow', rule, reason: d.reason, mandatory: d.mandatory };
  const reason = d.effect === 'ask'
    ? `${d.reason} This call needs a person's approval, and the MCP gateway cannot ask for one yet, so it is refused; add an allow rule for it if it is expected.`
    : d.reason;
  return { allow: false, effect: d.effect, rule, reason, mandatory: d.mandatory };
}

/** The `tools/call` result that tells the agent a call was refused by policy (not a tool failure). */
export function refusalResult(subject: string, rule: string, reason: string): { content: { type: 'text'; text: string }[]; isError: true } {
  const text = `Blocked by cordon security policy, not a tool or network failure; retrying will not help. Call: ${subject}. Rule: ${rule}. Why: ${reason}`;
  return { content: [{ type: 'text', text }], isError: true };
}
