/**
 * Server-Sent Events, bounded: an incremental parser for what an upstream
 * Streamable HTTP server sends (each event's `data` is one JSON-RPC message),
 * and the writer for what the gateway sends to its client. An event whose
 * data grows past the limit is discarded as it streams (never held whole)
 * and reported once with its first bytes, so the sender of a request can
 * still be answered.
 */
import { StringDecoder } from 'node:string_decoder';

export type SseItem =
  | { readonly kind: 'event'; readonly event: string; readonly data: string; readonly id: string | null }
  | { readonly kind: 'oversized'; readonly bytes: number; readonly head: string };

const HEAD_CHARS = 512;

export class SseParser {
  readonly #max: number;
  readonly #decoder = new StringDecoder('utf8');
  /** The unterminated tail of the stream. */
  #tail = '';
  #data: string[] = [];
  #dataLen = 0;
  #event = '';
  #id: string | null = null;
  /** Characters of the current event discarded so far (it went over the limit); -1 when not skipping. */
  #skipping = -1;
  #head = '';
  /** A lone `\r` ended the previous chunk: a `\n` starting the next one belongs to it. */
  #cr = false;

  constructor(maxEventChars: number) {
    this.#max = maxEventChars;
  }

  push(chunk: Buffer): SseItem[] {
    const out: SseItem[] = [];
    let text = this.#decoder.write(chunk);
    if (this.#cr && text.startsWith('\n')) text = text.slice(1);
    this.#cr = false;
    let start = 0;
    for (;;) {
      const nl = nextBreak(text, start);
      if (nl === -1) break;
      const line = this.#tail === '' ? text.slice(start, nl) : this.#tail + text.slice(start, nl);
      this.#tail = '';
      this.#line(line, out);
      if (text.charCodeAt(nl) === 0x0d) {
        if (nl + 1 === text.length) this.#cr = true;
        else if (text.charCodeAt(nl + 1) === 0x0a) start = nl + 2;
        else start = nl + 1;
        if (this.#cr) return out;
        continue;
      }
      start = nl + 1;
    }
    const rest = text.slice(start);
    if (this.#skipping >= 0) this.#skipping += rest.length;
    else if (this.#tail.length + rest.length + this.#dataLen > this.#max) this.#overflow(this.#tail + rest);
    else this.#tail += rest;
    return out;
  }

  /** End of stream: an event not closed by a blank line is dropped (the SSE rule); an oversize report is still given. */
  end(): SseItem[] {
    const out: SseItem[] = [];
    if (this.#skipping >= 0) out.push({ kind: 'oversized', bytes: this.#skipping, head: this.#head });
    this.#skipping = -1;
    return out;
  }

  #overflow(more: string): void {
    const all = this.#data.join('\n') + more;
    this.#head = all.slice(0, HEAD_CHARS);
    this.#skipping = all.length;
    this.#data = [];
    this.#dataLen = 0;
    this.#tail = '';
  }

  #line(line: string, out: SseItem[]): void {
    if (line === '') {
      this.#dispatch(out);
      return;
    }
    if (this.#skipping >= 0) {
      this.#skipping += line.length + 1;
      return;
    }
    if (line.charCodeAt(0) === 0x3a) return; // comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'data':
        if (this.#dataLen + value.length + 1 > this.#max) {
          this.#overflow(value);
          return;
        }
        this.#data.push(value);
        this.#dataLen += value.length + 1;
        return;
      case 'event':
        this.#event = value.slice(0, 256);
        return;
      case 'id':
        if (!value.includes('\0')) this.#id = value.slice(0, 1024);
        return;
      default:
        return; // retry and unknown fields are ignored
    }
  }

  #dispatch(out: SseItem[]): void {
    if (this.#skipping >= 0) {
      out.push({ kind: 'oversized', bytes: this.#skipping, head: this.#head });
      this.#skipping = -1;
      this.#head = '';
    } else if (this.#data.length > 0) {
      out.push({ kind: 'event', event: this.#event === '' ? 'message' : this.#event, data: this.#data.join('\n'), id: this.#id });
    }
    this.#data = [];
    this.#dataLen = 0;
    this.#event = '';
  }
}

function nextBreak(s: string, from: number): number {
  const n = s.indexOf('\n', from);
  const r = s.indexOf('\r', from);
  if (r === -1) return n;
  if (n === -1) return r;
  return Math.min(n, r);
}

/** One SSE `message` event carrying a JSON-RPC message (split into data lines, so no line break can end it early). */
export function sseEvent(json: string, id?: string): string {
  const data = json.includes('\n') || json.includes('\r') ? json.split(/\r\n|\r|\n/).map((l) => `data: ${l}`).join('\n') : `data: ${json}`;
  return `${id === undefined ? '' : `id: ${id}\n`}event: message\n${data}\n\n`;
}
