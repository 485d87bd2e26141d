/**
 * Runs the injection rules (`injection-rules.ts`) over text and over every
 * string inside a JSON value. Linear in the input: one lowercase copy, an
 * `indexOf` prefilter per keyword, then each rule's regex only over the merged
 * windows around its keywords.
 */
import { FLAG_SCORE, INJECTION_RULES, type InjectionRule, SEVERITY_SCORE, type Severity } from './injection-rules.js';

export interface InjectionFinding {
  readonly rule: string;
  readonly severity: Severity;
  /** JSON path of the string (`content[0].text`, `description`), or `text`. */
  readonly where: string;
  readonly start: number;
  readonly end: number;
  /** The matched text, shortened; audit records redact it further. */
  readonly sample: string;
  readonly explain: string;
}

export interface InjectionReport {
  readonly findings: readonly InjectionFinding[];
  readonly score: number;
  /** True at or above the flag score: one high finding, or a medium one with anything else. */
  readonly flagged: boolean;
  /** True when the input went past the scan bounds (depth or size): treated as flagged. */
  readonly truncated: boolean;
}

interface Compiled {
  readonly rule: InjectionRule;
  readonly re: RegExp;
}

const SAMPLE_CHARS = 120;

function compile(rule: InjectionRule): Compiled {
  if (rule.kind === 'chars') return { rule, re: new RegExp(rule.chars, 'gu') };
  return { rule, re: new RegExp(rule.pattern, `g${rule.flags ?? 'iu'}`) };
}

/**
 * Finds every keyword of every rule in one pass: one regex alternation of
 * all keywords (longest first) over a lowercase copy, restarted one character
 * after each hit so overlapping keywords are found; keywords that are
 * prefixes of the one matched at a position are added with it.
 */
class KeywordIndex {
  readonly #re: RegExp;
  readonly #prefixes = new Map<string, string[]>();

  constructor(keywords: Iterable<string>) {
    const all = [...new Set(keywords)].sort((a, b) => b.length - a.length || a.localeCompare(b));
    for (const k of all) {
      if (k !== k.toLowerCase() || k === '') throw new TypeError(`injection keyword ${JSON.stringify(k)} must be lowercase and not empty`);
      this.#prefixes.set(k, all.filter((o) => o !== k && k.startsWith(o)));
    }
    const esc = (k: string): string => k.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    this.#re = all.length === 0 ? /(?!)/g : new RegExp(all.map(esc).join('|'), 'g');
  }

  /** Positions of each keyword found in `lower` (a lowercase text). */
  find(lower: string): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const re = this.#re;
    re.lastIndex = 0;
    for (let m = re.exec(lower); m !== null; m = re.exec(lower)) {
      add(out, m[0], m.index);
      for (const k of this.#prefixes.get(m[0]) ?? []) add(out, k, m.index);
      re.lastIndex = m.index + 1;
    }
    return out;
  }
}

function add(out: Map<string, number[]>, k: string, p: number): void {
  const list = out.get(k);
  if (list === undefined) out.set(k, [p]);
  else list.push(p);
}

