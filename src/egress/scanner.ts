/**
 * The DLP hook points of the proxy. The DLP module (src/dlp/) implements
 * `RequestScanner`; the proxy calls it at each point and blocks on any
 * finding. The default scanner finds nothing.
 *
 * When each hook runs, and what a finding stops:
 * - `url` and `headers`: before the upstream connection is opened; nothing
 *   reaches upstream.
 * - `bodyChunk`: before that chunk is written upstream (the request is held
 *   while the scanner runs). Earlier chunks of the same body have been
 *   forwarded already: a finding in chunk N cuts the request before chunk N.
 *   Whole-body buffering within a bound (so that nothing of a body with a
 *   finding leaves) is for the DLP issue to add when it plugs in.
 * - `bodyEnd`: after the last chunk, before the request is finished upstream.
 * - `websocketFrame`: reserved for WebSocket support (not yet forwarded).
 */
import type { Finding } from '../audit/record.js';

export type { Finding };

/** What the scanner is told about the request it scans. */
export interface ScanContext {
  /** `Http(...)` or `Net(...)` subject text. */
  readonly subject: string;
  readonly method: string;
  /** Canonical host as written in the URL (IPv6 in brackets). */
  readonly host: string;
  readonly port: number;
}

export type ScanResult = readonly Finding[];

export interface RequestScanner {
  url(ctx: ScanContext, url: string): ScanResult | Promise<ScanResult>;
  /** Raw header pairs in their original order and case (already without hop-by-hop headers). */
  headers(ctx: ScanContext, rawHeaders: readonly string[]): ScanResult | Promise<ScanResult>;
  /** One chunk of the request body as received (content-encoding not decoded by the proxy). */
  bodyChunk(ctx: ScanContext, chunk: Buffer, contentEncoding: string | undefined): ScanResult | Promise<ScanResult>;
  /**
   * Optional: the same as `bodyChunk` on the pieces joined, without the proxy
   * joining them first (a scanner that copies anyway saves a copy per batch).
   */
  bodyChunks?(ctx: ScanContext, chunks: readonly Buffer[], contentEncoding: string | undefined): ScanResult | Promise<ScanResult>;
  /**
   * Optional: the same as `bodyChunk` on the `length` bytes at `at` in shared memory `mem`, which the scanner may
   * read where they are (from another thread) until its result: they do not change before the request ends. The
   * `room` bytes before `at` are the scanner's to write (a worker puts its stream's carry there).
   */
  bodyShared?(ctx: ScanContext, mem: SharedArrayBuffer, at: number, length: number, room: number, contentEncoding: string | undefined): ScanResult | Promise<ScanResult>;
  bodyEnd(ctx: ScanContext): ScanResult | Promise<ScanResult>;
  websocketFrame(ctx: ScanContext, direction: 'up' | 'down', payload: Buffer): ScanResult | Promise<ScanResult>;
}

const NONE: ScanResult = Object.freeze([]);

/** Finds nothing; the proxy skips all per-chunk work when this is the scanner. */
export const NOOP_SCANNER: RequestScanner = Object.freeze({
  url: () => NONE,
  headers: () => NONE,
  bodyChunk: () => NONE,
  bodyEnd: () => NONE,
  websocketFrame: () => NONE,
});
