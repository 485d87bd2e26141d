/**
 * `Http(METHOD host[:port]/path-glob)` patterns: METHOD is a token, `*`, or
 * alternatives `GET|HEAD`; the host part is a Net pattern; the path glob
 * matches the request path without its query (`*` within a segment, `**`
 * across segments). No path means every path.
 */
import { CordonError } from '../../errors.js';
import { compileGlob } from '../glob.js';
import type { Effect } from '../types.js';
import { describeNetPattern, parseNetPattern, type NetPattern } from './net.js';

export interface HttpPattern {
  readonly methods: readonly string[] | null;
  readonly net: NetPattern;
  readonly pathGlob: string;
  readonly path: RegExp;
}

const METHOD = /^[A-Z][A-Z0-9_-]{0,31}$/;

export function parseHttpPattern(spec: string, text: string = spec): HttpPattern {
  const space = spec.indexOf(' ');
  if (space === -1) {
    throw new CordonError('CORDON_RULE_INVALID', `'${text}': write Http(METHOD host/path), e.g. Http(POST github.com/*/*/git-receive-pack) or Http(* example.com/**)`);
  }
  const methodText = spec.slice(0, space);
  const target = spec.slice(space + 1).trim();
  let methods: string[] | null = null;
  if (methodText !== '*') {
    methods = methodText.split('|');
    for (const m of methods) {
      if (!METHOD.test(m)) {
        throw new CordonError('CORDON_RULE_INVALID', `'${text}': '${m}' is not an HTTP method; use upper case (GET, POST...) or *`);
      }
    }
  }
  const slash = target.startsWith('[') ? target.indexOf('/', target.indexOf(']')) : target.indexOf('/');
  const authority = slash === -1 ? target : target.slice(0, slash);
  const pathGlob = slash === -1 ? '/**' : target.slice(slash);
  if (/[#\s]/.test(pathGlob)) {
    throw new CordonError('CORDON_RULE_INVALID', `'${text}': the path glob must not contain spaces or a '#'`);
  }
  const net = parseNetPattern(authority, text);
  return { methods, net, pathGlob, path: compileGlob(pathGlob.slice(1), '', false, text, false) };
}

/** Percent-decodes one escape if it stands for an unreserved character (RFC 3986), else keeps it (upper-cased). */
function decodeUnreserved(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
    const c = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : m.toUpperCase();
  });
}

/** Collapses repeated slashes and removes `.` and `..` segments (never above the root). */
function normalizeSegments(path: string): string {
  const segs: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segs.pop();
    else segs.push(seg);
  }
  const trailing = segs.length > 0 && /\/\.{0,2}$/.test(path) ? '/' : '';
  return `/${segs.join('/')}${trailing}`;
}

/**
 * The spellings of one request path a server might route on, each matched
 * against the rule: as sent; with unreserved escapes decoded, repeated
 * slashes collapsed and dot segments resolved (`//%61dmin/./x`); fully
 * decoded; without `;` path parameters (`/admin;x=1/users`); with
 * backslashes read as slashes (`\\admin`).
 */
export function pathForms(requestPath: string): string[] {
  const q = requestPath.search(/[?#]/);
  const raw = q === -1 ? requestPath : requestPath.slice(0, q);
  const forms = new Set([raw, normalizeSegments(decodeUnreserved(raw))]);
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // malformed escapes: the other forms stand
  }
  for (const d of [decoded, decoded.replace(/\\/g, '/')]) {
    forms.add(normalizeSegments(d));
    forms.add(normalizeSegments(d.split('/').map((seg) => seg.split(';')[0] ?? '').join('/')));
  }
  return [...forms];
}

/**
 * Matches a request path (its query and fragment are not part of it). Deny
 * and ask rules match if any spelling of the path matches, ignoring case (some
 * servers do); allow rules only if every spelling matches exactly, so an
 * encoding can neither widen an allow nor dodge a deny.
 */
export function httpPathMatches(p: HttpPattern, requestPath: string, effect: Effect = 'deny'): boolean {
  const forms = pathForms(requestPath);
  if (effect === 'allow') return forms.every((f) => p.path.test(f));
  let loose = LOOSE.get(p);
  if (loose === undefined) {
    loose = new RegExp(p.path.source, `${p.path.flags.replace('i', '')}i`);
    LOOSE.set(p, loose);
  }
  const re = loose;
  return forms.some((f) => re.test(f));
}

const LOOSE = new WeakMap<HttpPattern, RegExp>();

export function methodMatches(p: HttpPattern, method: string): boolean {
  return p.methods === null || p.methods.includes(method.toUpperCase());
}

export function describeHttpPattern(p: HttpPattern): string {
  const m = p.methods === null ? 'requests with any method' : `${p.methods.join(' or ')} requests`;
  const where = p.pathGlob === '/**' ? 'any path' : `paths matching ${p.pathGlob}`;
  return `${m} to ${describeNetPattern(p.net)}, ${where}`;
}
