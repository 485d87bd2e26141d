/**
 * The client side of one HTTP session: each open POST waits for the response
 * to its request (by JSON-RPC id); messages the server sends meanwhile go on
 * that POST's event stream when they came on the upstream stream of the same
 * request, else on a GET stream the client opened. A POST is answered with
 * plain JSON when nothing but its response is sent, and switches to an
 * event stream only when something precedes the response.
 */
import type { ServerResponse } from 'node:http';
import { idKey, type JsonRpcId } from '../jsonrpc.js';
import { sseEvent } from './sse.js';

interface Exchange {
  readonly res: ServerResponse;
  readonly sse: boolean;
  readonly headers: Readonly<Record<string, string>>;
  started: boolean;
}

/** Bytes a slow reader may leave unread on a stream before it is cut. */
const STREAM_BACKLOG = 32 * 1024 * 1024;

export class ClientChannel {
  readonly #exchanges = new Map<string, Exchange>();
  readonly #streams = new Set<ServerResponse>();

  /** Registers a POST waiting for the response to `id`; false when a request with that id is already open. */
  open(id: JsonRpcId, res: ServerResponse, sse: boolean, headers: Readonly<Record<string, string>> = {}): boolean {
    const key = idKey(id);
    if (this.#exchanges.has(key)) return false;
    this.#exchanges.set(key, { res, sse, headers, started: false });
    res.once('close', () => {
      if (this.#exchanges.get(key)?.res === res) this.#exchanges.delete(key);
    });
    return true;
  }

  get pending(): number {
    return this.#exchanges.size;
  }

  /** Ends the POST of request `id` with its response; false when nobody waits for it any more. */
  respond(id: JsonRpcId, line: string): boolean {
    const key = idKey(id);
    const ex = this.#exchanges.get(key);
    if (ex === undefined) return false;
    this.#exchanges.delete(key);
    if (ex.res.destroyed) return false;
    if (ex.started) {
      ex.res.end(sseEvent(line));
    } else {
      ex.res.writeHead(200, { ...ex.headers, 'content-type': 'application/json', 'cache-control': 'no-store' });
      ex.res.end(line);
    }
    return true;
  }

  /** A notification or server request: on the stream of request `origin`, else on a GET stream; false when there is none. */
  push(line: string, origin: string | null): boolean {
    const ex = origin === null ? undefined : this.#exchanges.get(origin);
    if (ex !== undefined && ex.sse && !ex.res.destroyed) {
      if (!ex.started) {
        ex.res.writeHead(200, { ...ex.headers, 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        ex.started = true;
      }
      return write(ex.res, sseEvent(line));
    }
    for (const s of this.#streams) if (write(s, sseEvent(line))) return true;
    return false;
  }

  /** A GET stream for the server's unsolicited messages. */
  addStream(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(': cordon\n\n');
    this.#streams.add(res);
    res.once('close', () => this.#streams.delete(res));
  }

  close(): void {
    for (const s of this.#streams) s.end();
    this.#streams.clear();
  }
}

function write(res: ServerResponse, text: string): boolean {
  if (res.destroyed || res.writableEnded) return false;
  if (res.writableLength > STREAM_BACKLOG) {
    res.destroy(new Error('the client does not read its event stream'));
    return false;
  }
  res.write(text);
  return true;
}
