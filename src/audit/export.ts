/**
 * `cordon audit export`: a session's decision records for another tool (a
 * SIEM, a spreadsheet, a ticket). The chain is verified first: a broken log is
 * refused (exit 1) unless the person asks for it anyway with `--force`, and
 * then every exported record says the chain was broken. Records are checked
 * one by one; a line that is not a valid record is reported, never exported.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { CordonError } from '../errors.js';
import { readLines } from './lines.js';
import type { DecisionRecord } from './record.js';
import { checkRecord } from './record-check.js';
import { verifyLog } from './verify.js';

export const EXPORT_FORMATS = ['jsonl', 'json', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  readonly format: ExportFormat;
  /** Write here (created 0600, never overwritten) instead of `out`. */
  readonly file?: string;
  /** Export a log whose chain is broken (each record then carries `chainIntact: false`). */
  readonly force?: boolean;
  readonly out?: (chunk: string) => void;
  readonly err?: (line: string) => void;
}

const CSV_COLUMNS = ['seq', 'ts', 'session', 'boundary', 'subject', 'decision', 'rule', 'reason', 'mandatory', 'reportOnly', 'findings'] as const;

/**
 * One CSV field: quoted when needed, and a leading `=`, `+`, `-`, `@`, tab or
 * carriage return neutralised with a `'` (the subject of a record is chosen
 * by the agent; it must not become a spreadsheet formula).
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function csvRow(r: DecisionRecord): string {
  const findings = (r.findings ?? []).map((f) => `${f.detector}@${f.where}:${f.sample}`).join('; ');
  const cells: Record<(typeof CSV_COLUMNS)[number], string> = {
    seq: String(r.seq), ts: r.ts, session: r.session, boundary: r.boundary, subject: r.subject, decision: r.decision, rule: r.rule,
    reason: r.reason, mandatory: r.mandatory === undefined ? '' : String(r.mandatory), reportOnly: r.reportOnly === undefined ? '' : String(r.reportOnly), findings,
  };
  return CSV_COLUMNS.map((c) => csvField(cells[c])).join(',');
}

/** Exports `path`: 0 done, 1 the chain is broken (nothing exported without `force`), 2 unreadable or the output cannot be written. */
export async function exportLog(path: string, opts: ExportOptions): Promise<number> {
  const err = opts.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const report = await verifyLog(path);
  if (!report.ok && opts.force !== true) {
    err(`cordon audit export: the hash chain of ${path} is broken (${report.problems.length + report.omittedProblems} problem(s)); run \`cordon audit verify\` to see where, or export anyway with --force`);
    return 1;
  }
  let fd: number | undefined;
  if (opts.file !== undefined) {
    try {
      fd = openSync(opts.file, 'wx', 0o600);
    } catch (e) {
      err(`cordon audit export: cannot create ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (an existing file is never overwritten)`);
      return 2;
    }
  }
  const write = fd === undefined ? (opts.out ?? ((c: string) => process.stdout.write(c))) : (c: string) => {
    const b = Buffer.from(c, 'utf8');
    for (let off = 0; off < b.length;) off += writeSync(fd, b, off);
  };
  const intact = report.ok;
  let n = 0;
  let skipped = 0;
  try {
    if (opts.format === 'csv') write(`${[...CSV_COLUMNS, 'chainIntact'].join(',')}\n`);
    if (opts.format === 'json') write('[');
    for await (const raw of readLines(path)) {
      if (raw.bytes === null || !raw.terminated) {
        skipped++;
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.bytes.toString('utf8'));
      } catch {
        skipped++;
        continue;
      }
      const c = checkRecord(parsed);
      if (!c.ok) {
        skipped++;
        continue;
      }
      const r = c.value;
      if (opts.format === 'csv') write(`${csvRow(r)},${String(intact)}\n`);
      else {
        const json = JSON.stringify(intact ? r : { ...r, chainIntact: false });
        write(opts.format === 'json' ? `${n === 0 ? '' : ','}\n${json}` : `${json}\n`);
      }
      n++;
    }
    if (opts.format === 'json') write(`${n === 0 ? '' : '\n'}]\n`);
  } catch (e) {
    throw new CordonError('CORDON_AUDIT_IO', `exporting ${path} failed: ${String(e)}`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  err(`cordon audit export: ${n} record(s)${skipped > 0 ? `, ${skipped} line(s) that are not valid records left out` : ''}${intact ? '' : ' (chain broken: every record is marked chainIntact=false)'}`);
  return 0;
}
