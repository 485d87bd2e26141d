/**
 * `cordon audit tail`: prints the last records of a log, as human lines or raw
 * JSON, and optionally follows the file as records are appended. Everything
 * printed is escaped for the terminal (control, bidi and zero-width
 * characters become visible), and nothing is shortened without saying so.
 */
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LineSplitter, MAX_LINE_BYTES, readLastLines } from './lines.js';
import { DecisionRecordSchema } from './record.js';
import type { DecisionRecord } from './record.js';
import { escapeJsonForDisplay, sanitizeForDisplay } from './redact.js';

export interface TailOptions {
  /** How many of the last records to print first (default 10). */
  readonly lines?: number;
  /** Keep printing appended records until `signal` aborts. */
  readonly follow?: boolean;
  /** Print each record's JSON line instead of a human line. */
  readonly json?: boolean;
  readonly signal?: AbortSignal;
  /** Receives each output line (default: stdout). */
  readonly out?: (line: string) => void;
  /** Receives notices (default: stderr). */
  readonly err?: (line: string) => void;
  /** How often `follow` checks the file for growth, in ms (default 250). */
  readonly pollMs?: number;
}

const PREVIEW_CHARS = 200;

/** `seq ts boundary decision subject — rule — reason`, plus flags and findings, escaped for display. */
export function formatRecord(r: DecisionRecord): string {
  const s = sanitizeForDisplay;
  let line = `${r.seq} ${r.ts} ${r.boundary} ${r.decision} ${s(r.subject)} — ${s(r.rule)} — ${s(r.reason)}`;
  if (r.mandatory === true) line += ' [mandatory]';
  if (r.reportOnly === true) line += ' [report only]';
  if (r.findings !== undefined && r.findings.length > 0) {
    line += ` [findings: ${r.findings.map((f) => `${s(f.detector)} in ${s(f.where)}: ${s(f.sample)}`).join('; ')}]`;
  }
  return line;
}

type Render = { readonly kind: 'out' | 'err'; readonly text: string };

function render(bytes: Buffer | null, json: boolean): Render {
  if (bytes === null) {
    return { kind: 'err', text: `cordon audit: a line over ${MAX_LINE_BYTES} bytes is not a decision record and is not shown; run \`cordon audit verify\`` };
  }
  const text = bytes.toString('utf8');
  let record: DecisionRecord | null = null;
  try {
    const parsed = DecisionRecordSchema.safeParse(JSON.parse(text));
    if (parsed.success) record = parsed.data;
  } catch {
    record = null;
  }
  if (record !== null) return { kind: 'out', text: json ? escapeJsonForDisplay(text) : formatRecord(record) };
  const chars = Array.from(text);
  const more = chars.length > PREVIEW_CHARS ? ` (+${chars.length - PREVIEW_CHARS} more characters not shown)` : '';
  const preview = sanitizeForDisplay(chars.slice(0, PREVIEW_CHARS).join(''));
  return { kind: 'err', text: `cordon audit: not a decision record: ${preview}${more}; run \`cordon audit verify\`` };
}

/** Prints the tail of `path`; with `follow`, returns only when `signal` aborts. Throws on read errors. */
export async function tailLog(path: string, opts: TailOptions = {}): Promise<void> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = opts.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const json = opts.json ?? false;
  const emit = (bytes: Buffer | null): void => {
    const r = render(bytes, json);
    (r.kind === 'out' ? out : err)(r.text);
  };

  const tail = readLastLines(path, Math.max(0, opts.lines ?? 10));
  for (const l of tail.lines) emit(l);
  if (opts.follow !== true) return;

  const signal = opts.signal ?? new AbortController().signal;
  const fh = await open(path, 'r');
  try {
    let position = tail.size - tail.fragmentLength; // re-read an unfinished last line once it completes
    let splitter = new LineSplitter();
    const buf = Buffer.alloc(64 * 1024);
    while (!signal.aborted) {
      const size = (await fh.stat()).size;
      if (size < position) {
        err(`cordon audit: ${path} became shorter (${position} -> ${size} bytes): records were removed; following from the new end`);
        position = size;
        splitter = new LineSplitter();
      }
      while (position < size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - position), position);
        if (bytesRead === 0) break;
        position += bytesRead;
        for (const l of splitter.push(buf.subarray(0, bytesRead))) emit(l.bytes);
      }
      try {
        await sleep(opts.pollMs ?? 250, undefined, { signal });
      } catch (e) {
        if (signal.aborted) break;
        throw e;
      }
    }
  } finally {
    await fh.close();
  }
}
