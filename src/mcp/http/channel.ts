/**
 * The client side of one HTTP session: each open POST waits for the response
 * to its request (by JSON-RPC id); messages the server sends meanwhile go on
 * that POST's event stream when they came on the upstream stream of the same
 * request, else on a GET stream the client opened. A POST is answered with
 * plain JSON when nothing but its response is sent, and switches to an
 * event stream only when something precedes the response, or (for clients
 * that can resume) when the response has not come within 100 ms: the stream
 * then opens with a priming event, so a long call survives a dropped
 * connection.
 *
 * Resumption (`Last-Event-ID`): every event on a stream carries the id
 * `<stream>:<n>` (a POST's stream `p<k>`, a GET stream `g<k>`; a priming
 * event `<stream>:0` without data opens a GET stream, and a POST's stream
 * started by the 100 ms wait, for clients of 2025-11-25 or later). A stream whose connection drops keeps collecting its events; a
 * GET with `Last-Event-ID` replays those after that id and continues the
 * stream on the new connection (a POST's stream ends there once its
 * response is sent). Bounds: per stream the last 256 events within 1 MiB
 * (the latest event is always kept, whatever its size); of the streams
 * without a connection (dropped, or a POST's finished) the 16 most recent
 * stay resumable. An id older than what is kept resumes with what is left,
 * and the caller is told events were lost.
 *
 * A POST whose response can no longer reach its client is reported
 * (`open`'s `gone`), so a call still held for approval is withdrawn: its
 * connection closed before any event stream, or with one but from a client
 * that does not resume (in the 2026-07-28 era closing a request's stream is
 * its cancellation), or its event stream was not resumed within
 * RESUME_GRACE_MS, or was dropped from the kept streams. (When the session
 * ends, its owner withdraws what it holds itself, with that reason.)
 */
import type { ServerResponse } from 'node:http';
import { idKey, type JsonRpcId } from '../jsonrpc.js';
import { sseEvent } from './sse.js';

/** Bytes a slow reader may leave unread on a stream before it is cut. */
const STREAM_BACKLOG = 32 * 1024 * 1024;
/** Replay buffer of one stream: events, and bytes (the latest event is kept even when larger). */
export const REPLAY_EVENTS = 256;
export const REPLAY_BYTES = 1024 * 1024;
/** Streams without a connection (dropped, or finished) kept resumable per session, most recent first. */
export const KEPT_STREAMS = 16;
/** A POST of a client that can resume switches to a primed event stream when its response takes longer. */
const PRIME_AFTER_MS = 100;
/** A POST's event stream without a connection for this long counts as given up (its `gone` is called). */
export const RESUME_GRACE_MS = 10_000;

