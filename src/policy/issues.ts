/**
 * Turns schema validation issues into positioned problems with a message that
 * says what to do (`unknown key 'permisions'; did you mean 'permissions'?`).
 */
import type { z } from 'zod';
import type { PolicyProblem } from '../errors.js';
import { formatPath, type PathSegment, type PolicySource } from './source.js';
import { didYouMean } from './suggest.js';

interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The keys an object schema at `path` accepts (for suggestions). */
export function knownKeysAt(schema: z.ZodType, path: readonly PathSegment[]): string[] {
  let nodes: z.ZodType[] = [schema];
  const unwrap = (s: z.ZodType): z.ZodType[] => {
    const d = defOf(s);
    if (d.type === 'optional' && d.innerType) return unwrap(d.innerType);
    if (d.type === 'union' && d.options) return d.options.flatMap(unwrap);
    return [s];
  };
  for (const seg of path) {
    const next: z.ZodType[] = [];
    for (const n of nodes.flatMap(unwrap)) {
      const d = defOf(n);
      if (typeof seg === 'number' && d.type === 'array' && d.element) next.push(d.element);
      else if (typeof seg === 'string' && d.type === 'object' && d.shape?.[seg]) next.push(d.shape[seg]);
      else if (typeof seg === 'string' && d.type === 'record' && d.valueType) next.push(d.valueType);
    }
    nodes = next;
  }
  return nodes.flatMap(unwrap).flatMap((n) => {
    const d = defOf(n);
    return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
  });
}

function describeValue(source: PolicySource, path: readonly PathSegment[]): string {
  let v: unknown = source.value;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return 'nothing';
    v = (v as Record<string | number, unknown>)[seg];
  }
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v).slice(0, 60)}`;
}

function messageFor(issue: z.core.$ZodIssue, source: PolicySource): string {
  const path = issue.path as PathSegment[];
  const last = path[path.length - 1];
  const inRuleList = path.length >= 2 && typeof last === 'number' && ['deny', 'ask', 'allow'].includes(String(path[path.length - 2]));
  if (issue.code === 'invalid_union') {
    if (inRuleList) return `expected a rule string such as "Net(example.com)" or a mapping { rule: mcp__server__tool, args: {...} }, found ${describeValue(source, path)}`;
    return `value does not fit any accepted form (found ${describeValue(source, path)}); see schema/policy.schema.json`;
  }
  if (issue.code === 'invalid_type') {
    if (describeValue(source, path) === 'nothing') return `'${String(last)}' is required`;
    return `expected ${issue.expected}, found ${describeValue(source, path)}`;
  }
  if (issue.code === 'invalid_value') {
    if (describeValue(source, path) === 'nothing') return `'${String(last)}' is required; add ${String(last)}: ${JSON.stringify(issue.values[0])}`;
    return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${describeValue(source, path)}`;
  }
  // Other issue kinds (too long, bad format...): zod's message names the limit.
  return issue.message;
}

export function issuesToProblems(issues: readonly z.core.$ZodIssue[], source: PolicySource, schema: z.ZodType): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  for (const issue of issues) {
    const path = issue.path as PathSegment[];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, path);
      for (const key of issue.keys) {
        const pos = source.keyPosition([...path, key]);
        const expected = known.length > 0 ? ` (expected one of: ${known.join(', ')})` : '';
        const hint = didYouMean(key, known);
        out.push({ file: source.file, ...pos, path: formatPath(path), message: `unknown key '${key}'${hint === '' ? expected : hint}` });
      }
      continue;
    }
    const pos = source.position(path);
    out.push({ file: source.file, ...pos, path: formatPath(path), message: messageFor(issue, source) });
  }
  return out;
}
