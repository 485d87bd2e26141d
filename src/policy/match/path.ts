/**
 * `Read(path)` and `Edit(path)` rules: gitignore-style globs anchored as in
 * Claude Code: `//abs` from the filesystem root, `~/` from the home
 * directory, `/path` and `./path` from the workspace (the project root), and
 * a bare pattern without a slash at any depth of the workspace.
 */
import path from 'node:path';
import { CordonError } from '../../errors.js';
import { compileGlob } from '../glob.js';
import type { PathContext } from '../types.js';

export interface PathPattern {
  /** The absolute pattern the rule stands for, for messages. */
  readonly display: string;
  /** Absolute directory the pattern is anchored at. */
  readonly base: string;
  /** The pattern below `base` (may hold globs). */
  readonly rest: string;
  /** True when the pattern matches at any depth below `base`. */
  readonly anyDepth: boolean;
  /** The compiled pattern (what `matches` tests), so a sandbox plan can store it as data. */
  readonly regex: RegExp;
  matches(absPath: string): boolean;
}

interface Anchored {
  readonly base: string;
  readonly rest: string;
  readonly anyDepth: boolean;
  readonly where: string;
}

function anchor(pattern: string, ctx: PathContext): Anchored {
  if (pattern.startsWith('//')) return { base: '/', rest: pattern.slice(2), anyDepth: false, where: 'from the filesystem root' };
  if (pattern === '~') return { base: ctx.home, rest: '', anyDepth: false, where: 'your home directory' };
  if (pattern.startsWith('~/')) return { base: ctx.home, rest: pattern.slice(2), anyDepth: false, where: 'in your home directory' };
  if (pattern.startsWith('~')) {
    throw new CordonError('CORDON_RULE_INVALID', `'${pattern}': other users' homes (~name) are not supported; write //home/name/... instead`);
  }
  if (pattern.startsWith('/')) return { base: ctx.workspace, rest: pattern.slice(1), anyDepth: false, where: 'in the workspace' };
  let rest = pattern;
  let base = ctx.workspace;
  let anchored = false;
  while (rest.startsWith('./') || rest.startsWith('../') || rest === '.' || rest === '..') {
    anchored = true;
    if (rest.startsWith('../') || rest === '..') base = path.dirname(base);
    rest = rest.startsWith('./') ? rest.slice(2) : rest.startsWith('../') ? rest.slice(3) : '';
  }
  const inner = rest.replace(/\/+$/, '');
  if (!anchored && !inner.includes('/')) {
    return { base, rest, anyDepth: true, where: 'at any depth of the workspace' };
  }
  return { base, rest, anyDepth: false, where: base === ctx.workspace ? 'in the workspace' : `under ${base}` };
}

export function compilePathPattern(pattern: string, ctx: PathContext): PathPattern {
  if (pattern.includes('\u0000')) throw new CordonError('CORDON_RULE_INVALID', 'path pattern contains a NUL byte');
  const a = anchor(pattern, ctx);
  if (a.rest.split('/').includes('..')) {
    throw new CordonError('CORDON_RULE_INVALID', `'${pattern}': '..' is only allowed at the start of a pattern`);
  }
  const re = compileGlob(a.rest, a.base, a.anyDepth, pattern);
  const shown = a.anyDepth ? `${a.base}/**/${a.rest}` : a.rest === '' ? a.base : `${a.base === '/' ? '' : a.base}/${a.rest}`;
  return {
    base: a.base,
    rest: a.rest,
    anyDepth: a.anyDepth,
    display: `${shown} (${a.where})`,
    regex: re,
    matches: (absPath) => re.test(absPath),
  };
}

/** Normalises a subject path: `~` expanded, relative paths resolved against the workspace, `.`/`..` removed. */
export function resolveSubjectPath(input: string, ctx: PathContext): string {
  if (input.includes('\u0000')) throw new CordonError('CORDON_SUBJECT_INVALID', 'path contains a NUL byte');
  if (input.startsWith('//')) return path.resolve('/', input.slice(2));
  if (input === '~') return ctx.home;
  if (input.startsWith('~/')) return path.resolve(ctx.home, input.slice(2));
  return path.resolve(ctx.workspace, input);
}
