/**
 * The egress proxy's `RequestScanner`, backed by the DLP scanner. State per
 * request (and per WebSocket connection) is keyed by the proxy's
 * `ScanContext` object. Bodies are scanned as a stream with an overlap;
 * compressed bodies (Content-Encoding gzip/deflate/br) are collected within a
 * bound and decompressed with size and ratio limits at the end; small JSON,
 * form and multipart bodies are also scanned field by field (split secrets).
 * Anything over a limit is a finding (fail closed), never a pass.
 */
import type { RequestScanner, ScanContext, ScanResult } from '../egress/scanner.js';
import { AwsChunkedDeframer, AwsChunkedError, splitAwsChunked } from './aws-chunked.js';
import { BodyScanWorker } from './body-worker.js';
import { DEFAULT_DECODE_LIMITS, inflateBounded } from './decode.js';
import type { FingerprintMatcher } from './fingerprint.js';
import { specificity } from './engine.js';
import { DlpScanner } from './scanner.js';
import { StreamScanner } from './stream.js';
import { formFields, jsonLeaves, multipartFields, scanFields, scanHeaders, scanJsonValue, scanUrl, envFinding } from './structured.js';
import { findEnvDump, findEnvObject } from './env-dump.js';
import { findSplitSecrets } from './split-fields.js';
import type { Confidence, DlpFinding } from './types.js';

export interface RequestScannerOptions {
  /** Known secrets and canaries (fingerprints only). */
  readonly known?: FingerprintMatcher;
  /** Lowest confidence that blocks (default `medium`). */
  readonly minConfidence?: Confidence;
  /** Largest compressed body collected for decompression (default 8 MiB). */
  readonly maxCompressedBody?: number;
  /** Bodies up to this size are also parsed into fields (default 1 MiB). */
  readonly maxStructuredBody?: number;
  /** Overlap between chunks and frames (default 4096). */
  readonly overlap?: number;
  /** A scanner to use instead of building one (then bodies are scanned in the caller's thread). */
  readonly scanner?: DlpScanner;
  /**
   * Scan large bodies (a first batch of `OFFLOAD_MIN` bytes or more) on a
   * worker thread while the proxy receives the next batch (default true;
   * `body-worker.ts`). Findings are the same either way.
   */
  readonly worker?: boolean;
}

/**
 * A body whose first scanned piece is at least this large goes to the worker: the proxy's full batch (2 MiB,
 * `SCAN_BATCH` in src/egress/http-forward.ts), so more of it is on its way; a smaller body came whole in one
 * piece, and the worker would only add a hand-over.
 */
const OFFLOAD_MIN = 2 * 1024 * 1024;

interface RequestState {
  contentType: string;
  stream: StreamScanner | undefined;
  compressed: Buffer[];
  compressedSize: number;
  encoding: string | undefined;
  structured: Buffer[];
  structuredSize: number;
  frames: Map<'up' | 'down', StreamScanner>;
  /** Per direction: the token run that ended the previous frame (`frameJoins`). */
  frameTails: Map<'up' | 'down', string>;
  /** `Content-Encoding: aws-chunked` framing being removed (S3 streaming uploads). */
  deframer: AwsChunkedDeframer | undefined;
  /** The body's stream in the worker (its id), decided at its first piece. */
  remote: number | undefined;
}

type Out = ScanResult[number];

function toAudit(f: DlpFinding): Out {
  return { detector: f.detector, where: f.location.where, sample: f.sample };
}

/** Token characters a frame may end (and the next one go on) with. */
const TOKEN_TAIL = /[A-Za-z0-9_+/=.-]{4,256}$/;
const TOKEN_RUN = /[A-Za-z0-9_+/=.-]{4,256}/g;
const JOIN_TAIL_MAX = 256;
/** How far into the next frame a continuation may start (after a short label such as `part2: `), and how many runs are tried. */
const JOIN_HEAD_WITHIN = 32;
const JOIN_HEAD_RUNS = 3;

