/**
 * The head of an upstream HTTP/1.1 response, parsed strictly (the proxy's own
 * client: src/egress/upstream-http.ts), and how its body is delimited
 * (RFC 9112 section 6.3). Anything ambiguous is an error (the request gets a
 * 502), never a guess: bare LF or CR, obs-fold, a bad header name, differing
 * Content-Length values, a transfer coding other than `chunked`.
 */
import { CordonError } from '../errors.js';

export interface ResponseHead {
  readonly statusCode: number;
  readonly statusMessage: string;
  /** HTTP/1.0 responses never keep the connection. */
  readonly minor: 0 | 1;
  /** Name/value pairs in order and case as received. */
  readonly rawHeaders: string[];
}

/** How the body after a head is delimited. */
export type Framing =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' };

/** A malformed upstream response head (code `CORDON_EGRESS_PROXY`). */
export class ResponseHeadError extends CordonError {
  constructor(message: string) {
    super('CORDON_EGRESS_PROXY', message);
    this.name = 'ResponseHeadError';
  }
}

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;
const CONTENT_LENGTH = /^\d{1,15}$/;

/**
 * Parses one head at the start of `buf`. Returns the head and its length
 * in bytes (up to and including the empty line), or `undefined` when the head
 * is not complete yet. Throws `ResponseHeadError` when the head is malformed
 * or longer than `max` bytes.
 */
export function parseResponseHead(buf: Buffer, max: number): { head: ResponseHead; length: number } | undefined {
  const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
  if (end < 0) {
    if (buf.length > max) throw new ResponseHeadError(`the upstream response head is longer than ${max} bytes`);
    return undefined;
  }
  if (end + 4 > max) throw new ResponseHeadError(`the upstream response head is longer than ${max} bytes`);
  const text = buf.toString('latin1', 0, end);
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const status = STATUS_LINE.exec(text.slice(0, eol));
  if (status === null) throw new ResponseHeadError('the upstream sent a malformed status line');
  const rawHeaders: string[] = [];
  for (let at = eol + 2; at < text.length; at = eol + 2) {
    eol = text.indexOf('\r\n', at);
    if (eol < 0) eol = text.length;
    const colon = text.indexOf(':', at);
    if (colon < 0 || colon > eol) throw new ResponseHeadError('the upstream sent a malformed header line');
    const name = text.slice(at, colon);
    if (!TOKEN.test(name)) throw new ResponseHeadError('the upstream sent a malformed header line');
    let vs = colon + 1;
    let ve = eol;
    while (vs < ve && (text.charCodeAt(vs) === 32 || text.charCodeAt(vs) === 9)) vs += 1;
    while (ve > vs && (text.charCodeAt(ve - 1) === 32 || text.charCodeAt(ve - 1) === 9)) ve -= 1;
    const value = text.slice(vs, ve);
    if (BAD_VALUE.test(value)) throw new ResponseHeadError('the upstream sent a header value with a control character');
    rawHeaders.push(name, value);
  }
  return { head: { statusCode: Number(status[2]), statusMessage: status[3] ?? '', minor: status[1] === '0' ? 0 : 1, rawHeaders }, length: end + 4 };
}

/** Body delimitation of a final response (RFC 9112 section 6.3) to a request with `method`. */
export function framing(head: ResponseHead, method: string): Framing {
  const { statusCode: s, rawHeaders } = head;
  if (method === 'HEAD' || s < 200 || s === 204 || s === 304) return { kind: 'none' };
  let te: string | undefined;
  let cl: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i] ?? '';
    // Only Transfer-Encoding (17) and Content-Length (14) matter here: other names are not lower-cased.
    if (raw.length !== 17 && raw.length !== 14) continue;
    const name = raw.toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    if (name === 'transfer-encoding') te = te === undefined ? value : `${te}, ${value}`;
    else if (name === 'content-length') {
      for (const part of CONTENT_LENGTH.test(value) ? [value] : value.split(',')) {
        const v = part.trim();
        if (!CONTENT_LENGTH.test(v)) throw new ResponseHeadError('the upstream sent an invalid Content-Length');
        if (cl !== undefined && Number(cl) !== Number(v)) throw new ResponseHeadError('the upstream sent differing Content-Length values');
        cl = v;
      }
    }
  }
  if (te !== undefined) {
    if (te.trim().toLowerCase() !== 'chunked') throw new ResponseHeadError(`the upstream used transfer coding ${JSON.stringify(te)} (only chunked is forwarded)`);
    return { kind: 'chunked' };
  }
  if (cl !== undefined) return { kind: 'length', length: Number(cl) };
  return { kind: 'close' };
}

/** Whether the connection may carry another request after this response (HTTP/1.1 without `Connection: close`). */
export function reusable(head: ResponseHead, f: Framing): boolean {
  if (head.minor === 0 || f.kind === 'close') return false;
  for (let i = 0; i + 1 < head.rawHeaders.length; i += 2) {
    const name = head.rawHeaders[i] ?? '';
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    if ((head.rawHeaders[i + 1] ?? '').split(',').some((t) => t.trim().toLowerCase() === 'close')) return false;
  }
  // RFC 9112 section 6.3: with both Transfer-Encoding and Content-Length, close after the response.
  if (f.kind === 'chunked' && head.rawHeaders.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length')) return false;
  return true;
}