function windows(found: ReadonlyMap<string, readonly number[]>, keywords: readonly string[], back: number, ahead: number, length: number): [number, number][] {
  const starts: number[] = [];
  for (const k of keywords) for (const p of found.get(k) ?? []) starts.push(p);
  if (starts.length === 0) return [];
  starts.sort((a, b) => a - b);
  const lowerLength = length;
  const out: [number, number][] = [];
  for (const s of starts) {
    const from = Math.max(0, s - back);
    const to = Math.min(lowerLength, s + ahead);
    const last = out[out.length - 1];
    if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

export class InjectionScanner {
  readonly #rules: readonly Compiled[];
  readonly #keywords: KeywordIndex;
  /** Every character rule's class in one regex: the per-rule passes run only when it matches. */
  readonly #chars: RegExp;
  readonly #maxChars: number;
  readonly #maxDepth: number;

  constructor(opts: { rules?: readonly InjectionRule[]; maxChars?: number; maxDepth?: number } = {}) {
    this.#rules = (opts.rules ?? INJECTION_RULES).map(compile);
    const classes = this.#rules.flatMap((c) => (c.rule.kind === 'chars' ? [c.rule.chars] : []));
    this.#chars = classes.length === 0 ? /(?!)/u : new RegExp(classes.join('|'), 'u');
    this.#keywords = new KeywordIndex(this.#rules.flatMap((c) => (c.rule.kind === 'pattern' ? c.rule.keywords : [])));
    this.#maxChars = opts.maxChars ?? 32 * 1024 * 1024;
    this.#maxDepth = opts.maxDepth ?? 64;
  }

  /** Findings in one string. */
  scanText(text: string, where = 'text'): InjectionFinding[] {
    const out: InjectionFinding[] = [];
    const lower = text.toLowerCase();
    // toLowerCase keeps UTF-16 offsets for all but a few letters (İ); then search the text as is.
    const found = this.#keywords.find(lower.length === text.length ? lower : text);
    const anyChars = this.#chars.test(text);
    for (const { rule, re } of this.#rules) {
      if (rule.kind === 'chars' && !anyChars) continue;
      const spans: [number, number][] = rule.kind === 'chars' ? [[0, text.length]] : windows(found, rule.keywords, rule.back, rule.ahead, text.length);
      for (const [from, to] of spans) {
        const part = from === 0 && to === text.length ? text : text.slice(from, to);
        re.lastIndex = 0;
        for (let m = re.exec(part); m !== null; m = re.exec(part)) {
          if (m[0] === '') {
            re.lastIndex++;
            continue;
          }
          const start = from + m.index;
          out.push({ rule: rule.id, severity: rule.severity, where, start, end: start + m[0].length, sample: m[0].slice(0, SAMPLE_CHARS), explain: rule.explain });
        }
      }
    }
    return out;
  }

  /** Findings in every string (keys too) of a JSON value. */
  scanValue(value: unknown, where = ''): InjectionReport {
    const findings: InjectionFinding[] = [];
    let chars = 0;
    let truncated = false;
    const walk = (v: unknown, path: string, depth: number): void => {
      if (truncated) return;
      if (depth > this.#maxDepth || chars > this.#maxChars) {
        truncated = true;
        return;
      }
      if (typeof v === 'string') {
        chars += v.length;
        if (chars > this.#maxChars) {
          truncated = true;
          return;
        }
        if (v.length > 0) findings.push(...this.scanText(v, path === '' ? 'text' : path));
      } else if (Array.isArray(v)) {
        v.forEach((x, i) => walk(x, `${path}[${i}]`, depth + 1));
      } else if (typeof v === 'object' && v !== null) {
        for (const [k, x] of Object.entries(v)) {
          const p = path === '' ? k : `${path}.${k}`;
          chars += k.length;
          if (k.length > 0) findings.push(...this.scanText(k, `${p}(key)`));
          walk(x, p, depth + 1);
        }
      }
    };
    walk(value, where, 0);
    return summarize(findings, truncated);
  }
}

export function summarize(findings: readonly InjectionFinding[], truncated = false): InjectionReport {
  const best = new Map<string, number>();
  for (const f of findings) best.set(f.rule, SEVERITY_SCORE[f.severity]);
  let score = 0;
  for (const s of best.values()) score += s;
  return { findings, score, flagged: truncated || score >= FLAG_SCORE, truncated };
}

/** One line naming the rules that fired, for reasons and tool results. */
export function describeFindings(report: InjectionReport): string {
  const seen = new Map<string, string>();
  for (const f of report.findings) if (!seen.has(f.rule)) seen.set(f.rule, f.explain);
  const parts = [...seen].map(([id, explain]) => `${id} (${explain})`);
  if (report.truncated) parts.push('scan-limit (the content is larger or deeper than the scanner reads)');
  return parts.join('; ');
}