/**
 * A secret cut between two WebSocket frames or messages with a little filler
 * between the halves (`part1: ghp_ABC…` then `part2: …xyz`): the stream scan
 * reads the frames back to back, filler included, so the token is broken.
 * The previous frame's last token run is joined with each of the first token
 * runs of this one (starting in its first 32 bytes) and scanned; provider
 * formats that span the join count (generic shapes do not: joins blur
 * boundaries, as in `scanFields`). Bounded: 256 + 256 characters, three joins
 * per frame.
 */
function frameJoins(scanner: DlpScanner, tail: string, payload: Buffer): Out[] {
  const head = payload.subarray(0, JOIN_HEAD_WITHIN + 256).toString('latin1');
  const out: Out[] = [];
  let tried = 0;
  for (const m of head.matchAll(TOKEN_RUN)) {
    if (m.index > JOIN_HEAD_WITHIN || tried++ >= JOIN_HEAD_RUNS) break;
    // A run at the very start is already joined by the stream (frames are read back to back).
    if (m.index === 0) continue;
    const joined = tail + m[0];
    for (const f of scanner.scanText(joined, 'ws:joined')) {
      if (specificity(f.detector) < 2 || f.location.offset >= tail.length || f.location.offset + f.location.length <= tail.length) continue;
      out.push({ detector: f.detector, where: 'ws:joined-frames', sample: f.sample });
    }
  }
  return out;
}

/** Largest WebSocket message read for environment dumps and split JSON fields (a dump is near the start of what carries it). */
const MESSAGE_CHECK_MAX = 64 * 1024;

/**
 * The field-shaped checks of structured bodies on one WebSocket message: an
 * environment dump (`NAME=value` lines, or a JSON object of NAME keys), and,
 * for a JSON message, a secret split over its fields (apart, reordered, in
 * pieces). The stream scan has the message's text already; these need its
 * lines or its fields. Messages over 64 KiB are read up to 64 KiB for lines
 * and not parsed.
 */
function messageChecks(scanner: DlpScanner, payload: Buffer, direction: string): Out[] {
  if (payload.length < 16) return [];
  const text = payload.subarray(0, MESSAGE_CHECK_MAX).toString('utf8');
  const where = `ws:${direction}`;
  const out: Out[] = [];
  for (const e of findEnvDump(text)) out.push(toAudit(envFinding(e, where)));
  const first = text.trimStart()[0];
  if (payload.length <= MESSAGE_CHECK_MAX && (first === '{' || first === '[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      return out;
    }
    for (const e of findEnvObject(parsed)) out.push(toAudit(envFinding(e, where)));
    const leaves = jsonLeaves(parsed);
    for (const f of findSplitSecrets(scanner, leaves)) out.push({ detector: f.detector, where: `${where}:split(${f.fields.join(',')})`.slice(0, 200), sample: f.sample });
  }
  return out;
}

