/**
 * Turns a policy decision into the harness's PreToolUse answer.
 *
 * - `deny`: answered as `deny`; the reason goes to the model.
 * - `ask`: under `cordon run` with an approval channel, routed to cordon's
 *   approval service (`routedAnswer`): `allow` only when a person approved
 *   exactly this call, else `deny`. Without one, answered as `ask` to Claude
 *   Code (its own prompt asks the person). Codex CLI cannot ask from a hook
 *   (it treats `ask` as unsupported and runs the call), so for Codex it is `deny`.
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
      ? ' Codex hooks cannot ask, so it is refused; a person can allow it in the cordon policy.'
      : '';
  return sanitizeForDisplay(`${head}${tail}`);
}

/** The JSON to print, or `null` for no opinion. */
export function hookAnswer(d: Decision, opts: Pick<HookOptions, 'harness' | 'answerAllow'>): HookAnswer | null {
  let effect: Effect = d.effect;
  if (effect === 'allow' && !opts.answerAllow) return null;
  if (effect === 'ask' && opts.harness === 'codex') effect = 'deny';
  return {
    hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: effect, permissionDecisionReason: answerReason(d, opts.harness) },
  };
}

/**
 * The answer after an ask was routed to cordon's approval service; `null`
 * keeps the plain answer (no endpoint, or the supervisor's policy leaves the
 * call to the harness: Claude Code's own prompt asks).
 */
export function routedAnswer(r: AskRoute): HookAnswer | null {
  const sentence = (t: string): string => (/[.!?)]$/.test(t.trim()) ? t.trim() : `${t.trim()}.`);
  const out = (effect: Effect, reason: string): HookAnswer => ({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: effect, permissionDecisionReason: sanitizeForDisplay(reason) } });
  switch (r.kind) {
    case 'absent':
      return null;
    case 'approved':
      return out('allow', `A person approved exactly this call through cordon (${r.id}): ${r.reason}`);
    case 'denied':
      return out('deny', `cordon asked a person and the call is denied: ${sentence(r.reason)} This is a security policy, not an error; do not try another way.`);
    case 'not-asked':
      return r.decision === 'deny' ? out('deny', `cordon denied this: ${sentence(r.reason)} This is a security policy, not an error; do not try another way.`) : null;
  }
}
