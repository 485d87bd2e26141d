/**
 * Call policy for `tools/call`, `resources/read` and `prompts/get`: the
 * request becomes an `mcp__server__tool` subject (resources and prompts as
 * the pseudo-tools `resources/read` and `prompts/get`, which no real tool
 * name can spell) and the policy engine decides. `allow` passes; `ask` becomes
 * a pending approval when the decider has an approver (the gateway of
 * `cordon run`, whose supervisor runs the approval service) and is refused
 * otherwise (standalone `cordon mcp wrap`/`serve`). Tool annotations are
 * never read. A `Policy` none of whose rules looks at MCP arguments decides
 * by server and tool alone, so its verdicts are kept per tool (bounded).
 */
import type { AskInput } from '../approval/request.js';
import { describeOrigin } from '../policy/engine.js';
import { Policy } from '../policy/policy.js';
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

/** A person's answer about one exact call (never rejects; a rejection is treated as a deny too). */
/** `signal`: the call was withdrawn (its client went away or cancelled it); the approval is withdrawn too. */
export type McpApprover = (ask: AskInput, signal?: AbortSignal) => Promise<{ readonly approved: boolean; readonly id: string; readonly reason: string }>;

/** The decision-maker the gateway needs: `Policy` satisfies it. `approve`: where an `ask` goes (absent: refused). */
export interface CallDecider {
  decide(subject: Subject): Decision;
  readonly approve?: McpApprover;
}

/** Why an `ask` is refused when no approval service can be reached (standalone `cordon mcp wrap`/`serve`). */
export const NO_APPROVALS = 'This call needs a person\'s approval, and this gateway has no approval service (a standalone `cordon mcp wrap`/`cordon mcp serve`), so it is refused. Run the agent under `cordon run`, whose approvals reach a person (terminal prompt, `cordon approvals`, `cordon ui`, webhook), or add an allow rule for it if it is expected.';

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
  /** For `ask`: the rule's own explanation (what the person is shown), without the refusal sentence. */
  readonly ruleReason?: string;
}

/** Tools whose verdicts are kept per policy (beyond that, decided each time). */
const MAX_CACHED_TOOLS = 1024;
/** Per policy: verdicts by `server\0tool`, or null when its decisions can depend on the arguments. */
const cached = new WeakMap<CallDecider, Map<string, CallVerdict> | null>();

/**
 * The verdict table of a policy whose decision for an MCP call cannot depend
 * on the arguments: a plain `Policy` (its own `decide`, not a wrapper or a
 * subclass) none of whose MCP rules has argument matchers. Rules of other
 * kinds never match an MCP subject, and the reason, rule and mandatory flag
 * of a decision come from the matching rule alone.
 */
function verdicts(policy: CallDecider): Map<string, CallVerdict> | null {
  let table = cached.get(policy);
  if (table !== undefined) return table;
  const plain = policy instanceof Policy && Object.getPrototypeOf(policy) === Policy.prototype && !Object.hasOwn(policy, 'decide');
  table = plain && policy.loaded.matchers.every((m) => m.spec.kind !== 'Mcp' || (m.spec.args?.length ?? 0) === 0) ? new Map() : null;
  cached.set(policy, table);
  return table;
}

export function decideCall(policy: CallDecider, server: string, target: CallTarget): CallVerdict {
  const table = verdicts(policy);
  if (table === null) return decideNow(policy, server, target);
  const key = `${server}\0${target.tool}`;
  let v = table.get(key);
  if (v === undefined) {
    v = decideNow(policy, server, target);
    if (table.size < MAX_CACHED_TOOLS && v.rule !== 'gateway error') table.set(key, v);
  }
  return v;
}

function decideNow(policy: CallDecider, server: string, target: CallTarget): CallVerdict {
  let d: Decision;
  try {
    d = policy.decide({ kind: 'Mcp', server, tool: target.tool, args: target.args });
  } catch (e) {
    return { allow: false, effect: 'deny', rule: 'gateway error', reason: `the policy could not decide (${e instanceof Error ? e.message : 'error'}); refused`, mandatory: false };
  }
  const rule = d.rules.length === 0 ? 'default' : d.rules.map(describeOrigin).join('; ');
  if (d.effect === 'allow') return { allow: true, effect: 'allow', rule, reason: d.reason, mandatory: d.mandatory };
  if (d.effect === 'ask') return { allow: false, effect: 'ask', rule, reason: `${d.reason} ${NO_APPROVALS}`, mandatory: d.mandatory, ruleReason: d.reason };
  return { allow: false, effect: d.effect, rule, reason: d.reason, mandatory: d.mandatory };
}

/** The `tools/call` result that tells the agent a call was refused by policy (not a tool failure). */
export function refusalResult(subject: string, rule: string, reason: string): { content: { type: 'text'; text: string }[]; isError: true } {
  const text = `Blocked by cordon security policy, not a tool or network failure; retrying will not help. Call: ${subject}. Rule: ${rule}. Why: ${reason}`;
  return { content: [{ type: 'text', text }], isError: true };
}