export function createRequestScanner(options: RequestScannerOptions = {}): RequestScanner {
  const scanner = options.scanner ?? new DlpScanner({
    minConfidence: options.minConfidence ?? 'medium', traffic: true,
    ...(options.known === undefined ? {} : { known: options.known }),
  });
  const maxCompressed = options.maxCompressedBody ?? 8 * 1024 * 1024;
  const maxStructured = options.maxStructuredBody ?? 1024 * 1024;
  const overlap = options.overlap ?? 4096;
  const states = new WeakMap<ScanContext, RequestState>();
  const worker = options.scanner === undefined && options.worker !== false
    ? new BodyScanWorker({ minConfidence: options.minConfidence ?? 'medium', overlap, known: options.known })
    : undefined;
  // A request dropped before its end (refused, cut by the client): its stream in the worker is forgotten once the request is.
  const unfinished = new FinalizationRegistry<number>((id) => worker?.drop(id));
  const state = (ctx: ScanContext): RequestState => {
    let s = states.get(ctx);
    if (s === undefined) {
      s = { contentType: '', stream: undefined, compressed: [], compressedSize: 0, encoding: undefined, structured: [], structuredSize: 0, frames: new Map(), frameTails: new Map(), deframer: undefined, remote: undefined };
      states.set(ctx, s);
    }
    return s;
  };
  const limit = (what: string): Out[] => [{ detector: 'dlp-limit', where: 'body', sample: `…(${what})` }];
  /**
   * One piece of body data (after any aws-chunked framing), by its remaining content coding. `shared`: the piece is
   * `length` bytes at `at` in shared memory with `room` free bytes before it, which the worker may read where it is.
   */
  const plainOrCompressed = (ctx: ScanContext, s: RequestState, chunk: Buffer | readonly Buffer[], enc: string | undefined, mayOffload: boolean, shared?: { readonly mem: SharedArrayBuffer; readonly at: number; readonly room: number }): Out[] | Promise<Out[]> => {
    const pieces: readonly Buffer[] = Buffer.isBuffer(chunk) ? [chunk] : chunk;
    let size = 0;
    for (const p of pieces) size += p.length;
    if (enc !== undefined && enc !== '' && enc !== 'identity') {
      s.encoding = enc;
      s.compressedSize += size;
      if (s.compressedSize > maxCompressed) return limit('compressed body over the inspection limit');
      s.compressed.push(...pieces);
      // Scanned once decompressed, at the end (a coding that does not decompress is a finding there). The compressed
      // bytes themselves are not text: read as UTF-8 they gave mixed-script words (a 155 KB gzip body of letters had
      // 16), so compressed uploads of that size and up were refused.
      return [];
    } else if (s.structuredSize + size <= maxStructured) {
      s.structured.push(...pieces);
      s.structuredSize += size;
    } else {
      s.structured = [];
      s.structuredSize = Number.POSITIVE_INFINITY;
    }
    if (s.stream === undefined && s.remote === undefined && mayOffload && worker !== undefined && size >= OFFLOAD_MIN) {
      s.remote = worker.open();
      if (s.remote !== undefined) unfinished.register(ctx, s.remote, s);
    }
    if (s.remote !== undefined && worker !== undefined) {
      if (shared !== undefined && shared.room >= worker.room) return worker.pushAt(s.remote, shared.mem, shared.at, size).then((f) => [...f]);
      return worker.push(s.remote, pieces).then((f) => [...f]);
    }
    s.stream ??= new StreamScanner(scanner, { where: 'body', overlap });
    return s.stream.push(chunk).findings.map(toAudit);
  };

  const bodyChunk: RequestScanner['bodyChunk'] = (ctx, chunk, contentEncoding) => {
    const s = state(ctx);
    let enc = contentEncoding?.trim().toLowerCase();
    if (enc?.includes('aws-chunked') === true) {
      const split = splitAwsChunked(enc);
      enc = split.rest;
      s.deframer ??= new AwsChunkedDeframer();
      let parts;
      try {
        parts = s.deframer.push(chunk);
      } catch (e) {
        if (e instanceof AwsChunkedError) return limit(e.message);
        throw e;
      }
      const out: Out[] = [];
      for (const m of parts.meta) out.push(...scanFields(scanner, [{ name: 'aws-chunked', value: m }], () => 'body.aws-chunked').map(toAudit));
      // De-framed pieces are scanned here, in order (never in the worker).
      for (const d of parts.data) out.push(...(plainOrCompressed(ctx, s, d, enc, false) as Out[]));
      return out;
    }
    return plainOrCompressed(ctx, s, chunk, enc, s.deframer === undefined);
  };

  /** What `bodyEnd` adds to the stream's last findings `out`: the collected compressed body, the fields of a small structured one. */
  const rest = (ctx: ScanContext, s: RequestState, out: Out[]): Out[] => {
    let body: Buffer | undefined = s.structured.length > 0 ? Buffer.concat(s.structured) : undefined;
    if (s.compressed.length > 0) {
      const kind = s.encoding === 'gzip' || s.encoding === 'x-gzip' ? 'gzip' : s.encoding === 'br' ? 'br' : s.encoding === 'deflate' ? 'deflate' : undefined;
      if (kind === undefined) return [...out, ...limit(`unknown content-encoding ${s.encoding ?? ''}`)];
      const plain = inflateBounded(Buffer.concat(s.compressed), kind, DEFAULT_DECODE_LIMITS);
      if (plain === undefined) return [...out, ...limit('body does not decompress within the size and ratio limits')];
      out.push(...scanner.scanBytes(plain, `body(${kind})`).map(toAudit));
      body = plain.length <= maxStructured ? plain : undefined;
    }
    if (body !== undefined) {
      const ct = s.contentType.toLowerCase();
      const text = body.toString('utf8');
      let fields: { name: string; value: string }[] = [];
      if (ct.includes('json')) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text) as unknown;
        } catch {
          parsed = undefined;
        }
        // Leaves with their names, joins, split pieces, environment dumps and objects (`scanJsonValue`).
        if (parsed !== undefined) out.push(...scanJsonValue(scanner, parsed, 'body').map(toAudit));
      } else if (ct.includes('x-www-form-urlencoded')) fields = formFields(text);
      else if (ct.includes('multipart/')) fields = multipartFields(text, s.contentType);
      if (fields.length > 0) out.push(...scanFields(scanner, fields, (f) => `body.${f.name}`).map(toAudit));
    }
    states.delete(ctx);
    return out;
  };

  return {
    url: (_ctx, url) => scanUrl(scanner, url).map(toAudit),
    headers: (ctx, raw) => {
      const s = state(ctx);
      for (let i = 0; i + 1 < raw.length; i += 2) if ((raw[i] ?? '').toLowerCase() === 'content-type') s.contentType = raw[i + 1] ?? '';
      return scanHeaders(scanner, raw).map(toAudit);
    },
    bodyChunk,
    // The proxy's batches: the stream scanner copies the pieces into its work buffer once (no join before it).
    bodyChunks: (ctx, chunks, contentEncoding) => {
      const enc = contentEncoding?.trim().toLowerCase();
      if (enc?.includes('aws-chunked') === true) return bodyChunk(ctx, Buffer.concat(chunks), contentEncoding);
      const s = state(ctx);
      return plainOrCompressed(ctx, s, chunks, enc, s.deframer === undefined);
    },
    // A batch the proxy holds in shared memory: read there by the worker (no copy), else scanned as a view of it.
    bodyShared: (ctx, mem, at, length, room, contentEncoding) => {
      const view = Buffer.from(mem, at, length);
      const enc = contentEncoding?.trim().toLowerCase();
      if (enc?.includes('aws-chunked') === true) return bodyChunk(ctx, view, contentEncoding);
      const s = state(ctx);
      return plainOrCompressed(ctx, s, view, enc, s.deframer === undefined, { mem, at, room });
    },
    bodyEnd: (ctx) => {
      const s = state(ctx);
      if (s.deframer !== undefined && !s.deframer.finished) {
        states.delete(ctx);
        return limit('aws-chunked body ended before its last (empty) chunk');
      }
      if (s.remote !== undefined && worker !== undefined) {
        const id = s.remote;
        s.remote = undefined;
        unfinished.unregister(s);
        return worker.end(id).then((f) => rest(ctx, s, [...f]));
      }
      return rest(ctx, s, s.stream === undefined ? [] : s.stream.end().findings.map(toAudit));
    },
    websocketFrame: (ctx, direction, payload) => {
      const s = state(ctx);
      let st = s.frames.get(direction);
      if (st === undefined) {
        st = new StreamScanner(scanner, { where: `ws:${direction}`, overlap, chunkLabel: 'frame' });
        s.frames.set(direction, st);
      }
      const out = st.push(payload).findings.map(toAudit);
      for (const f of messageChecks(scanner, payload, direction)) if (!out.some((o) => o.sample === f.sample)) out.push(f);
      const tail = s.frameTails.get(direction);
      if (tail !== undefined) for (const f of frameJoins(scanner, tail, payload)) if (!out.some((o) => o.sample === f.sample)) out.push(f);
      const next = TOKEN_TAIL.exec(payload.subarray(Math.max(0, payload.length - JOIN_TAIL_MAX)).toString('latin1'))?.[0];
      if (next === undefined) s.frameTails.delete(direction);
      else s.frameTails.set(direction, next);
      return out;
    },
  };
}
