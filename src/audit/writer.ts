/**
 * The audit writer: the only code that writes a session log. One JSON line
 * per decision, each line carrying the sha256 of the previous line's exact
 * bytes. `write()` appends synchronously. A writer opened with `deferMs`
 * records published decisions off the publisher's critical path: each is
 * checked, numbered and timestamped when published, and the queue is appended
 * in one write within `deferMs` (or at 256 records, or on `flush()`,
 * `close()`, a synchronous `write()` and process exit), so the chain and the
 * order are the same as with synchronous appends. A failed append makes the
 * writer refuse everything after it (`healthy` turns false): a boundary that
 * must not act unrecorded checks `healthy` before acting.
 */
import { closeSync, constants, existsSync, fchmodSync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { CordonError } from '../errors.js';
import { sha256Hex } from '../lazy-crypto.js';
import type { Effect } from '../policy/types.js';
import { MAX_LINE_BYTES, readLastLines } from './lines.js';
import { onDecision } from './publish.js';
import { checkEvent, checkRecord } from './record-check.js';
import { GENESIS_PREV, SESSION_ID_PATTERN } from './record-constants.js';
import type { DecisionEvent, DecisionRecord } from './record.js';
import { ensureRedacted } from './redact.js';
import { sessionFile } from './paths.js';
import { isoTimestamp } from './timestamp.js';

export interface AuditWriterOptions {
  /** Directory of session logs; created with mode 0700 if missing. */
  readonly dir: string;
  readonly session: string;
  /** Clock, for tests (default: the system clock, formatted by `isoTimestamp`). */
  readonly now?: () => Date;
  /** fdatasync after every line (survives a power loss, not just a crash); with `deferMs`, after every batch. */
  readonly durable?: boolean;
  /**
   * Published decisions wait at most this many milliseconds before they are
   * appended (default 0: appended as they are published). A record still
   * queued when the process exits is appended by an `exit` handler; one
   * killed outright (SIGKILL, a signal without a handler) loses at most this
   * window, so an owner that handles signals calls `close()` from them.
   */
  readonly deferMs?: number;
}

export interface SubscribeOptions {
  /** Called when a published event cannot be recorded; default prints to stderr. */
  readonly onError?: (error: CordonError) => void;
}

/** Queued records appended at once, at most (the queue never grows past it). */
const MAX_QUEUE = 256;

type Queued = Omit<DecisionRecord, 'seq' | 'prev'>;

const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0);

const NEWLINE = Buffer.from('\n');

function sha256(bytes: Buffer): string {
  return sha256Hex(bytes);
}

/** Reads the chain's last record so a resumed session continues it. */
function resumePoint(path: string, session: string): { seq: number; prev: string } {
  const tail = readLastLines(path, 1);
  if (tail.fragmentLength > 0) {
    throw new CordonError(
      'CORDON_AUDIT_BROKEN',
      `${path} ends with an unfinished line (a crash during a write, or an edit); run \`cordon audit verify ${path}\` and start a new session`,
    );
  }
  const last = tail.lines[0];
  if (last === undefined) return { seq: 0, prev: GENESIS_PREV };
  let parsed: DecisionRecord | undefined;
  try {
    const r = last === null ? undefined : checkRecord(JSON.parse(last.toString('utf8')));
    parsed = r?.ok === true ? r.value : undefined;
  } catch {
    parsed = undefined;
  }
  if (last === null || parsed?.session !== session) {
    throw new CordonError(
      'CORDON_AUDIT_BROKEN',
      `the last line of ${path} is not a valid record of session ${session}; run \`cordon audit verify ${path}\` and start a new session`,
    );
  }
  return { seq: parsed.seq, prev: sha256(last) };
}

