/**
 * A harness hook's ask, judged in the supervisor: the raw tool call from the
 * sandbox is mapped to subjects and decided against the session's own policy
 * (what the sandbox says about rules or reasons is never used), and only a
 * call that policy asks about becomes an exact request: for `Bash` the full
 * command, its cwd and the executable of its first simple command with that
 * file's SHA-256 (resolved here, on the host: the workspace and the read-only
 * system directories are at the same paths inside and outside); for an
 * `mcp__` tool the server, tool and canonical arguments; for any other tool
 * its name, canonical input and cwd.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type { LoadedPolicy } from '../policy/load.js';
import type { Decision, Subject } from '../policy/types.js';
import { ruleText, strongest } from '../hook/answer.js';
import { requestSubjects, toolRequest, type ToolRequest } from '../hook/tools.js';
import type { AskRequest } from './ask-protocol.js';
import { APPROVAL_LIMITS, canonicalJson, type AskInput, type ExactRequest } from './request.js';

export interface HookAskContext {
  readonly loaded: Pick<LoadedPolicy, 'context'>;
  readonly decide: (s: Subject) => Decision;
  /** The sandbox's PATH (to find the executable of a bare command name). */
  readonly path: string;
}

export type HookAskJudgement =
  | { readonly kind: 'ask'; readonly input: AskInput }
  | { readonly kind: 'not-asked'; readonly decision: 'allow' | 'deny'; readonly reason: string };

/** Largest executable hashed (a bigger one is named without a hash). */
const MAX_HASHED = 256 * 1024 * 1024;

function sha256File(file: string): string | null {
  let fd: number | undefined;
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_HASHED) return null;
    fd = openSync(file, 'r');
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
    return h.digest('hex');
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function isExecutableFile(file: string): boolean {
  try {
    const st = statSync(file);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The file a command name starts, as the sandbox's shell would find it; null when none is found. */
export function resolveExecutable(name: string, cwd: string, searchPath: string): string | null {
  if (name === '' || name.includes('\u0000')) return null;
  if (name.includes('/')) {
    const p = path.resolve(cwd, name);
    return isExecutableFile(p) ? p : null;
  }
  for (const dir of searchPath.split(':')) {
    if (dir === '' || !path.isAbsolute(dir)) continue;
    const p = path.join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return null;
}

function exactRequest(req: ToolRequest, toolName: string, toolInput: Record<string, unknown>, cwd: string, subjects: readonly Subject[], searchPath: string): ExactRequest | string {
  switch (req.kind) {
    case 'Bash': {
      if (req.command.length > APPROVAL_LIMITS.maxCommand) return `the command is ${req.command.length} characters, more than the ${APPROVAL_LIMITS.maxCommand} an approval can hold`;
      const bash = subjects.find((s) => s.kind === 'Bash');
      const first = bash?.kind === 'Bash' ? bash.analysis.parts[0]?.text.split(' ')[0] : undefined;
      const executable = first === undefined ? null : resolveExecutable(first, cwd, searchPath);
      return { kind: 'command', command: req.command, cwd, executable, executableSha256: executable === null ? null : sha256File(executable) };
    }
    case 'Mcp': {
      const args = canonicalJson(req.args);
      if (args.length > APPROVAL_LIMITS.maxArguments) return `the arguments are ${args.length} characters, more than an approval can hold`;
      return { kind: 'mcp', server: req.server.slice(0, 256), tool: req.tool.slice(0, 256), arguments: args };
    }
    case 'Read':
    case 'Edit':
    case 'WebFetch': {
      const input = canonicalJson(toolInput);
      if (input.length > APPROVAL_LIMITS.maxArguments) return `the tool input is ${input.length} characters, more than an approval can hold`;
      return { kind: 'tool', tool: toolName, input, cwd };
    }
  }
}

/** Decides the call with the session's policy; an `ask` becomes the exact request for a person. Throws on a malformed call. */
export async function judgeHookAsk(q: AskRequest, ctx: HookAskContext): Promise<HookAskJudgement> {
  const cwd = q.cwd;
  if (!path.isAbsolute(cwd) || cwd.includes('\u0000') || path.resolve(cwd) !== cwd.replace(/(.)\/+$/, '$1')) {
    return { kind: 'not-asked', decision: 'deny', reason: 'the call\'s cwd is not a clean absolute path; cordon cannot check it' };
  }
  const req = toolRequest(q.tool_name, q.tool_input, cwd);
  if (req === null) return { kind: 'not-asked', decision: 'allow', reason: `cordon has no rules for ${q.tool_name}; the harness decides` };
  const subjects = await requestSubjects(req, cwd, ctx.loaded.context);
  const d = strongest(subjects.map((s) => ctx.decide(s)));
  if (d === undefined) return { kind: 'not-asked', decision: 'deny', reason: `no subject was decided for ${q.tool_name}` };
  if (d.effect !== 'ask') {
    return { kind: 'not-asked', decision: d.effect, reason: `the session's policy decides ${d.effect} (${ruleText(d)}): ${d.reason}` };
  }
  const request = exactRequest(req, q.tool_name, q.tool_input, cwd, subjects, ctx.path);
  if (typeof request === 'string') return { kind: 'not-asked', decision: 'deny', reason: `${d.reason} It needs a person's approval, but ${request}; denied.` };
  const cut = (t: string): string => t.slice(0, APPROVAL_LIMITS.maxText);
  return {
    kind: 'ask',
    input: {
      request, boundary: 'hook', subject: cut(`${q.tool_name}: ${d.subject}`), rule: cut(ruleText(d)), reason: cut(d.reason),
      ...(req.kind === 'Bash' ? {} : { suggestion: cut(`allow ${d.subject}`) }),
    },
  };
}
