/**
 * Turns a policy decision into the harness's PreToolUse answer.
 *
 * - `deny`: answered as `deny`; the reason goes to the model.
 * - `ask`: under `cordon run` with an approval channel, routed to cordon's
 *   approval service (`routedAnswer`): let through only when a person
 *   approved exactly this call, else `deny`. Without one, answered as `ask` to
 *   Claude Code (its own prompt asks the person). Codex CLI cannot ask from a
 *   hook (its PreToolUse supports only `deny`; `ask` and `allow` are
 *   unsupported outputs it treats as a failed hook and then runs the call), so
 *   for Codex an unrouted ask is `deny`, and an approved one is no output
 *   (Codex runs the call under its own approval settings).
 * - `allow`: **no opinion** by default (no output, exit 0): the harness's own
 *   permission rules and prompts still apply. An `allow` answer would skip
 *   them, so a project `cordon.yaml` from a cloned repository, or a hook
 *   mapping that misses a field, could never widen what the agent may do
 *   beyond what the person already allowed in the harness. `answerAllow: true`
 *   passes `allow` through for policies written to replace the harness's prompts.
 */
import { z } from 'zod';
import { sanitizeForDisplay } from '../audit/redact.js';
import { describeOrigin } from '../policy/engine.js';
import type { Decision, Effect } from '../policy/types.js';
import type { AskRoute } from './ask-client.js';

export const HARNESSES = ['claude-code', 'codex'] as const;
export type Harness = (typeof HARNESSES)[number];

export const HookOptionsSchema = z.strictObject({
  harness: z.enum(HARNESSES).describe('Which harness calls the hook: its answer format and what it supports.'),
  answerAllow: z.boolean().default(false).describe('Answer `allow` (skipping the harness\'s own prompts) instead of no opinion.'),
  policy: z.array(z.string().min(1)).default([]).describe('Extra `--policy` files, on top of the managed, user and project scopes.'),
  profile: z.string().min(1).optional().describe('A built-in profile to add.'),
  workspace: z.string().min(1).optional().describe('Workspace directory; default: $CLAUDE_PROJECT_DIR, else the hook input\'s cwd.'),
  inputTimeoutMs: z.number().int().min(100).max(60_000).default(10_000).describe('How long to wait for the whole hook input on stdin.'),
  askWaitMs: z.number().int().min(1000).max(600_000).default(25_000)
    .describe('Under cordon run, how long to wait for a person\'s answer to an ask; must stay below the harness\'s hook timeout (cordon init writes 170 s with a 180 s timeout).'),
});
export type HookOptions = z.infer<typeof HookOptionsSchema>;
export type HookOptionsInput = z.input<typeof HookOptionsSchema>;

export interface HookAnswer {
  readonly hookSpecificOutput: {
    readonly hookEventName: 'PreToolUse';
    readonly permissionDecision: Effect;
    readonly permissionDecisionReason: string;
  };
}

/** Deny beats ask beats allow; among equals the first decision is kept. */
export function strongest(decisions: readonly Decision[]): Decision | undefined {
  const rank: Record<Effect, number> = { deny: 0, ask: 1, allow: 2 };
  let best: Decision | undefined;
  for (const d of decisions) if (best === undefined || rank[d.effect] < rank[best.effect]) best = d;
  return best;
}

export function ruleText(d: Decision): string {
  return d.rules.length === 0 ? 'default' : d.rules.map(describeOrigin).join('; ');
}

/** One or two sentences: the deciding rule and why, invisible characters made visible. */
export function answerReason(d: Decision, harness: Harness): string {
  const by = d.rules.length === 0 ? 'no rule matched; the default decided' : ruleText(d);
  const head = d.effect === 'deny'
    ? `cordon denied this (${by}): ${d.reason}`
    : d.effect === 'ask'
      ? `cordon needs a person to approve this (${by}): ${d.reason}`
      : `cordon allows this (${by}): ${d.reason}`;
  const tail = d.effect === 'deny'
    ? d.mandatory
      ? ' This is a mandatory protection that no approval can lift; do not try another way.'
      : ' This is a security policy, not an error; do not try another way.'
    : d.effect === 'ask' && harness === 'codex'
      ? ' Codex hooks cannot ask and no cordon approval channel answered, so it is refused; run the agent under cordon run (a person approves it there) or allow it in the cordon policy.'
      : '';
  return sanitizeForDisplay(`${head}${tail}`);
}

/** The JSON to print, or `null` for no opinion. */
export function hookAnswer(d: Decision, opts: Pick<HookOptions, 'harness' | 'answerAllow'>): HookAnswer | null {
  let effect: Effect = d.effect;
  // Codex: no output is the only way to let a call run (an `allow` answer is unsupported there and reported as a failed hook).
  if (effect === 'allow' && (!opts.answerAllow || opts.harness === 'codex')) return null;
  if (effect === 'ask' && opts.harness === 'codex') effect = 'deny';
  return {
    hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: effect, permissionDecisionReason: answerReason(d, opts.harness) },
  };
}

/**
 * The answer after an ask was routed to cordon's approval service.
 * `{ keep: true }` keeps the plain answer (no endpoint, or the supervisor's
 * policy leaves the call to the harness): Claude Code's own prompt asks, and
 * for Codex the plain answer is deny. Otherwise `answer` is what to print;
 * `null` (an approval, for Codex) prints nothing, which lets Codex run it.
 */
export type RoutedAnswer = { readonly keep: true } | { readonly keep: false; readonly answer: HookAnswer | null; readonly effect: Effect };

export function routedAnswer(r: AskRoute, harness: Harness = 'claude-code'): RoutedAnswer {
  const sentence = (t: string): string => (/[.!?)]$/.test(t.trim()) ? t.trim() : `${t.trim()}.`);
  const out = (effect: Effect, reason: string): RoutedAnswer => ({
    keep: false,
    effect,
    answer: { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: effect, permissionDecisionReason: sanitizeForDisplay(reason) } },
  });
  switch (r.kind) {
    case 'absent':
      return { keep: true };
    case 'approved':
      // Codex has no allow answer: exit 0 without output runs the call.
      if (harness === 'codex') return { keep: false, effect: 'allow', answer: null };
      return out('allow', `A person approved exactly this call through cordon (${r.id}): ${r.reason}`);
    case 'denied':
      return out('deny', `cordon asked a person and the call is denied: ${sentence(r.reason)} This is a security policy, not an error; do not try another way.`);
    case 'not-asked':
      return r.decision === 'deny' ? out('deny', `cordon denied this: ${sentence(r.reason)} This is a security policy, not an error; do not try another way.`) : { keep: true };
  }
}
