/**
 * The audit writer: the only code that writes a session log. One JSON line
 * per decision, appended synchronously, each line carrying the sha256 of the
 * previous line's exact bytes.
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

export interface AuditWriterOptions {
  /** Directory of session logs; created with mode 0700 if missing. */
  readonly dir: string;
  readonly session: string;
  /** Clock, for tests. */
  readonly now?: () => Date;
  /** fdatasync after every line (survives a power loss, not just a crash). */
  readonly durable?: boolean;
}

export interface SubscribeOptions {
  /** Called when a published event cannot be recorded; default prints to stderr. */
  readonly onError?: (error: CordonError) => void;
}

const APPEND = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0);

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
  readonly #now: () => Date;
  readonly #durable: boolean;
  #fd: number | null;
  #seq: number;
  /** The previous line's hash, or the line itself until a next record needs its hash (hashed lazily). */
  #prev: string | Buffer;
  #failed: CordonError | null = null;
  #unsubscribe: (() => void) | null = null;
  readonly #counts: Record<Effect, number> = { allow: 0, ask: 0, deny: 0 };

  private constructor(path: string, session: string, fd: number, seq: number, prev: string, opts: AuditWriterOptions) {
    this.path = path;
    this.session = session;
    this.#fd = fd;
    this.#seq = seq;
    this.#prev = prev;
    this.#now = opts.now ?? (() => new Date());
    this.#durable = opts.durable ?? false;
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
    const onError = opts.onError ?? ((e: CordonError) => process.stderr.write(`cordon audit: ${e.message}\n`));
    const off = onDecision((message) => {
      // A throwing subscriber would crash the publisher's process; report instead.
      try {
        this.write(message as DecisionEvent); // validated by write()
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

  /** Appends one record; returns it as written. Secrets in finding samples are redacted first. */
  write(event: DecisionEvent): DecisionRecord {
    if (this.#failed !== null) throw this.#failed;
    if (this.#fd === null) throw new CordonError('CORDON_AUDIT_IO', `the audit log ${this.path} is closed`);
    const parsed = checkEvent(event);
    if (!parsed.ok) {
      throw new CordonError('CORDON_INTERNAL', `a decision event is malformed and was not recorded (${parsed.error})`);
    }
    const e = parsed.value;
    const record: DecisionRecord = {
      seq: this.#seq + 1,
      ts: this.#now().toISOString(),
      session: this.session,
      boundary: e.boundary,
      subject: e.subject,
      decision: e.decision,
      rule: e.rule,
      reason: e.reason,
      ...(e.findings === undefined ? {} : { findings: e.findings.map((f) => ({ ...f, sample: ensureRedacted(f.sample) })) }),
      ...(e.mandatory === undefined ? {} : { mandatory: e.mandatory }),
      ...(e.reportOnly === undefined ? {} : { reportOnly: e.reportOnly }),
      prev: this.#prevHash(),
    };
    const line = Buffer.from(JSON.stringify(record), 'utf8');
    if (line.length > MAX_LINE_BYTES) {
      throw new CordonError('CORDON_AUDIT_IO', `a ${record.boundary} decision record of ${line.length} bytes exceeds the ${MAX_LINE_BYTES}-byte line limit and was not recorded; the boundary should shorten its subject or findings`);
    }
    try {
      // One buffer, one append: a crash cannot interleave, and verify reports a torn last line.
      const out = Buffer.concat([line, Buffer.from('\n')]);
      let off = 0;
      while (off < out.length) off += writeSync(this.#fd, out, off);
      if (this.#durable) fdatasyncSync(this.#fd);
    } catch (err) {
      // The file may now hold part of a line: refuse every later write rather than chain onto it.
      this.#failed = new CordonError('CORDON_AUDIT_IO', `writing the audit log ${this.path} failed: ${String(err)}; decisions are no longer recorded`, { cause: err });
      throw this.#failed;
    }
    this.#seq = record.seq;
    this.#prev = line;
    this.#counts[record.decision]++;
    return record;
  }

  #prevHash(): string {
    if (typeof this.#prev !== 'string') this.#prev = sha256(this.#prev);
    return this.#prev;
  }

  /** Decisions written by this writer (not those of a resumed earlier run), by effect. */
  counts(): Readonly<Record<Effect, number>> {
    return { ...this.#counts };
  }

  /** Sequence number of the last record in the file. */
  get lastSeq(): number {
    return this.#seq;
  }

  close(): void {
    this.#unsubscribe?.();
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}