export class AuditWriter {
  readonly path: string;
  readonly session: string;
  readonly #now: (() => Date) | undefined;
  readonly #durable: boolean;
  #fd: number | null;
  #seq: number;
  /** The previous line's hash, or the line itself until a next record needs its hash (hashed lazily). */
  #prev: string | Buffer;
  #failed: CordonError | null = null;
  #unsubscribe: (() => void) | null = null;
  readonly #counts: Record<Effect, number> = { allow: 0, ask: 0, deny: 0 };
  readonly #deferMs: number;
  /** Published decisions not yet appended (deferred mode), in publication order. */
  #queue: Queued[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #onExit = (): void => {
    this.#flushReporting();
  };
  #onError: (error: CordonError) => void = (e) => process.stderr.write(`cordon audit: ${e.message}\n`);

  private constructor(path: string, session: string, fd: number, seq: number, prev: string, opts: AuditWriterOptions) {
    this.path = path;
    this.session = session;
    this.#fd = fd;
    this.#seq = seq;
    this.#prev = prev;
    this.#now = opts.now;
    this.#durable = opts.durable ?? false;
    this.#deferMs = Math.max(0, opts.deferMs ?? 0);
    if (this.#deferMs > 0) process.on('exit', this.#onExit);
  }

  /** Opens (or resumes) `<dir>/<session>.jsonl`. Throws CORDON_AUDIT_IO or CORDON_AUDIT_BROKEN. */
  static open(opts: AuditWriterOptions): AuditWriter {
    if (!SESSION_ID_PATTERN.test(opts.session)) {
      throw new CordonError('CORDON_USAGE', `invalid session id ${JSON.stringify(opts.session)}: expected s_ followed by hex`);
    }
    const path = sessionFile(opts.dir, opts.session);
    let fd: number;
    try {
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
      const resume = existsSync(path) ? resumePoint(path, opts.session) : { seq: 0, prev: GENESIS_PREV };
      fd = openSync(path, APPEND, 0o600);
      fchmodSync(fd, 0o600);
      return new AuditWriter(path, opts.session, fd, resume.seq, resume.prev, opts);
    } catch (e) {
      if (e instanceof CordonError) throw e;
      throw new CordonError('CORDON_AUDIT_IO', `cannot open the audit log ${path}: ${String(e)}; check that the directory is writable`, { cause: e });
    }
  }

  /** Records every decision published on `cordon:decision` until `close()` or the returned function is called. */
  subscribe(opts: SubscribeOptions = {}): () => void {
    if (this.#unsubscribe !== null) return this.#unsubscribe;
    if (opts.onError !== undefined) this.#onError = opts.onError;
    const onError = this.#onError;
    const off = onDecision((message) => {
      // A throwing subscriber would crash the publisher's process; report instead.
      try {
        if (this.#deferMs > 0) this.#enqueue(message as DecisionEvent); // validated by #enqueue()
        else this.write(message as DecisionEvent); // validated by write()
      } catch (e) {
        onError(e instanceof CordonError ? e : new CordonError('CORDON_INTERNAL', `a published decision could not be recorded: ${String(e)}`, { cause: e }));
      }
    });
    this.#unsubscribe = () => {
      off();
      this.#unsubscribe = null;
    };
    return this.#unsubscribe;
  }

  /** Appends one record (after any queued ones); returns it as written. Secrets in finding samples are redacted first. */
  write(event: DecisionEvent): DecisionRecord {
    if (this.#queue.length > 0) this.#flushReporting();
    this.#usable();
    const q = this.#checked(event);
    const { record, line } = this.#line(q, this.#seq, this.#prevHash());
    this.#append([line]);
    this.#seq = record.seq;
    this.#prev = line;
    this.#counts[record.decision]++;
    return record;
  }

  /**
   * Appends the queued records in one write. Throws CORDON_AUDIT_IO when the
   * append fails (the writer is then failed) or a queued record is over the
   * line limit (that record is left out; the others are appended).
   */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return;
    const queued = this.#queue;
    this.#queue = [];
    this.#usable();
    const lines: Buffer[] = [];
    let seq = this.#seq;
    let prev: Buffer | null = null;
    let tooLong: CordonError | null = null;
    for (const q of queued) {
      try {
        const { line } = this.#line(q, seq, prev === null ? this.#prevHash() : sha256(prev));
        lines.push(line);
        seq++;
        prev = line;
      } catch (e) {
        tooLong = e as CordonError;
        this.#counts[q.decision]--;
      }
    }
    if (prev !== null) {
      this.#append(lines);
      this.#seq = seq;
      this.#prev = prev;
    }
    if (tooLong !== null) throw tooLong;
  }

  /** False once an append failed or the writer was closed: nothing more will be recorded. */
  get healthy(): boolean {
    return this.#failed === null && this.#fd !== null;
  }

  #usable(): void {
    if (this.#failed !== null) throw this.#failed;
    if (this.#fd === null) throw new CordonError('CORDON_AUDIT_IO', `the audit log ${this.path} is closed`);
  }

  /** The record without its place in the chain: validated, timestamped. */
  #checked(event: DecisionEvent): Queued {
    const parsed = checkEvent(event);
    if (!parsed.ok) {
      throw new CordonError('CORDON_INTERNAL', `a decision event is malformed and was not recorded (${parsed.error})`);
    }
    const e = parsed.value;
    return {
      ts: this.#now === undefined ? isoTimestamp() : this.#now().toISOString(),
      session: this.session,
      boundary: e.boundary,
      subject: e.subject,
      decision: e.decision,
      rule: e.rule,
      reason: e.reason,
      ...(e.findings === undefined ? {} : { findings: e.findings }),
      ...(e.mandatory === undefined ? {} : { mandatory: e.mandatory }),
      ...(e.reportOnly === undefined ? {} : { reportOnly: e.reportOnly }),
    };
  }

  /** The record's line after record `seq` whose line hashes to `prev`; throws CORDON_AUDIT_IO over the line limit. */
  #line(q: Queued, seq: number, prev: string): { record: DecisionRecord; line: Buffer } {
    const record: DecisionRecord = {
      seq: seq + 1,
      ts: q.ts,
      session: q.session,
      boundary: q.boundary,
      subject: q.subject,
      decision: q.decision,
      rule: q.rule,
      reason: q.reason,
      ...(q.findings === undefined ? {} : { findings: q.findings.map((f) => ({ ...f, sample: ensureRedacted(f.sample) })) }),
      ...(q.mandatory === undefined ? {} : { mandatory: q.mandatory }),
      ...(q.reportOnly === undefined ? {} : { reportOnly: q.reportOnly }),
      prev,
    };
    const line = Buffer.from(JSON.stringify(record), 'utf8');
    if (line.length > MAX_LINE_BYTES) {
      throw new CordonError('CORDON_AUDIT_IO', `a ${record.boundary} decision record of ${line.length} bytes exceeds the ${MAX_LINE_BYTES}-byte line limit and was not recorded; the boundary should shorten its subject or findings`);
    }
    return { record, line };
  }

  /** One buffer, one append: a crash cannot interleave, and verify reports a torn last line. */
  #append(lines: readonly Buffer[]): void {
    const fd = this.#fd;
    if (fd === null) throw new CordonError('CORDON_AUDIT_IO', `the audit log ${this.path} is closed`);
    try {
      const parts: Buffer[] = [];
      for (const l of lines) parts.push(l, NEWLINE);
      const out = Buffer.concat(parts);
      let off = 0;
      while (off < out.length) off += writeSync(fd, out, off);
      if (this.#durable) fdatasyncSync(fd);
    } catch (err) {
      // The file may now hold part of a line: refuse every later write rather than chain onto it.
      this.#failed = new CordonError('CORDON_AUDIT_IO', `writing the audit log ${this.path} failed: ${String(err)}; decisions are no longer recorded`, { cause: err });
      throw this.#failed;
    }
  }

  /** Deferred mode: checked and numbered now, appended within `deferMs`. */
  #enqueue(event: DecisionEvent): void {
    this.#usable();
    const q = this.#checked(event);
    this.#queue.push(q);
    this.#counts[q.decision]++;
    if (this.#queue.length >= MAX_QUEUE) {
      this.flush();
      return;
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#flushReporting(), this.#deferMs);
      this.#timer.unref();
    }
  }

  #flushReporting(): void {
    try {
      this.flush();
    } catch (e) {
      this.#onError(e instanceof CordonError ? e : new CordonError('CORDON_INTERNAL', `queued decisions could not be recorded: ${String(e)}`, { cause: e }));
    }
  }

  #prevHash(): string {
    if (typeof this.#prev !== 'string') this.#prev = sha256(this.#prev);
    return this.#prev;
  }

  /** Decisions written by this writer (not those of a resumed earlier run), by effect. */
  counts(): Readonly<Record<Effect, number>> {
    return { ...this.#counts };
  }

  /** Sequence number of the last record in the file (queued records are appended first). */
  get lastSeq(): number {
    if (this.#queue.length > 0) this.#flushReporting();
    return this.#seq;
  }

  /** Appends what is queued, then closes; a failed final append is reported to the subscriber's `onError`. */
  close(): void {
    this.#unsubscribe?.();
    if (this.#fd !== null && this.#failed === null) this.#flushReporting();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    if (this.#deferMs > 0) process.off('exit', this.#onExit);
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
