/**
 * Runs the injection rules (`injection-rules.ts`) over text and over every
 * string inside a JSON value. Linear in the input: one pass of the keyword
 * automaton finds every rule keyword and trigger character (no lowercase
 * copy; a short text its leading-triple filter clears goes no further), then
 * each rule's regex runs only over the merged windows around its
 * own keywords, and the character rules only when a trigger character is
 * present.
 */
import { FLAG_SCORE, INJECTION_RULES, type InjectionRule, SEVERITY_SCORE, type Severity } from './injection-rules.js';
import { KeywordAutomaton } from './keyword-automaton.js';

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
/** Texts up to this long are checked with the automaton's leading-triple filter first (most short texts hold no keyword). */
const FILTER_MAX = 1024;

function hex(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

function compile(rule: InjectionRule): Compiled {
  if (rule.kind === 'chars') return { rule, re: new RegExp(`[${rule.ranges.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('')}]`, 'gu') };
  return { rule, re: new RegExp(rule.pattern, `g${rule.flags ?? 'iu'}`) };
}

/** Merged `[from, to)` windows around sorted keyword starts, pushed onto `out` as pairs. */
function windows(starts: readonly number[], back: number, ahead: number, length: number, out: number[]): void {
  for (const s of starts) {
    const from = Math.max(0, s - back);
    const to = Math.min(length, s + ahead);
    const n = out.length;
    if (n > 0 && from <= out[n - 1]!) out[n - 1] = Math.max(out[n - 1]!, to);
    else out.push(from, to);
  }
}

/** A JSON path built only when a finding needs it. */
interface PathNode {
  readonly parent: PathNode | null;
  readonly key: string | number;
}

const KIND_TEXT = 0;
const KIND_VALUE = 1;
const KIND_KEY = 2;

function placeOf(root: string, node: PathNode | null, kind: number): string {
  if (kind === KIND_TEXT) return root;
  const p = pathOf(root, node);
  return kind === KIND_KEY ? `${p}(key)` : p === '' ? 'text' : p;
}

function pathOf(root: string, node: PathNode | null): string {
  const parts: (string | number)[] = [];
  for (let n = node; n !== null; n = n.parent) parts.push(n.key);
  let p = root;
  for (let i = parts.length - 1; i >= 0; i--) {
    const k = parts[i]!;
    p = typeof k === 'number' ? `${p}[${k}]` : p === '' ? k : `${p}.${k}`;
  }
  return p;
}

export class InjectionScanner {
  readonly #rules: readonly Compiled[];
  readonly #automaton: KeywordAutomaton;
  /** Per keyword id, the indexes (into #rules) of the pattern rules that name it. */
  readonly #rulesOf: readonly (readonly number[])[];
  readonly #maxChars: number;
  readonly #maxDepth: number;
  /** Scratch for the automaton's hits (scans are synchronous). */
  readonly #hits: number[] = [];

  constructor(opts: { rules?: readonly InjectionRule[]; maxChars?: number; maxDepth?: number } = {}) {
    this.#rules = (opts.rules ?? INJECTION_RULES).map(compile);
    const ids = new Map<string, number>();
    const rulesOf: number[][] = [];
    this.#rules.forEach(({ rule }, r) => {
      if (rule.kind !== 'pattern') return;
      for (const k of new Set(rule.keywords)) {
        let id = ids.get(k);
        if (id === undefined) {
          id = ids.size;
          ids.set(k, id);
          rulesOf.push([]);
        }
        rulesOf[id]!.push(r);
      }
    });
    this.#rulesOf = rulesOf;
    this.#automaton = new KeywordAutomaton([...ids.keys()], this.#rules.flatMap((c) => (c.rule.kind === 'chars' ? c.rule.ranges : [])));
    this.#maxChars = opts.maxChars ?? 32 * 1024 * 1024;
    this.#maxDepth = opts.maxDepth ?? 64;
  }

  /** Findings in one string. */
  scanText(text: string, where = 'text'): InjectionFinding[] {
    const out: InjectionFinding[] = [];
    this.#scan(text, where, null, KIND_TEXT, out);
    return out;
  }

  /**
   * Findings of one string appended to `out`. The place is built only for a
   * finding: `root` itself (KIND_TEXT), the JSON path of `node` under `root`
   * (KIND_VALUE: `text` when empty) or of a key (KIND_KEY).
   */
  #scan(text: string, root: string, node: PathNode | null, kind: number, out: InjectionFinding[]): void {
    if (text.length <= FILTER_MAX && !this.#automaton.mayHit(text)) return;
    const hits = this.#hits;
    hits.length = 0;
    const anyChars = this.#automaton.scan(text, hits);
    if (hits.length === 0 && !anyChars) return;
    const rules = this.#rules;
    let starts: (number[] | undefined)[] | null = null;
    if (hits.length > 0) {
      starts = new Array<number[] | undefined>(rules.length);
      for (let j = 0; j < hits.length; j += 2) {
        const at = hits[j + 1]!;
        for (const r of this.#rulesOf[hits[j]!]!) (starts[r] ??= []).push(at);
      }
    }
    let place: string | undefined;
    const spans: number[] = [];
    for (let r = 0; r < rules.length; r++) {
      const { rule, re } = rules[r]!;
      spans.length = 0;
      if (rule.kind === 'chars') {
        if (!anyChars) continue;
        spans.push(0, text.length);
      } else {
        const mine = starts?.[r];
        if (mine === undefined) continue;
        windows(mine.sort((a, b) => a - b), rule.back, rule.ahead, text.length, spans);
      }
      for (let w = 0; w < spans.length; w += 2) {
        const from = spans[w]!;
        const to = spans[w + 1]!;
        const part = from === 0 && to === text.length ? text : text.slice(from, to);
        re.lastIndex = 0;
        for (let m = re.exec(part); m !== null; m = re.exec(part)) {
          if (m[0] === '') {
            re.lastIndex++;
            continue;
          }
          const start = from + m.index;
          place ??= placeOf(root, node, kind);
          out.push({ rule: rule.id, severity: rule.severity, where: place, start, end: start + m[0].length, sample: m[0].slice(0, SAMPLE_CHARS), explain: rule.explain });
        }
      }
    }
  }

  /** Findings in every string (keys too) of a JSON value. */
  scanValue(value: unknown, where = ''): InjectionReport {
    const walk: Walk = { root: where, findings: [], chars: 0, truncated: false };
    this.#walk(walk, value, null, 0);
    return walk.findings.length === 0 && !walk.truncated ? CLEAN : summarize(walk.findings, walk.truncated);
  }

  #walk(w: Walk, v: unknown, node: PathNode | null, depth: number): void {
    if (w.truncated) return;
    if (depth > this.#maxDepth || w.chars > this.#maxChars) {
      w.truncated = true;
      return;
    }
    if (typeof v === 'string') {
      w.chars += v.length;
      if (w.chars > this.#maxChars) {
        w.truncated = true;
        return;
      }
      if (v.length > 0) this.#scan(v, w.root, node, KIND_VALUE, w.findings);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) this.#walk(w, v[i], { parent: node, key: i }, depth + 1);
    } else if (typeof v === 'object' && v !== null) {
      for (const k of Object.keys(v)) {
        w.chars += k.length;
        const child: PathNode = { parent: node, key: k };
        if (k.length > 0) this.#scan(k, w.root, child, KIND_KEY, w.findings);
        this.#walk(w, (v as Record<string, unknown>)[k], child, depth + 1);
      }
    }
  }
}

/** One scanValue's state. */
interface Walk {
  readonly root: string;
  readonly findings: InjectionFinding[];
  chars: number;
  truncated: boolean;
}

/** What a value with no finding reports (shared: reports are read-only). */
const CLEAN: InjectionReport = Object.freeze({ findings: Object.freeze<InjectionFinding[]>([]), score: 0, flagged: false, truncated: false });

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
