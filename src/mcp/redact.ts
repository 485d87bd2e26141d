/**
 * Redaction of injection findings inside a JSON value: each matched span is
 * replaced by a marker naming the rule; invisible characters are removed.
 * Returns a new value; the input is not changed.
 */
import type { InjectionFinding } from './injection.js';

function redactString(s: string, spans: readonly InjectionFinding[]): string {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const f of sorted) {
    if (f.end <= at) continue;
    const start = Math.max(f.start, at);
    out += s.slice(at, start);
    out += f.end - start <= 2 ? '' : `[cordon: removed, ${f.rule}]`;
    at = f.end;
  }
  return out + s.slice(at);
}

/** Paths are those `InjectionScanner.scanValue` reports (keys are never rewritten). */
export function redactValue(value: unknown, findings: readonly InjectionFinding[], root = ''): unknown {
  const byPath = new Map<string, InjectionFinding[]>();
  for (const f of findings) {
    const list = byPath.get(f.where) ?? [];
    list.push(f);
    byPath.set(f.where, list);
  }
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      const spans = byPath.get(path === '' ? 'text' : path);
      return spans === undefined ? v : redactString(v, spans);
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${path}[${i}]`));
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, path === '' ? k : `${path}.${k}`);
      return out;
    }
    return v;
  };
  return walk(value, root);
}
