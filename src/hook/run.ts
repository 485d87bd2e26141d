/**
 * One PreToolUse hook call: read the input (bounded, with a deadline),
 * validate it, map the tool to subjects, load the policy for the session's
 * workspace, decide, record, answer. Every failure on the way is exit 2 with
 * the reason on stderr, which Claude Code and Codex treat as "block this tool
 * call": the hook fails closed and never answers allow on an error.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { stateDir } from '../audit/paths.js';
import type { DecisionEvent } from '../audit/record.js';
import { CordonError, formatProblem, PolicyError } from '../errors.js';
import { jsonNestingExceeds, MAX_JSON_DEPTH } from '../mcp/jsonrpc.js';
import { Policy } from '../policy/policy.js';
import type { Decision, Subject } from '../policy/types.js';
import { ASK_SOCKET_ENV } from '../approval/ask-protocol.js';
import { routeAsk } from './ask-client.js';
import { hookAnswer, HookOptionsSchema, routedAnswer, ruleText, strongest, type HookOptionsInput } from './answer.js';
import { auditSubject, hookSession, recordHookDecisions } from './audit.js';
import { describeIssues, HookInputSchema, type HookInput } from './input.js';
import { MAX_HOOK_INPUT_BYTES, readBounded } from './stdin.js';
import { requestSubjects, toolRequest } from './tools.js';

export interface HookIo {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

/** Exit status Claude Code and Codex read as "block the tool call". */
export const HOOK_BLOCK_EXIT = 2;

function parseInput(bytes: Buffer): HookInput {
  if (bytes.length === 0) throw new CordonError('CORDON_USAGE', 'the hook input is empty; expected the PreToolUse JSON on stdin');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new CordonError('CORDON_USAGE', 'the hook input is not valid UTF-8');
  }
  if (jsonNestingExceeds(text, MAX_JSON_DEPTH)) {
    throw new CordonError('CORDON_USAGE', `the hook input nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels; refusing it`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    throw new CordonError('CORDON_USAGE', `the hook input is not valid JSON (${e instanceof Error ? e.message : 'parse error'})`);
  }
  const r = HookInputSchema.safeParse(value);
  if (!r.success) throw new CordonError('CORDON_USAGE', `the hook input does not match the PreToolUse format: ${describeIssues(r.error)}`);
  return r.data;
}

/**
 * The workspace the policy is anchored to. The session's cwd moves when the
 * agent runs `cd`, so it is the last resort: `--workspace`, else Claude Code's
 * `$CLAUDE_PROJECT_DIR` (where the session started), else the nearest
 * ancestor of cwd holding `cordon.yaml` or `.git` (never the home directory
 * or `/`), else cwd. `/` and the home directory themselves are refused: every
 * `./` rule would then cover the whole machine or every credential store.
 */
export function workspaceFor(cwd: string, workspace: string | undefined, env: NodeJS.ProcessEnv, home: string): string {
  let ws: string;
  const project = env['CLAUDE_PROJECT_DIR'];
  if (workspace !== undefined) ws = path.resolve(workspace);
  else if (project !== undefined && path.isAbsolute(project) && !project.includes('\u0000')) ws = path.resolve(project);
  else ws = projectRoot(cwd, home);
  if (ws === '/' || ws === path.resolve(home)) {
    throw new CordonError('CORDON_USAGE', `the workspace would be ${ws}, and every ./ rule would cover all of it; start the agent in a project directory or pass --workspace`);
  }
  return ws;
}

function projectRoot(cwd: string, home: string): string {
  const stop = new Set(['/', path.resolve(home)]);
  for (let dir = path.resolve(cwd); !stop.has(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'cordon.yaml')) || existsSync(path.join(dir, '.git'))) return dir;
  }
  return cwd;
}

