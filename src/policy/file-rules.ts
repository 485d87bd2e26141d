/**
 * Turns the permission lists of one validated document into rule specs,
 * compiling each rule once to validate it. Every problem is positioned.
 */
import type { PolicyProblem } from '../errors.js';
import { isCordonError } from '../errors.js';
import { compileRule } from './match/compile.js';
import { parseRule } from './rule-parse.js';
import type { ArgMatcherInput, RuleEntry } from './schema.js';
import { formatPath, type PathSegment, type PolicySource } from './source.js';
import type { ArgMatcher, Effect, Matcher, PathContext, RuleOrigin, RuleSpec, ScopeName } from './types.js';

export interface FileRules {
  readonly rules: RuleSpec[];
  readonly matchers: Matcher[];
  readonly problems: PolicyProblem[];
  readonly warnings: PolicyProblem[];
}

function argMatchers(args: Record<string, ArgMatcherInput>): ArgMatcher[] {
  const out: ArgMatcher[] = [];
  for (const [path, m] of Object.entries(args)) {
    if (m.equals !== undefined) out.push({ path, op: 'equals', value: m.equals });
    if (m.glob !== undefined) out.push({ path, op: 'glob', value: m.glob });
    if (m.regex !== undefined) out.push({ path, op: 'regex', value: m.regex });
    if (m.min !== undefined) out.push({ path, op: 'min', value: m.min });
    if (m.max !== undefined) out.push({ path, op: 'max', value: m.max });
    if (m.outside_workspace === true) out.push({ path, op: 'outside_workspace' });
    if (m.exists === true) out.push({ path, op: 'exists' });
  }
  return out;
}

export interface RuleListInput {
  readonly effect: Effect;
  readonly entries: readonly RuleEntry[];
  /** Path of the list inside the document, e.g. ['permissions', 'deny']. */
  readonly path: readonly PathSegment[];
  readonly mandatory?: boolean;
}

export function compileRuleLists(
  lists: readonly RuleListInput[],
  source: PolicySource,
  scope: ScopeName,
  ctx: PathContext,
): FileRules {
  const result: FileRules = { rules: [], matchers: [], problems: [], warnings: [] };
  for (const list of lists) {
    list.entries.forEach((entry, index) => {
      const path = [...list.path, index];
      const pos = source.position(path);
      const at = (message: string): PolicyProblem => ({ file: source.file, ...pos, path: formatPath(path), message });
      const text = typeof entry === 'string' ? entry : entry.rule;
      try {
        const parsed = parseRule(text);
        if ('claudeTool' in parsed) {
          result.warnings.push(at(`'${text}': ${parsed.claudeTool} is a Claude Code tool that no cordon boundary enforces; the rule is ignored`));
          return;
        }
        const args = typeof entry === 'string' || entry.args === undefined ? undefined : argMatchers(entry.args);
        if (args !== undefined && parsed.kind !== 'Mcp') {
          result.problems.push(at(`'${text}': argument matchers ('args') apply only to mcp__server__tool rules`));
          return;
        }
        if (args !== undefined && args.length === 0) {
          result.problems.push(at(`'${text}': 'args' is empty; give each argument a condition such as { glob: "./**" }`));
          return;
        }
        const origin: RuleOrigin = { scope, file: source.file, line: pos.line, column: pos.column };
        const reason = typeof entry === 'string' ? undefined : entry.reason;
        const spec: RuleSpec = {
          ...parsed,
          ...(args === undefined ? {} : { args }),
          ...(reason === undefined ? {} : { reason }),
          ...(list.mandatory === true ? { mandatory: true } : {}),
          effect: list.effect,
          origin,
          index,
        };
        result.matchers.push(compileRule(spec, ctx));
        result.rules.push(spec);
      } catch (e) {
        if (!isCordonError(e)) throw e;
        result.problems.push(at(e.message));
      }
    });
  }
  return result;
}
