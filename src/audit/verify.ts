/**
 * Verifies a session log's hash chain, streaming (bounded memory whatever the
 * file size). It detects an edited line (it no longer parses or matches the
 * schema, or its successor's `prev` no longer matches its hash), removed lines
 * (a gap in `seq`), reordered or duplicated lines (`seq` going backwards or
 * repeating) and lines from another session.
 *
 * What it cannot detect from the file alone: lines removed from the END (a
 * truncated tail leaves a shorter, perfectly valid chain), an edit of the
 * LAST line that keeps it a valid record (no successor carries its hash), and
 * a file rewritten from some point on with freshly computed hashes. All three
 * need an anchor kept elsewhere (the last `seq` and hash, e.g. in the exit
 * summary or an alert sink); this module does not have one.
 */
import { basename } from 'node:path';
import { CordonError } from '../errors.js';
import { MAX_LINE_BYTES, readLines } from './lines.js';
import type { RawLine } from './lines.js';
import { DecisionRecordSchema, GENESIS_PREV, SESSION_ID_PATTERN } from './record.js';
import type { DecisionRecord } from './record.js';

export type ProblemKind = 'unterminated' | 'empty' | 'too-long' | 'not-json' | 'schema' | 'foreign-session'
  | 'edited' | 'removed' | 'reordered' | 'duplicate';

export interface VerifyProblem {
  /** 1-based line number the problem is about. */
  readonly line: number;
  readonly kind: ProblemKind;
  /** What is wrong and what it means. */
  readonly message: string;
}

export interface VerifyReport {
  readonly path: string;
  /** True only when no problem was found. */
  readonly ok: boolean;
  readonly lines: number;
  /** Lines that are valid records of the session. */
  readonly records: number;
  readonly session: string | null;
  readonly lastSeq: number;
  /** Sorted by line; at most MAX_PROBLEMS. */
  readonly problems: readonly VerifyProblem[];
  /** Problems found beyond MAX_PROBLEMS and not listed. */
  readonly omittedProblems: number;
}

export const MAX_PROBLEMS = 1000;
const MAX_GAPS = 10_000;

interface Gap {
  readonly line: number;
  readonly from: number;
  readonly to: number;
  readonly missing: number;
  refilled: number;
}

class Checker {
  session: string | null;
  readonly problems: VerifyProblem[] = [];
  omitted = 0;
  records = 0;
  maxSeq = 0;
  #prevHash = GENESIS_PREV;
  #prevHadProblem = false;
  #unaccounted = 0; // lines since the last valid record that may have held a seq
  readonly #gaps: Gap[] = [];

  constructor(session: string | null) {
    this.session = session;
  }

  report(line: number, kind: ProblemKind, message: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ line, kind, message });
    else this.omitted++;
  }

  line(raw: RawLine): void {
    const n = raw.number;
    let problem = false;
    if (!raw.terminated) {
      this.report(n, 'unterminated', `line ${n} has no newline at its end: the last write was cut short (a crash) or the file was edited; it is not a trusted record`);
      problem = true;
    }
    const record = this.#parse(raw);
    if (record === null) {
      this.#unaccounted++;
      problem = true;
    } else if (this.#check(n, record)) {
      problem = true;
    }
    this.#prevHash = raw.sha256;
    this.#prevHadProblem = problem;
  }

  #parse(raw: RawLine): DecisionRecord | null {
    const n = raw.number;
    if (raw.bytes === null) {
      this.report(n, 'too-long', `line ${n} is ${raw.byteLength} bytes, over the ${MAX_LINE_BYTES}-byte limit: cordon never writes such a line, so the file was edited`);
      return null;
    }
    if (raw.byteLength === 0) {
      this.report(n, 'empty', `line ${n} is empty: cordon never writes an empty line, so the file was edited`);
      return null;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw.bytes.toString('utf8'));
    } catch {
      this.report(n, 'not-json', `line ${n} is not valid JSON: it was edited or torn by a crash, and its record cannot be trusted`);
      return null;
    }
    const parsed = DecisionRecordSchema.safeParse(value);
    if (!parsed.success) {
      const what = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ');
      this.report(n, 'schema', `line ${n} is not a valid decision record (${what}): it was edited`);
      return null;
    }
    this.session ??= parsed.data.session;
    if (parsed.data.session !== this.session) {
      this.report(n, 'foreign-session', `line ${n} belongs to session ${parsed.data.session}, not ${this.session}: a line from another log was inserted`);
      return null;
    }
    return parsed.data;
  }

  /** Checks seq and chain; returns true when this line has a problem. */
  #check(n: number, r: DecisionRecord): boolean {
    let seqProblem = false;
    if (r.seq > this.maxSeq + 1) {
      const missing = r.seq - this.maxSeq - 1 - this.#unaccounted;
      if (missing > 0) {
        seqProblem = true;
        const gap: Gap = { line: n, from: this.maxSeq + 1, to: r.seq - 1, missing, refilled: 0 };
        if (this.#gaps.length < MAX_GAPS) this.#gaps.push(gap);
        else this.#reportGap(gap);
      }
    } else if (r.seq <= this.maxSeq) {
      seqProblem = true;
      const gap = this.#gaps.find((g) => r.seq >= g.from && r.seq <= g.to);
      if (gap !== undefined) {
        gap.refilled++;
        this.report(n, 'reordered', `line ${n} has seq ${r.seq}, which belongs before line ${gap.line}: lines were moved out of order`);
      } else {
        this.report(n, 'duplicate', `line ${n} repeats seq ${r.seq}, already seen earlier (the highest so far is ${this.maxSeq}): a record was duplicated or replayed`);
      }
    }
    let chainProblem = false;
    if (r.prev !== this.#prevHash && !seqProblem && !this.#prevHadProblem) {
      chainProblem = true;
      if (n === 1) {
        this.report(1, 'edited', `line 1's prev should be 64 zeros, the start of a chain: the line was edited`);
      } else {
        this.report(n - 1, 'edited', `line ${n - 1} was changed after it was written: its sha256 no longer matches the prev of line ${n} (or line ${n}'s prev was changed)`);
      }
    }
    this.maxSeq = Math.max(this.maxSeq, r.seq);
    this.#unaccounted = 0;
    this.records++;
    return seqProblem || chainProblem;
  }

  #reportGap(g: Gap): void {
    const left = g.missing - g.refilled;
    if (left <= 0) return;
    const seqs = g.from === g.to ? `seq ${g.from}` : `seqs ${g.from} to ${g.to}`;
    this.report(g.line, 'removed', `${left} record(s) missing before line ${g.line} (${seqs}): lines were removed`);
  }

  finish(): void {
    for (const g of this.#gaps) this.#reportGap(g);
    this.problems.sort((a, b) => a.line - b.line);
  }
}

/** Streams `path` and checks the chain. Throws CORDON_AUDIT_IO when the file cannot be read. */
export async function verifyLog(path: string): Promise<VerifyReport> {
  const name = basename(path, '.jsonl');
  const checker = new Checker(SESSION_ID_PATTERN.test(name) ? name : null);
  let lines = 0;
  try {
    for await (const raw of readLines(path)) {
      lines = raw.number;
      checker.line(raw);
    }
  } catch (e) {
    throw new CordonError('CORDON_AUDIT_IO', `cannot read the audit log ${path}: ${String(e)}`, { cause: e });
  }
  checker.finish();
  return {
    path,
    ok: checker.problems.length === 0 && checker.omitted === 0,
    lines,
    records: checker.records,
    session: checker.session,
    lastSeq: checker.maxSeq,
    problems: checker.problems,
    omittedProblems: checker.omitted,
  };
}