/** A subject the agent wrote that cannot be parsed (a malformed URL, a NUL in a path) is a deny, recorded like any other. */
async function decideAll(policy: Policy, subjects: () => Promise<Subject[]>, fallbackSubject: string): Promise<Decision[]> {
  try {
    return (await subjects()).map((s) => policy.decide(s));
  } catch (e) {
    if (!(e instanceof CordonError) || !['CORDON_SUBJECT_INVALID', 'CORDON_HOST_INVALID'].includes(e.code)) throw e;
    return [{ effect: 'deny', rules: [], reason: `cordon cannot check it: ${e.message}`, subject: fallbackSubject, mandatory: false }];
  }
}

async function decideHook(optionsInput: HookOptionsInput, io: HookIo): Promise<number> {
  const options = HookOptionsSchema.parse(optionsInput);
  const bytes = await readBounded(io.stdin, { maxBytes: MAX_HOOK_INPUT_BYTES, timeoutMs: options.inputTimeoutMs });
  const input = parseInput(bytes);
  const request = toolRequest(input.tool_name, input.tool_input, input.cwd);
  if (request === null) return 0; // a tool cordon has no rules for: no opinion

  const policy = Policy.load({
    workspace: workspaceFor(input.cwd, options.workspace, io.env, io.env['HOME'] ?? os.homedir()),
    files: options.policy,
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  });
  const fallback = `${input.tool_name}(${JSON.stringify(input.tool_input).slice(0, 200)})`;
  const decisions = await decideAll(policy, () => requestSubjects(request, input.cwd, policy.loaded.context), fallback);
  const decision = strongest(decisions);
  if (decision === undefined) throw new CordonError('CORDON_INTERNAL', `no subject was decided for ${input.tool_name}`);

  const events: DecisionEvent[] = decisions.map((d) => ({
    boundary: 'hook',
    subject: auditSubject(d.subject),
    decision: d.effect,
    rule: ruleText(d),
    reason: `${input.tool_name}: ${d.reason}`,
    ...(d.mandatory ? { mandatory: true } : {}),
  }));
  const dir = path.resolve(policy.loaded.settings.audit?.dir ?? stateDir(io.env));
  await recordHookDecisions(dir, hookSession(input.session_id, io.env), events);

  let answer = hookAnswer(decision, options);
  // Under cordon run, an ask goes to its approval service through the ask-only endpoint (Claude Code and Codex alike).
  const socket = io.env[ASK_SOCKET_ENV];
  if (decision.effect === 'ask' && socket !== undefined && socket !== '') {
    const routed = await routeAsk(socket, { tool_name: input.tool_name, tool_input: input.tool_input, cwd: input.cwd }, options.askWaitMs);
    const routedTo = routedAnswer(routed, options.harness);
    if (routed.kind !== 'absent') {
      await recordHookDecisions(dir, hookSession(input.session_id, io.env), [{
        boundary: 'hook', subject: auditSubject(decision.subject), decision: routedTo.keep ? (answer?.hookSpecificOutput.permissionDecision ?? 'ask') : routedTo.effect,
        rule: 'approval', reason: `${input.tool_name}: ${routed.kind === 'not-asked' ? `not asked: ${routed.reason}` : routed.reason}`,
      }]);
    }
    if (!routedTo.keep) answer = routedTo.answer;
  }
  if (answer !== null) io.stdout(`${JSON.stringify(answer)}\n`);
  return 0;
}

/** 0 with the answer (or nothing, for no opinion) on stdout; 2 with the reason on stderr for any failure. */
export async function runHook(options: HookOptionsInput, io: HookIo): Promise<number> {
  try {
    return await decideHook(options, io);
  } catch (e) {
    const what = e instanceof PolicyError
      ? `the policy is invalid:\n${e.problems.map(formatProblem).join('\n')}`
      : e instanceof Error ? e.message : String(e);
    io.stderr(`cordon hook: ${what}\ncordon hook: the tool call is blocked (an error in the hook never allows).\n`);
    return HOOK_BLOCK_EXIT;
  }
}
