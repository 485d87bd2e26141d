/**
 * The audit commands as the CLI calls them: they return an exit status,
 * print results to stdout and say what to do next on stderr.
 */
import { isCordonError } from '../errors.js';
import { isSessionId, latestSessionFile, sessionFile, stateDir } from './paths.js';
import { sanitizeForDisplay } from './redact.js';
import { tailLog } from './tail.js';
import { verifyLog } from './verify.js';
import { exportLog, type ExportFormat } from './export.js';

export interface AuditIo {
  /** Results (default: stdout). */
  readonly out?: (line: string) => void;
  /** Messages for the person (default: stderr). */
  readonly err?: (line: string) => void;
  /** Where session logs live (default: `stateDir()`). */
  readonly stateDir?: string;
}

export interface AuditTailCliOptions extends AuditIo {
  /** A session id (`s_...`), a file path, or nothing for the latest session. */
  readonly target?: string;
  readonly lines?: number;
  readonly follow?: boolean;
  readonly json?: boolean;
  readonly signal?: AbortSignal;
}

function streams(io: AuditIo): { out: (l: string) => void; err: (l: string) => void } {
  return {
    out: io.out ?? ((l) => process.stdout.write(`${l}\n`)),
    err: io.err ?? ((l) => process.stderr.write(`${l}\n`)),
  };
}

/** A session id names `<stateDir>/<id>.jsonl`; anything else is a path; nothing means the latest session. */
function resolveLog(target: string | undefined, io: AuditIo): string | null {
  const dir = io.stateDir ?? stateDir();
  if (target === undefined || target === '') return latestSessionFile(dir);
  return isSessionId(target) ? sessionFile(dir, target) : target;
}

function noLog(err: (l: string) => void, io: AuditIo): number {
  const dir = sanitizeForDisplay(io.stateDir ?? stateDir());
  err(`cordon audit: no session log in ${dir}; run a session with \`cordon run\` first, or pass a session id (s_...) or a log file`);
  return 2;
}

function cannotRead(err: (l: string) => void, path: string, e: unknown): number {
  const why = isCordonError(e) ? e.message : String(e);
  err(`cordon audit: ${sanitizeForDisplay(why)}`);
  err(`cordon audit: check the path ${sanitizeForDisplay(path)}, or pass a session id (s_...) from the state directory`);
  return 2;
}

/** `cordon audit tail`: 0 after printing (or when `signal` ends a follow), 2 when the log cannot be read. */
export async function runAuditTail(opts: AuditTailCliOptions = {}): Promise<number> {
  const { out, err } = streams(opts);
  const path = resolveLog(opts.target, opts);
  if (path === null) return noLog(err, opts);
  try {
    await tailLog(path, {
      out,
      err,
      ...(opts.lines === undefined ? {} : { lines: opts.lines }),
      ...(opts.follow === undefined ? {} : { follow: opts.follow }),
      ...(opts.json === undefined ? {} : { json: opts.json }),
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    return 0;
  } catch (e) {
    return cannotRead(err, path, e);
  }
}

/** `cordon audit verify`: 0 intact, 1 broken, 2 when the log cannot be read. */
export async function runAuditVerify(target?: string, io: AuditIo = {}): Promise<number> {
  const { out, err } = streams(io);
  const path = resolveLog(target, io);
  if (path === null) return noLog(err, io);
  let report;
  try {
    report = await verifyLog(path);
  } catch (e) {
    return cannotRead(err, path, e);
  }
  const shown = sanitizeForDisplay(path);
  if (report.ok) {
    out(`intact: ${shown}: ${report.records} record(s) of session ${report.session ?? '(none)'}, last seq ${report.lastSeq}`);
    out('note: removing or editing the last records cannot be detected from the file alone');
    return 0;
  }
  const total = report.problems.length + report.omittedProblems;
  out(`broken: ${shown}: ${total} problem(s) in ${report.lines} line(s)`);
  for (const p of report.problems) out(`line ${p.line}: ${p.kind}: ${sanitizeForDisplay(p.message)}`);
  if (report.omittedProblems > 0) out(`... and ${report.omittedProblems} more problem(s) not listed`);
  const first = report.problems[0]?.line ?? 1;
  err(
    `cordon audit: this log was changed after it was written. Keep a copy as evidence; the records before line ${first} chain correctly, later ones cannot be trusted.`,
  );
  return 1;
}

export interface AuditExportCliOptions extends AuditIo {
  readonly format: ExportFormat;
  readonly output?: string;
  readonly force?: boolean;
}

/** `cordon audit export`: 0 done, 1 broken chain (nothing exported without --force), 2 unreadable. */
export async function runAuditExport(target: string | undefined, opts: AuditExportCliOptions): Promise<number> {
  const { err } = streams(opts);
  const path = resolveLog(target, opts);
  if (path === null) return noLog(err, opts);
  try {
    return await exportLog(path, {
      format: opts.format,
      err,
      ...(opts.output === undefined ? {} : { file: opts.output }),
      ...(opts.force === undefined ? {} : { force: opts.force }),
      out: (c) => process.stdout.write(c),
    });
  } catch (e) {
    return cannotRead(err, path, e);
  }
}
