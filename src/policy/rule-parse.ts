/**
 * Parses one rule string (`Bash(npm run test:*)`, `mcp__github__create_*`)
 * into rule data. Validation of the specifier itself happens when the rule is
 * compiled (`match/compile.ts`), so that both steps report one clear message.
 */
import { CordonError } from '../errors.js';
import type { RuleData, RuleKind } from './types.js';
import { didYouMean } from './suggest.js';

/** Kinds users may write, with the kind each maps to. */
const KIND_ALIASES: ReadonlyMap<string, RuleKind> = new Map<string, RuleKind>([
  ['Read', 'Read'],
  ['Edit', 'Edit'],
  // Claude Code applies Edit rules to every file-writing tool; a `Write(...)`
  // rule is read as `Edit(...)` so it is never silently ignored.
  ['Write', 'Edit'],
  ['MultiEdit', 'Edit'],
  ['NotebookEdit', 'Edit'],
  ['Bash', 'Bash'],
  ['Net', 'Net'],
  ['Http', 'Http'],
  ['WebFetch', 'WebFetch'],
]);

/** Claude Code tools that no cordon boundary enforces; accepted in settings.json with a warning. */
export const CLAUDE_ONLY_TOOLS: ReadonlySet<string> = new Set([
  'Glob', 'Grep', 'LS', 'WebSearch', 'Task', 'Agent', 'Skill', 'TodoWrite', 'NotebookRead', 'ExitPlanMode', 'SlashCommand', 'KillShell', 'BashOutput',
]);

export const RULE_KIND_NAMES: readonly string[] = [...KIND_ALIASES.keys(), 'mcp__'];

// eslint-disable-next-line no-control-regex -- these are exactly the characters being refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

function invalid(message: string): CordonError {
  return new CordonError('CORDON_RULE_INVALID', message);
}

function unescapeContent(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\' && (raw[i + 1] === '(' || raw[i + 1] === ')' || raw[i + 1] === '\\')) {
      out += raw[i + 1];
      i++;
    } else {
      out += c;
    }
  }
  return out;
}

function findUnescaped(text: string, ch: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] === ch) return i;
  }
  return -1;
}

/** Splits `mcp__server__tool` (tool may contain `__` and globs; `mcp__server` means every tool). */
function parseMcp(text: string): RuleData {
  const rest = text.slice('mcp__'.length);
  const sep = rest.indexOf('__');
  const server = sep === -1 ? rest : rest.slice(0, sep);
  const tool = sep === -1 ? '*' : rest.slice(sep + 2);
  if (!/^[A-Za-z0-9_*-]+$/.test(server) || server.startsWith('_') || server.endsWith('_')) {
    throw invalid(`'${text}' has no valid server name; write mcp__<server>__<tool> (letters, digits, '-' and '_')`);
  }
  if (tool === '' || !/^[A-Za-z0-9_.*?/-]+$/.test(tool)) {
    throw invalid(`'${text}' has no valid tool name; write mcp__${server}__<tool> or mcp__${server}__* for every tool`);
  }
  return { kind: 'Mcp', specifier: null, mcp: { server, tool }, text };
}

/**
 * Parses a rule string. Throws CordonError(CORDON_RULE_INVALID) with a message
 * that says what to do. `claudeTool` is set instead of throwing when the rule
 * names a Claude Code tool that cordon does not enforce.
 */
export function parseRule(input: string): RuleData | { readonly claudeTool: string } {
  const text = input.trim();
  if (text === '') throw invalid('empty rule; write e.g. Read(./src/**) or Net(registry.npmjs.org)');
  if (CONTROL.test(text)) {
    throw invalid('rule contains control, invisible or bidi characters; retype it with plain characters');
  }
  if (text.startsWith('mcp__')) {
    if (text.includes('(')) {
      throw invalid(`'${text}': MCP argument matchers are written as an object: { rule: ${text.slice(0, text.indexOf('('))}, args: { ... } }`);
    }
    return parseMcp(text);
  }
  const open = findUnescaped(text, '(');
  const name = open === -1 ? text : text.slice(0, open);
  const kind = KIND_ALIASES.get(name);
  if (kind === undefined) {
    if (CLAUDE_ONLY_TOOLS.has(name)) return { claudeTool: name };
    if (/^mcp_/i.test(name)) {
      throw invalid(`unknown rule kind '${name}'; MCP rules are written mcp__<server>__<tool> with two underscores`);
    }
    throw invalid(`unknown rule kind '${name}'${didYouMean(name, [...KIND_ALIASES.keys(), 'mcp__server__tool'])}`);
  }
  if (open === -1) return { kind, specifier: null, text };
  if (!text.endsWith(')') || text.endsWith('\\)')) {
    throw invalid(`'${text}' is missing its closing parenthesis; write ${name}(...)`);
  }
  const raw = text.slice(open + 1, -1);
  if (findUnescaped(raw, ')') !== -1 && kind !== 'Bash') {
    throw invalid(`'${text}' has an unescaped ')' inside; escape it as \\)`);
  }
  const content = unescapeContent(raw);
  const specifier = content === '' || content === '*' ? null : content;
  return { kind, specifier, text };
}
