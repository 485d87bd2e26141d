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

function windows(lower: string, keywords: readonly string[], back: number, ahead: number): [number, number][] {
  const starts: number[] = [];
  for (const k of keywords) {
    for (let i = lower.indexOf(k); i !== -1; i = lower.indexOf(k, i + k.length)) starts.push(i);
  }
  if (starts.length === 0) return [];
  starts.sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const s of starts) {
    const from = Math.max(0, s - back);
    const to = Math.min(lower.length, s + ahead);
    const last = out[out.length - 1];
    if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

export class InjectionScanner {
  readonly #rules: readonly Compiled[];
  readonly #maxChars: number;
  readonly #maxDepth: number;

  constructor(opts: { rules?: readonly InjectionRule[]; maxChars?: number; maxDepth?: number } = {}) {
    this.#rules = (opts.rules ?? INJECTION_RULES).map(compile);
    this.#maxChars = opts.maxChars ?? 32 * 1024 * 1024;
    this.#maxDepth = opts.maxDepth ?? 64;
  }

  /** Findings in one string. */
  scanText(text: string, where = 'text'): InjectionFinding[] {
    const out: InjectionFinding[] = [];
    const lower = text.toLowerCase();
    // toLowerCase keeps UTF-16 offsets for everything but a few letters (İ); fall back to the text itself then.
    const index = lower.length === text.length ? lower : text;
    for (const { rule, re } of this.#rules) {
      const spans: [number, number][] = rule.kind === 'chars' ? [[0, text.length]] : windows(index, rule.keywords, rule.back, rule.ahead);
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
