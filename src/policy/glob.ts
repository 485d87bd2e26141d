/**
 * gitignore-style globs compiled to anchored regular expressions over
 * absolute paths: `*` and `?` stay within one path segment, `**` crosses
 * segments, `[...]` is a character class, `\x` is a literal x. A pattern
 * without a slash (other than a trailing one) matches at any depth below its
 * base. A pattern also matches everything inside a directory it matches.
 */
import { CordonError } from '../errors.js';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function classToRegex(body: string): string {
  let out = '';
  let i = 0;
  if (body.startsWith('!') || body.startsWith('^')) {
    out += '^/';
    i = 1;
  }
  for (; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c === '\\' && i + 1 < body.length) {
      out += escapeRegex(body[i + 1] ?? '');
      i++;
    } else if (c === '-' && out !== '' && out !== '^/' && i + 1 < body.length) {
      out += '-';
    } else {
      out += c === '/' ? '' : escapeRegex(c);
    }
  }
  return `[${out}]`;
}

/** Compiles one segment (no `/`) to a regex fragment. */
function segmentToRegex(seg: string, pattern: string): string {
  let out = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i] ?? '';
    if (c === '\\') {
      if (i + 1 >= seg.length) throw new CordonError('CORDON_RULE_INVALID', `'${pattern}' ends with a lone backslash`);
      out += escapeRegex(seg[i + 1] ?? '');
      i++;
    } else if (c === '*') {
      while (seg[i + 1] === '*') i++;
      out += '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const close = seg.indexOf(']', i + 2);
      if (close === -1) {
        out += '\\[';
      } else {
        out += classToRegex(seg.slice(i + 1, close));
        i = close;
      }
    } else {
      out += escapeRegex(c);
    }
  }
  return out;
}

/**
 * Compiles `relative` (already stripped of its anchor) against the absolute
 * directory `base`. `anyDepth` makes the pattern match at any depth below base;
 * `inside` (default) makes it match everything inside a matching directory.
 */
export function compileGlob(relative: string, base: string, anyDepth: boolean, pattern: string, inside = true): RegExp {
  const segments = relative.split('/').filter((s, i, all) => s !== '' || i === all.length - 1);
  while (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  let body = '';
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i] ?? '';
    const last = i === segments.length - 1;
    if (seg === '**') {
      body += last ? '(?:/.*)?' : '(?:/[^/]+)*';
    } else {
      body += '/' + segmentToRegex(seg, pattern);
    }
  }
  const root = base === '/' ? '' : escapeRegex(base);
  const depth = anyDepth ? '(?:/[^/]+)*' : '';
  return new RegExp(`^${root}${depth}${body}${inside ? '(?:/.*)?' : ''}$`, 'su');
}

/**
 * For a pattern that matches at any depth (`compileGlob(relative, base, true,
 * ...)`) and is one segment (no `**`): the regex that tests a path's last
 * segment alone. A walk that tests each entry and does not descend into a
 * matching directory may test `p = parent/name` (p strictly below `base`)
 * with this on `name`: the parent's segments were tested when it was visited,
 * so the full regex matches p exactly when this matches name. Null otherwise.
 */
export function compileSegmentName(relative: string, pattern: string): RegExp | null {
  const segments = relative.split('/').filter((s, i, all) => s !== '' || i === all.length - 1);
  while (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  const seg = segments[0];
  if (segments.length !== 1 || seg === undefined || seg === '**') return null;
  return new RegExp(`^${segmentToRegex(seg, pattern)}$`, 'su');
}

/** True when the text has glob metacharacters. */
export function hasGlob(text: string): boolean {
  return /[*?[]/.test(text);
}
