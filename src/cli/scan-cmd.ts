/**
 * `cordon scan [PATH...|-]`: DLP scan of files, directories (honouring
 * .gitignore) and stdin. Exit 0 clean, 1 findings, 2 error.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { scanBinary } from '../dlp/binary.js';
import { DlpScanner } from '../dlp/scanner.js';
import { toSarif, type FileFinding } from '../dlp/sarif.js';
import { StreamScanner } from '../dlp/stream.js';
import { spanIndex } from '../dlp/spans.js';
import type { Confidence, DlpFinding } from '../dlp/types.js';
import { walkFiles } from '../dlp/walk.js';
import { sanitizeForDisplay } from '../audit/redact.js';

export interface ScanCommandOptions {
  readonly format: 'text' | 'json' | 'sarif';
  /** Also look inside encodings (base64, hex, percent, escapes, compression); default false for files. */
  readonly decode?: boolean;
  /** Lowest confidence reported (default `low`). */
  readonly minConfidence?: Confidence;
  /** Opt-in detectors to enable (e.g. `aws-account-id`). */
  readonly enable?: readonly string[];
  /** Detectors to disable. */
  readonly disable?: readonly string[];
  /** Streams to write to (tests); default process.stdout / process.stderr / process.stdin. */
  readonly stdout?: NodeJS.WritableStream;
  readonly stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin?: NodeJS.ReadableStream;
  readonly cwd?: string;
}

/** Files larger than this are scanned as a stream in chunks. */
const WHOLE_FILE_LIMIT = 32 * 1024 * 1024;
const CHUNK = 8 * 1024 * 1024;

function lineIndex(buf: Buffer): number[] {
  const starts = [0];
  let at = buf.indexOf(10);
  while (at >= 0) {
    starts.push(at + 1);
    at = buf.indexOf(10, at + 1);
  }
  return starts;
}

function position(buf: Buffer, starts: readonly number[], offset: number): { line: number; column: number } {
  const lo = spanIndex(starts, offset);
  const lineStart = starts[lo] ?? 0;
  return { line: lo + 1, column: [...buf.subarray(lineStart, offset).toString('utf8')].length + 1 };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(parts);
}

export async function scanCommand(paths: string[], opts: ScanCommandOptions): Promise<number> {
  const out = opts.stdout ?? process.stdout;
  const err = opts.stderr ?? process.stderr;
  const cwd = opts.cwd ?? process.cwd();
  const scanner = new DlpScanner({
    decode: opts.decode ?? false,
    minConfidence: opts.minConfidence ?? 'low',
    enable: opts.enable ?? [],
    disable: opts.disable ?? [],
  });
  const findings: FileFinding[] = [];
  let errors = 0;
  let files = 0;
  let bytes = 0;
  let lastProgress = 0;
  const started = Date.now();
  const progress = (force: boolean): void => {
    const now = Date.now();
    if (!force && (now - lastProgress < 500 || now - started < 1000)) return;
    lastProgress = now;
    const line = `cordon scan: ${files} files, ${(bytes / 1048576).toFixed(1)} MB, ${findings.length} findings`;
    if (err.isTTY === true) err.write(`\r${line}\u001b[K`);
    else if (force || files % 10000 === 0) err.write(`${line}\n`);
  };
  const display = (p: string): string => {
    const rel = path.relative(cwd, p);
    return rel.startsWith('..') || path.isAbsolute(rel) ? pathToFileURL(p).href : rel.split(path.sep).join('/');
  };
  const record = (file: string, buf: Buffer | undefined, fs: readonly DlpFinding[]): void => {
    const starts = buf === undefined ? [] : lineIndex(buf);
    for (const f of fs) {
      const pos = buf === undefined ? { line: 1, column: 1 } : position(buf, starts, f.location.offset);
      findings.push({
        path: file, line: pos.line, column: pos.column, detector: f.detector, provider: f.provider,
        confidence: f.confidence, sample: f.sample, explain: f.explain,
        ...(f.location.layers === undefined ? {} : { layers: f.location.layers }),
      });
    }
  };
  const scanBuffer = (file: string, buf: Buffer): void => {
    files++;
    bytes += buf.length;
    if (buf.subarray(0, 8192).includes(0)) {
      for (const b of scanBinary(buf)) findings.push({ path: file, line: 1, column: 1, detector: b.detector, provider: b.provider, confidence: 'high', sample: '…(binary)', explain: b.explain });
      return;
    }
    record(file, buf, scanner.scanBytes(buf, file));
  };
  const scanLarge = async (file: string): Promise<void> => {
    files++;
    const st = new StreamScanner(scanner, { where: file });
    for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      bytes += b.length;
      record(file, undefined, st.push(b).findings);
    }
    record(file, undefined, st.end().findings);
  };
  const scanPath = async (p: string): Promise<void> => {
    const file = display(p);
    try {
      const size = statSync(p).size;
      if (size > WHOLE_FILE_LIMIT) await scanLarge(p);
      else scanBuffer(file, readFileSync(p));
    } catch (e) {
      errors++;
      err.write(`cordon: cannot read ${sanitizeForDisplay(file)}: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    progress(false);
  };

  for (const arg of paths.length === 0 ? ['.'] : paths) {
    if (arg === '-') {
      scanBuffer('-', await readAll(opts.stdin ?? process.stdin));
      continue;
    }
    const abs = path.resolve(cwd, arg);
    let isDir: boolean;
    try {
      isDir = statSync(abs).isDirectory();
    } catch (e) {
      errors++;
      err.write(`cordon: cannot scan ${sanitizeForDisplay(arg)}: ${e instanceof Error ? e.message : String(e)}\n`);
      continue;
    }
    if (isDir) for (const f of walkFiles(abs)) await scanPath(f);
    else await scanPath(abs);
  }
  if (Date.now() - started >= 1000) {
    progress(true);
    if (err.isTTY === true) err.write('\n');
  }

  switch (opts.format) {
    case 'json':
      out.write(`${JSON.stringify({ findings, files, errors }, null, 2)}\n`);
      break;
    case 'sarif': {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      out.write(`${JSON.stringify(toSarif(findings, pkg.version), null, 2)}\n`);
      break;
    }
    case 'text':
      for (const f of findings) {
        const via = f.layers === undefined ? '' : ` [${f.layers.join(' > ')}]`;
        out.write(`${sanitizeForDisplay(f.path)}:${f.line}:${f.column}: ${f.detector} (${f.confidence}) ${sanitizeForDisplay(f.sample)}${via}\n`);
      }
      out.write(`cordon scan: ${files} files, ${findings.length} findings${errors > 0 ? `, ${errors} errors` : ''}\n`);
      break;
  }
  if (errors > 0) return 2;
  return findings.length > 0 ? 1 : 0;
}
