/**
 * The body-scan worker thread (started by `body-worker.ts`): the streaming
 * scan of large request bodies runs here, beside the proxy's thread, which
 * meanwhile reads the next batch from the client. The scanner is built as
 * the proxy's own (`DlpScanner` with traffic checks, the same minimum
 * confidence and known-secret fingerprints) and each body is a
 * `StreamScanner` with the same overlap, so a body gives the same findings
 * here as in the proxy's thread.
 *
 * Messages (`ToWorker`, `FromWorker`) are between this repository's two
 * threads only; each reply carries the sequence number of its request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FingerprintMatcher, type FingerprintMatcherData } from './fingerprint.js';
import { DlpScanner } from './scanner.js';
import { StreamScanner } from './stream.js';
import type { Confidence } from './types.js';

/** What the worker is started with. */
export interface BodyWorkerData {
  readonly cordonBodyWorker: true;
  readonly minConfidence: Confidence;
  readonly overlap: number;
  readonly known?: FingerprintMatcherData;
}

/** A finding as the proxy records it (`Finding` of the audit log). */
export interface WireFinding {
  readonly detector: string;
  readonly where: string;
  readonly sample: string;
}

export type ToWorker =
  /**
   * The next `length` bytes of stream `id` are at `overlap` bytes into shared memory `mem` (sent as `sab` the
   * first time it is used; the bytes before them are free for the stream's carry).
   */
  | { readonly op: 'push'; readonly seq: number; readonly id: number; readonly mem: number; readonly length: number; readonly sab?: SharedArrayBuffer }
  /**
   * The next `length` bytes of stream `id` are at `at` in the caller's shared memory `sab` (sent with each push, not
   * kept); the `overlap` bytes before `at` are free for the stream's carry.
   */
  | { readonly op: 'pushAt'; readonly seq: number; readonly id: number; readonly sab: SharedArrayBuffer; readonly at: number; readonly length: number }
  /** Shared memory `mem` will not be used again. */
  | { readonly op: 'forget'; readonly mem: number }
  | { readonly op: 'end'; readonly seq: number; readonly id: number }
  | { readonly op: 'drop'; readonly id: number };

/** A reply. A push's bytes are in shared memory the proxy reuses once the reply came (the stream copied what it keeps). */
export type FromWorker =
  | { readonly seq: number; readonly findings: readonly WireFinding[] }
  | { readonly seq: number; readonly error: string };

function isWorkerData(d: unknown): d is BodyWorkerData {
  return typeof d === 'object' && d !== null && (d as { cordonBodyWorker?: unknown }).cordonBodyWorker === true;
}

function serve(data: BodyWorkerData, port: NonNullable<typeof parentPort>): void {
  const scanner = new DlpScanner({
    minConfidence: data.minConfidence, traffic: true,
    ...(data.known === undefined ? {} : { known: FingerprintMatcher.fromJSON(data.known) }),
  });
  const streams = new Map<number, StreamScanner>();
  const mems = new Map<number, SharedArrayBuffer>();
  port.on('message', (m: ToWorker) => {
    if (m.op === 'drop') {
      streams.delete(m.id);
      return;
    }
    if (m.op === 'forget') {
      mems.delete(m.mem);
      return;
    }
    let reply: FromWorker;
    try {
      let s = streams.get(m.id);
      if (m.op === 'push' || m.op === 'pushAt') {
        if (s === undefined) {
          s = new StreamScanner(scanner, { where: 'body', overlap: data.overlap });
          streams.set(m.id, s);
        }
        let buf: Buffer;
        if (m.op === 'pushAt') {
          if (m.at < data.overlap || m.at + m.length > m.sab.byteLength) throw new Error('a push outside its shared memory');
          buf = Buffer.from(m.sab, m.at - data.overlap, data.overlap + m.length);
        } else {
          if (m.sab !== undefined) mems.set(m.mem, m.sab);
          const sab = mems.get(m.mem);
          if (sab === undefined) throw new Error(`no shared memory ${m.mem}`);
          buf = Buffer.from(sab, 0, data.overlap + m.length);
        }
        reply = { seq: m.seq, findings: s.pushInPlace(buf, data.overlap, m.length).findings.map((f) => ({ detector: f.detector, where: f.location.where, sample: f.sample })) };
      } else {
        streams.delete(m.id);
        reply = { seq: m.seq, findings: s === undefined ? [] : s.end().findings.map((f) => ({ detector: f.detector, where: f.location.where, sample: f.sample })) };
      }
    } catch (e) {
      streams.delete(m.id);
      reply = { seq: m.seq, error: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply);
  });
}

// Runs only as the worker (importing this module elsewhere does nothing).
if (parentPort !== null && isWorkerData(workerData)) serve(workerData, parentPort);