/** `x-accel-buffering: no`: a reverse proxy in front must not hold events back (2026-07-28 asks for it; harmless before). */
const SSE_HEAD = { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' };

/** One event stream, its events numbered and the recent ones kept for a client that resumes it. */
class Stream {
  readonly id: string;
  /** The connection it is written to; null while the client is away. */
  res: ServerResponse | null = null;
  /** A POST's stream that carried its response: nothing more will be written. */
  finished = false;
  /** A POST's stream still waiting for its response: tells the POST's owner the client gave it up. */
  abandon: (() => void) | null = null;
  /** Runs `abandon` when the client does not come back in time. */
  grace: NodeJS.Timeout | undefined;
  #seq = 0;
  readonly #kept: { seq: number; text: string }[] = [];
  #bytes = 0;

  constructor(id: string) {
    this.id = id;
  }

  get live(): boolean {
    return this.res !== null && !this.res.destroyed && !this.res.writableEnded;
  }

  /** Writes one message as the next event; it is kept for replay even when the connection is gone. False when it could not be written now. */
  send(line: string): boolean {
    const seq = ++this.#seq;
    const text = sseEvent(line, `${this.id}:${seq}`);
    this.#kept.push({ seq, text });
    this.#bytes += text.length;
    while (this.#kept.length > REPLAY_EVENTS || (this.#bytes > REPLAY_BYTES && this.#kept.length > 1)) this.#bytes -= this.#kept.shift()?.text.length ?? 0;
    return this.res !== null && write(this.res, text);
  }

  /** The kept events after event `seq`, and whether some after it are no longer kept. */
  after(seq: number): { texts: string[]; lost: boolean } {
    const first = this.#kept[0]?.seq ?? this.#seq + 1;
    return { texts: this.#kept.filter((e) => e.seq > seq).map((e) => e.text), lost: seq + 1 < first };
  }
}

interface Exchange {
  /** Called once when the response can no longer reach the client (see the file comment). */
  gone: (() => void) | undefined;
  res: ServerResponse;
  readonly sse: boolean;
  readonly headers: Readonly<Record<string, string>>;
  /** Its event stream, once something preceded the response. */
  stream: Stream | null;
}

export type ResumeResult = { readonly ok: true; readonly lost: boolean } | { readonly ok: false; readonly reason: string };

export class ClientChannel {
  readonly #exchanges = new Map<string, Exchange>();
  /** GET streams, live or dropped, in the order opened. */
  readonly #gets = new Map<string, Stream>();
  /** Every stream a client may resume, by id. */
  readonly #resumable = new Map<string, Stream>();
  /** Streams without a connection, oldest first (bounded by KEPT_STREAMS). */
  readonly #idle: Stream[] = [];
  #streamSeq = 0;

  /**
   * Registers a POST waiting for the response to `id`; false when a request
   * with that id is already open. `prime`: the client can resume (see above).
   */
  open(id: JsonRpcId, res: ServerResponse, sse: boolean, headers: Readonly<Record<string, string>> = {}, prime = false, gone?: () => void): boolean {
    const key = idKey(id);
    if (this.#exchanges.has(key)) return false;
    const ex: Exchange = { gone, res, sse, headers, stream: null };
    this.#exchanges.set(key, ex);
    const timer = sse && prime
      ? setTimeout(() => {
        if (this.#exchanges.get(key) !== ex || ex.stream !== null || ex.res.destroyed) return;
        const stream = this.#startStream(ex);
        ex.res.write(`id: ${stream.id}:0\ndata: \n\n`);
      }, PRIME_AFTER_MS)
      : undefined;
    timer?.unref();
    res.once('close', () => {
      clearTimeout(timer);
      if (this.#exchanges.get(key) !== ex) return;
      // A POST whose event stream started may be resumed: its events (and response) are still collected.
      if (ex.stream === null) {
        this.#exchanges.delete(key);
        gone?.();
      } else {
        this.#detached(ex.stream, res);
        // A client that does not resume (a stateless-era one: closing the stream is cancelling the request) gave it up now.
        if (!prime) this.#abandon(ex.stream);
      }
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
    const stream = ex.stream;
    if (stream !== null) {
      stream.send(line);
      stream.finished = true;
      stream.abandon = null;
      clearTimeout(stream.grace);
      if (stream.live) stream.res?.end();
      this.#idleNow(stream);
      return true;
    }
    if (ex.res.destroyed) return false;
    ex.res.writeHead(200, { ...ex.headers, 'content-type': 'application/json', 'cache-control': 'no-store' });
    ex.res.end(line);
    return true;
  }

  /**
   * A notification or server request: on the stream of request `origin`, else
   * on a GET stream (kept for the client's return when its connection dropped);
   * false when there is none.
   */
  push(line: string, origin: string | null): boolean {
    const ex = origin === null ? undefined : this.#exchanges.get(origin);
    if (ex !== undefined && ex.sse && (ex.stream !== null || !ex.res.destroyed)) {
      (ex.stream ?? this.#startStream(ex)).send(line);
      return true;
    }
    let dropped: Stream | undefined;
    for (const s of this.#gets.values()) {
      if (s.live) {
        s.send(line); // kept for replay even if this write fails
        return true;
      }
      if (this.#resumable.has(s.id)) dropped = s;
    }
    if (dropped === undefined) return false;
    dropped.send(line);
    return true;
  }

  /** A GET stream for the server's unsolicited messages; `prime` sends the priming event (clients of 2025-11-25 or later). */
  addStream(res: ServerResponse, prime = false): void {
    const s = this.#stream('g');
    this.#gets.set(s.id, s);
    res.writeHead(200, SSE_HEAD);
    res.write(prime ? `id: ${s.id}:0\ndata: \n\n` : ': cordon\n\n');
    this.#attach(s, res);
  }

  /** A GET with `Last-Event-ID`: replays the events after it and continues that stream on `res`. */
  resume(res: ServerResponse, lastEventId: string): ResumeResult {
    const m = /^([gp]\d{1,15}):(\d{1,15})$/.exec(lastEventId);
    const s = m === null ? undefined : this.#resumable.get(m[1] ?? '');
    if (m === null || s === undefined) return { ok: false, reason: m === null ? 'Last-Event-ID is not an event id cordon issued' : 'that event stream is no longer kept (or never was); open a new one' };
    const { texts, lost } = s.after(Number(m[2]));
    const old = s.res;
    s.res = null;
    if (old !== null && !old.writableEnded) old.end();
    res.writeHead(200, SSE_HEAD);
    for (const t of texts) write(res, t);
    if (s.finished) res.end();
    else this.#attach(s, res);
    return { ok: true, lost };
  }

  close(): void {
    for (const s of this.#gets.values()) if (s.live) s.res?.end();
    this.#gets.clear();
    this.#resumable.clear();
    this.#idle.length = 0;
  }

  #startStream(ex: Exchange): Stream {
    ex.res.writeHead(200, { ...ex.headers, ...SSE_HEAD });
    const s = this.#stream('p');
    s.res = ex.res;
    s.abandon = ex.gone ?? null;
    ex.stream = s;
    return s;
  }

  #stream(kind: 'g' | 'p'): Stream {
    const s = new Stream(`${kind}${++this.#streamSeq}`);
    this.#resumable.set(s.id, s);
    return s;
  }

  #attach(s: Stream, res: ServerResponse): void {
    const i = this.#idle.indexOf(s);
    if (i >= 0) this.#idle.splice(i, 1);
    clearTimeout(s.grace);
    s.grace = undefined;
    s.res = res;
    res.once('close', () => this.#detached(s, res));
  }

  /** The connection of `s` closed (if `res` is still its connection): it waits for the client's return. */
  #detached(s: Stream, res: ServerResponse): void {
    if (s.res !== res) return;
    s.res = null;
    if (s.abandon !== null) {
      s.grace = setTimeout(() => this.#abandon(s), RESUME_GRACE_MS);
      s.grace.unref();
    }
    this.#idleNow(s);
  }

  /** The client gave up the POST of stream `s`: its owner is told once. */
  #abandon(s: Stream): void {
    clearTimeout(s.grace);
    s.grace = undefined;
    const abandon = s.abandon;
    s.abandon = null;
    abandon?.();
  }

  #idleNow(s: Stream): void {
    if (this.#idle.includes(s) || !this.#resumable.has(s.id)) return;
    this.#idle.push(s);
    while (this.#idle.length > KEPT_STREAMS) {
      const gone = this.#idle.shift();
      if (gone === undefined) break;
      this.#resumable.delete(gone.id);
      this.#gets.delete(gone.id);
      this.#abandon(gone);
    }
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
