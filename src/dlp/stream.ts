/**
 * Streaming scans: a body or a connection's WebSocket frames arrive in
 * chunks. Each push scans the last `overlap` bytes kept from before plus the
 * new chunk, so a secret split across chunks (or frames) is found. A finding
 * is reported once its start is before the hold-back boundary (the last
 * `overlap` bytes are re-scanned with the next chunk), or at `end()`.
 * In `redact` mode the same boundary decides what may be forwarded: bytes
 * are released only once scanned with enough context, with each secret
 * replaced by `[REDACTED:<detector>]`.
 */
import type { DlpScanner } from './scanner.js';
import type { DlpFinding } from './types.js';

export interface StreamOptions {
  /** Location prefix of findings (`body`, `ws`...). */
  readonly where: string;
  /** Bytes kept from each chunk for the next scan (default 4096); secrets longer than this that straddle a chunk boundary may be reported in part. */
  readonly overlap?: number;
  /** Replace secrets in the forwarded bytes (default false: detection only). */
  readonly redact?: boolean;
  /** Name each chunk in locations (`frame:<n>` for WebSocket frames). */
  readonly chunkLabel?: string;
}

export interface PushResult {
  readonly findings: DlpFinding[];
  /** Bytes safe to forward now (redact mode only). */
  readonly output: Buffer;
}

export function redactionMark(detector: string): string {
  return `[REDACTED:${detector}]`;
}

/** Replaces each finding's span in `buf` (offsets relative to `buf`). */
export function applyRedactions(buf: Buffer, findings: readonly DlpFinding[]): Buffer {
  const spans = findings.map((f) => ({ s: f.location.offset, e: f.location.offset + f.location.length, d: f.detector })).sort((a, b) => a.s - b.s);
  const parts: Buffer[] = [];
  let at = 0;
  for (const sp of spans) {
    if (sp.e <= at) continue;
    const s = Math.max(sp.s, at);
    parts.push(buf.subarray(at, s), Buffer.from(redactionMark(sp.d)));
    at = sp.e;
  }
  parts.push(buf.subarray(at));
  return Buffer.concat(parts);
}

/** Redacts every finding in a whole text (non-streaming). */
export function redactText(scanner: DlpScanner, text: string): { text: string; findings: DlpFinding[] } {
  const buf = Buffer.from(text, 'utf8');
  const findings = scanner.scanBytes(buf, 'text');
  return { text: applyRedactions(buf, findings).toString('utf8'), findings };
}

export class StreamScanner {
  readonly #scanner: DlpScanner;
  readonly #where: string;
  readonly #overlap: number;
  readonly #redact: boolean;
  readonly #label: string | undefined;
  #carry: Buffer = Buffer.alloc(0);
  /** Absolute offset of `#carry[0]`. */
  #base = 0;
  #chunks = 0;
  /** Findings already reported, by absolute offset and detector (pruned as the stream moves on). */
  #reported = new Map<string, number>();

  constructor(scanner: DlpScanner, options: StreamOptions) {
    this.#scanner = scanner;
    this.#where = options.where;
    this.#overlap = options.overlap ?? 4096;
    this.#redact = options.redact ?? false;
    this.#label = options.chunkLabel;
  }

  /**
   * Where the carry and the next chunk are put together, reused from push to
   * push (a fresh 1 MiB buffer per push cost more in allocation and garbage
   * collection than the copy): only `#scan` reads it, and nothing it returns
   * refers to it (findings hold strings, redacted output is a copy).
   */
  #work: Buffer = Buffer.alloc(0);

  /** Scans the next bytes of the stream: one buffer, or pieces that follow one another (copied once, into the work buffer). */
  push(chunk: Buffer | readonly Buffer[]): PushResult {
    this.#chunks++;
    const pieces: readonly Buffer[] = Buffer.isBuffer(chunk) ? [chunk] : chunk;
    if (this.#carry.length === 0 && pieces.length === 1 && pieces[0] !== undefined) return this.#scan(pieces[0], false);
    let need = this.#carry.length;
    for (const p of pieces) need += p.length;
    // Not kept far larger than the pushes (a WebSocket connection's one large frame).
    if (this.#work.length < need || this.#work.length > 4 * need + 65536) this.#work = Buffer.allocUnsafeSlow(need);
    let at = this.#carry.copy(this.#work, 0);
    for (const p of pieces) at += p.copy(this.#work, at);
    return this.#scan(this.#work.subarray(0, need), false);
  }

  /**
   * Scans the next `length` bytes of the stream, which are at `room` in
   * `buf`; the `room` bytes before them are free: the carry is copied there
   * and the scan runs in place (the chunk is never copied). `buf` is written
   * before `room` only and not kept. With a carry longer than `room`, as
   * `push`.
   */
  pushInPlace(buf: Buffer, room: number, length: number): PushResult {
    const carry = this.#carry.length;
    if (carry > room) return this.push(buf.subarray(room, room + length));
    this.#chunks++;
    this.#carry.copy(buf, room - carry);
    return this.#scan(buf.subarray(room - carry, room + length), false);
  }

  end(): PushResult {
    this.#work = Buffer.alloc(0);
    return this.#scan(this.#carry, true);
  }

  #scan(data: Buffer, final: boolean): PushResult {
    const boundary = final ? data.length : Math.max(0, data.length - this.#overlap);
    const where = this.#label === undefined ? this.#where : `${this.#where}:${this.#label}:${this.#chunks}`;
    const all = this.#scanner.scanBytes(data, where);
    const ready = this.#redact ? all.filter((f) => f.location.offset < boundary) : all;
    // A secret that starts before the boundary but runs past it is released only when redacted whole.
    let cut = boundary;
    if (this.#redact) for (const f of ready) cut = Math.max(cut, Math.min(data.length, f.location.offset + f.location.length));
    const findings: DlpFinding[] = [];
    for (const f of ready) {
      const abs = this.#base + f.location.offset;
      const key = `${abs}:${f.detector}`;
      if (this.#reported.has(key)) continue;
      this.#reported.set(key, abs);
      findings.push({ ...f, location: { ...f.location, offset: abs } });
    }
    let output: Buffer = Buffer.alloc(0);
    if (this.#redact) output = applyRedactions(data.subarray(0, cut), ready);
    this.#carry = Buffer.from(data.subarray(cut));
    this.#base += cut;
    for (const [k, abs] of this.#reported) if (abs < this.#base - this.#overlap) this.#reported.delete(k);
    return { findings, output };
  }
}
