/**
 * `mcp__server__tool` rules and their argument matchers. The tool part may be
 * a glob (`create_*`); argument matchers address the call's arguments by a
 * JSON path (`path`, `options.recursive`, `files[0]`) and must all hold.
 */
import path from 'node:path';
import { CordonError } from '../../errors.js';
import type { ArgMatcher, PathContext } from '../types.js';

export function globToRegex(glob: string): RegExp {
  let src = '';
  for (const c of glob) {
    if (c === '*') src += '.*';
    else if (c === '?') src += '.';
    else src += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 'su');
}

type Segment = string | number;

export function parseJsonPath(text: string): Segment[] {
  let rest = text.startsWith('$.') ? text.slice(2) : text === '$' ? '' : text;
  const out: Segment[] = [];
  while (rest !== '') {
    const m = /^([A-Za-z0-9_$-]+)|^\[(\d{1,6})\]|^\["((?:[^"\\]|\\.)*)"\]/.exec(rest);
    if (m === null) {
      throw new CordonError('CORDON_RULE_INVALID', `argument path '${text}' is not valid; write e.g. path, options.recursive or files[0]`);
    }
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push((m[3] ?? '').replace(/\\(.)/g, '$1'));
    rest = rest.slice(m[0].length);
    if (rest.startsWith('.')) {
      rest = rest.slice(1);
      if (rest === '') throw new CordonError('CORDON_RULE_INVALID', `argument path '${text}' ends with a dot`);
    }
  }
  return out;
}

function lookup(value: unknown, segments: readonly Segment[]): { found: boolean; value: unknown } {
  let cur: unknown = value;
  for (const seg of segments) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur) || seg >= cur.length) return { found: false, value: undefined };
      cur = (cur as unknown[])[seg];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, seg)) {
        return { found: false, value: undefined };
      }
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return { found: true, value: cur };
}

function isOutside(value: unknown, ctx: PathContext): boolean {
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => {
    if (typeof v !== 'string') return false;
    let p = v.startsWith('file://') ? decodeURIComponent(v.slice('file://'.length)) : v;
    if (p === '~' || p.startsWith('~/')) p = path.join(ctx.home, p.slice(1));
    const abs = path.resolve(ctx.workspace, p);
    return abs !== ctx.workspace && !abs.startsWith(ctx.workspace + path.sep);
  });
}

export interface CompiledArgMatcher {
  readonly matcher: ArgMatcher;
  test(args: unknown): boolean;
  explain(): string;
}

export function compileArgMatcher(m: ArgMatcher, ctx: PathContext): CompiledArgMatcher {
  const segments = parseJsonPath(m.path);
  const at = (args: unknown): { found: boolean; value: unknown } => lookup(args, segments);
  switch (m.op) {
    case 'equals':
      return { matcher: m, test: (a) => { const r = at(a); return r.found && r.value === m.value; }, explain: () => `${m.path} equals ${JSON.stringify(m.value)}` };
    case 'glob': {
      const re = globToRegex(m.value);
      return { matcher: m, test: (a) => { const r = at(a); return typeof r.value === 'string' && re.test(r.value); }, explain: () => `${m.path} matches ${m.value}` };
    }
    case 'regex': {
      let re: RegExp;
      try {
        re = new RegExp(m.value, 'u');
      } catch (e) {
        throw new CordonError('CORDON_RULE_INVALID', `regex for '${m.path}' is invalid: ${e instanceof Error ? e.message : String(e)}`);
      }
      return { matcher: m, test: (a) => { const r = at(a); return typeof r.value === 'string' && re.test(r.value.slice(0, 65536)); }, explain: () => `${m.path} matches /${m.value}/` };
    }
    case 'min':
    case 'max': {
      const lo = m.op === 'min';
      return {
        matcher: m,
        test: (a) => { const r = at(a); return typeof r.value === 'number' && (lo ? r.value >= m.value : r.value <= m.value); },
        explain: () => `${m.path} is ${lo ? 'at least' : 'at most'} ${m.value}`,
      };
    }
    case 'outside_workspace':
      return { matcher: m, test: (a) => isOutside(at(a).value, ctx), explain: () => `${m.path} names a path outside the workspace` };
    case 'exists':
      return { matcher: m, test: (a) => at(a).found, explain: () => `${m.path} is present` };
  }
}
