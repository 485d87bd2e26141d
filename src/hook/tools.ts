/**
 * Maps a harness tool call to the policy subjects it stands for. A tool
 * cordon has no rule kind for is `null`: no opinion, the harness decides.
 *
 * | tool | subject |
 * | --- | --- |
 * | Bash | `Bash(command)`, analysed by the shell parser |
 * | Read, NotebookRead, LS | `Read(path)` |
 * | Glob, Grep | `Read(search root)`: `path` (default: cwd), narrowed by the pattern's static prefix for Glob |
 * | Edit, Write, MultiEdit, NotebookEdit | `Edit(path)` |
 * | WebFetch | `WebFetch(url)` with the canonical host |
 * | mcp__server__tool | `Mcp` with `tool_input` as the arguments |
 * | apply_patch (Codex) | `Edit(path)` for every file the patch adds, updates, deletes or moves to |
 */
import path from 'node:path';
import { CordonError } from '../errors.js';
import { hostFromUrl } from '../egress/hostname.js';
import { analyzeCommand, loadShellParser } from '../policy/bash/index.js';
import { resolveSubjectPath } from '../policy/match/path.js';
import type { PathContext, Subject } from '../policy/types.js';
import { patchedFiles } from './apply-patch.js';
import { describeIssues, TOOL_INPUT_SCHEMAS } from './input.js';

/** What a tool call asks for, before paths are resolved against a policy's context. */
export type ToolRequest =
  | { readonly kind: 'Bash'; readonly command: string }
  | { readonly kind: 'Read' | 'Edit'; readonly paths: readonly string[] }
  | { readonly kind: 'WebFetch'; readonly url: string }
  | { readonly kind: 'Mcp'; readonly server: string; readonly tool: string; readonly args: unknown };

const MCP_NAME = /^mcp__([A-Za-z0-9_-]+?)__(.+)$/;
const GLOB_META = /[*?[\]{}]/;

type ToolName = keyof typeof TOOL_INPUT_SCHEMAS;

function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOL_INPUT_SCHEMAS, name);
}

function parseToolInput<T extends ToolName>(name: T, input: Record<string, unknown>): ReturnType<(typeof TOOL_INPUT_SCHEMAS)[T]['parse']> {
  const r = TOOL_INPUT_SCHEMAS[name].safeParse(input);
  if (!r.success) throw new CordonError('CORDON_USAGE', `${name} tool input does not match its documented shape: ${describeIssues(r.error, 'tool_input')}`);
  return r.data as ReturnType<(typeof TOOL_INPUT_SCHEMAS)[T]['parse']>;
}

/** The directory a Glob pattern can reach: its segments up to the first one with a wildcard. */
export function globRoot(pattern: string, base: string): string {
  const segments = pattern.split('/');
  const fixed: string[] = [];
  for (const s of segments) {
    if (GLOB_META.test(s) || s.includes('\\')) break;
    fixed.push(s);
  }
  if (fixed.length === 0) return base;
  const prefix = fixed.join('/');
  if (prefix === '') return '/';
  return prefix.startsWith('~') ? prefix : path.resolve(base, prefix);
}

/** `null` when cordon has no rule kind for the tool. Throws on a tool input that does not match its shape. */
export function toolRequest(toolName: string, toolInput: Record<string, unknown>, cwd: string): ToolRequest | null {
  const mcp = MCP_NAME.exec(toolName);
  if (mcp) {
    if (mcp[1] === undefined || mcp[2] === undefined) return null;
    return { kind: 'Mcp', server: mcp[1], tool: mcp[2], args: toolInput };
  }
  // An MCP tool whose name cordon cannot split into server and tool cannot be checked: that is a refusal, not "no rules for it".
  if (toolName.toLowerCase().startsWith('mcp__')) {
    throw new CordonError('CORDON_USAGE', `the MCP tool name ${JSON.stringify(toolName.slice(0, 200))} is not mcp__<server>__<tool> with a server name of letters, digits, _ and -; cordon cannot check it`);
  }
  if (!isToolName(toolName)) return null;
  switch (toolName) {
    case 'Bash':
      return { kind: 'Bash', command: parseToolInput('Bash', toolInput).command };
    case 'Read':
      return { kind: 'Read', paths: [parseToolInput('Read', toolInput).file_path] };
    case 'NotebookRead':
      return { kind: 'Read', paths: [parseToolInput('NotebookRead', toolInput).notebook_path] };
    case 'LS':
      return { kind: 'Read', paths: [parseToolInput('LS', toolInput).path] };
    case 'Glob': {
      const g = parseToolInput('Glob', toolInput);
      const base = g.path ?? cwd;
      return { kind: 'Read', paths: [globRoot(g.pattern, base.startsWith('~') ? base : path.resolve(cwd, base))] };
    }
    case 'Grep':
      return { kind: 'Read', paths: [parseToolInput('Grep', toolInput).path ?? cwd] };
    case 'Edit':
    case 'Write':
    case 'MultiEdit':
      return { kind: 'Edit', paths: [parseToolInput(toolName, toolInput).file_path] };
    case 'NotebookEdit':
      return { kind: 'Edit', paths: [parseToolInput('NotebookEdit', toolInput).notebook_path] };
    case 'WebFetch':
      return { kind: 'WebFetch', url: parseToolInput('WebFetch', toolInput).url };
    case 'apply_patch':
      return { kind: 'Edit', paths: patchedFiles(parseToolInput('apply_patch', toolInput).command) };
  }
}

/** A tool path as the harness means it: `~` is the home directory, a relative path is relative to the session's cwd. */
function resolveToolPath(p: string, cwd: string, ctx: PathContext): string {
  if (p === '~' || p.startsWith('~/')) return resolveSubjectPath(p, ctx);
  return resolveSubjectPath(path.resolve(cwd, p), ctx);
}

/** The subjects to decide; the tool call is allowed only if every one is. */
export async function requestSubjects(req: ToolRequest, cwd: string, ctx: PathContext): Promise<Subject[]> {
  switch (req.kind) {
    case 'Bash':
      await loadShellParser();
      return [{ kind: 'Bash', command: req.command, analysis: await analyzeCommand(req.command) }];
    case 'Read':
    case 'Edit':
      return req.paths.map((p) => ({ kind: req.kind, path: resolveToolPath(p, cwd, ctx) }));
    case 'WebFetch': {
      const u = hostFromUrl(req.url);
      return [{ kind: 'WebFetch', host: u.host, url: req.url }];
    }
    case 'Mcp':
      return [{ kind: 'Mcp', server: req.server, tool: req.tool, args: req.args }];
  }
}
