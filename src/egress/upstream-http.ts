/**
 * The proxy's own HTTP/1.1 client for forwarded requests, with keep-alive
 * connections pooled per checked address (and SNI for TLS). It exists for
 * the data path: each connection reads into its own fixed buffer (64 KiB,
 * 1 MiB while a large body streams; no buffer allocated per read, nothing
 * for the collector), the response head
 * is parsed strictly by `response-head.ts`, and body bytes are handed to the
 * caller as slices of that buffer, to be written on at once. A caller that
 * cannot write a slice out synchronously pauses the exchange until it has;
 * the buffer is not read into again before that.
 *
 * The connection is opened and the head written only on the first `write`
 * or `end`: a request body that DLP refuses never opens it.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls';
import { ChunkedDecoder } from './chunked.js';
import { framing, parseResponseHead, reusable, ResponseHeadError, type Framing, type ResponseHead } from './response-head.js';

export interface UpstreamTarget {
  /** The checked address (never a name: no second lookup). */
  readonly address: string;
  readonly port: number;
  /** TLS to the upstream, verified by `context` (the proxy's roots, made once) for `servername` (absent: the address is checked). */
  readonly tls?: { readonly servername: string | undefined; readonly context: SecureContext };
}

export interface ExchangeHandlers {
  /** The final response head (1xx interim responses are read and dropped). */
  head(head: ResponseHead, framing: Framing): void;
  /**
   * Body bytes. `reused`: the slice's memory is read into again after this
   * call returns unless the exchange was paused; resume once it is written.
   */
  body(slice: Buffer, reused: boolean): void;
  end(): void;
  /** The upstream socket can take more request body. */
  drain(): void;
  error(e: NodeJS.ErrnoException): void;
  /** No byte either way for the idle timeout, or the connection was not established in time. */
  timeout(): void;
}

export interface UpstreamRequest {
  readonly method: string;
  /** Origin-form path and query. */
  readonly path: string;
  /** Name/value pairs, already without hop-by-hop headers. */
  readonly headers: readonly string[];
  /** How the request body is framed upstream: none, as-is under its Content-Length, or chunked here. */
  readonly body: 'none' | 'length' | 'chunked';
}

export interface PoolOptions {
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly maxHeaderBytes: number;
  /** Idle connections kept per key. */
  readonly maxFreePerKey?: number;
}

const READ_BUFFER = 64 * 1024;
/** 1 MiB reads cut the proxy's CPU per 100 MB download from ~150 ms to ~50 ms here (bench/egress). */
const BIG_READ_BUFFER = 1024 * 1024;
/** Below this much free space a TLS chunk is replaced (one TLS record: its plaintext is at most 16 KiB). */
const MIN_FREE = 16 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PATH = /^[\x21-\x7e]+$/;
const BAD_VALUE = /[\0\r\n]/;

function protocolError(message: string): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message);
  e.code = 'CORDON_EGRESS_PROXY';
  return e;
}

/** The request head as one latin1 string; throws on a character that could split it. */
function serializeHead(r: UpstreamRequest): string {
  if (!TOKEN.test(r.method) || !PATH.test(r.path)) throw protocolError('the request line has a character that cannot be forwarded');
  let head = `${r.method} ${r.path} HTTP/1.1\r\n`;
  for (let i = 0; i + 1 < r.headers.length; i += 2) {
    const name = r.headers[i] ?? '';
    const value = r.headers[i + 1] ?? '';
    if (!TOKEN.test(name) || BAD_VALUE.test(value)) throw protocolError('a request header has a character that cannot be forwarded');
    head += `${name}: ${value}\r\n`;
  }
  if (r.body === 'chunked') head += 'Transfer-Encoding: chunked\r\n';
  return `${head}\r\n`;
}

class Connection {
  readonly socket: Socket | TLSSocket;
  readonly key: string;
  /** Read buffer for heads and small bodies. */
  readonly small = Buffer.allocUnsafe(READ_BUFFER);
  /** Read buffer while a large body streams (fewer, larger reads and writes); dropped when the connection is released. */
  big: Buffer | undefined;
  exchange: Exchange | undefined;
  /** TLS only: the chunk decrypted records go into, and how much of it was handed out (never read into again). */
  chunk: Buffer | undefined;
  filled = 0;
  /** Carried at least one complete exchange (a failure before any response byte may be a stale keep-alive). */
  used = false;
  connected = false;
  /** Paused by an exchange: only then is `resume` called (a stream resume costs a tick and a read(0) per request). */
  paused = false;

  constructor(pool: UpstreamPool, t: UpstreamTarget, key: string, session: Buffer | undefined) {
    this.key = key;
    // The buffer for each next read is chosen after the previous one was handed on: large while a large body streams.
    const onread = {
      buffer: (): Buffer => (this.exchange?.streaming === true ? (this.big ??= Buffer.allocUnsafe(BIG_READ_BUFFER)) : this.small),
      callback: (n: number, b: Buffer): boolean => this.onRead(b.subarray(0, n), true),
    };
    const { connectTimeoutMs, idleTimeoutMs } = pool.options;
    let s: Socket | TLSSocket;
    if (t.tls === undefined) s = netConnect({ host: t.address, port: t.port, noDelay: true, onread });
    else {
      // Not one fixed buffer over TLS: one decrypting pass emits several reads (16 KiB records) without stopping when
      // paused (found by test/egress/upstream-client.test.ts). Each record is decrypted into the free space after the
      // previous one in a chunk that is never read into twice (a new chunk when it is full), so consecutive slices are
      // contiguous (the client gets them as one write) and nothing is allocated or emitted per record.
      const tlsRead = {
        buffer: (): Buffer => {
          const want = this.exchange?.streaming === true ? BIG_READ_BUFFER : READ_BUFFER;
          if (this.chunk === undefined || this.chunk.length - this.filled < MIN_FREE || (want === BIG_READ_BUFFER && this.chunk.length < want)) {
            this.chunk = Buffer.allocUnsafe(want);
            this.filled = 0;
          }
          return this.chunk.subarray(this.filled);
        },
        callback: (n: number, b: Buffer): boolean => {
          this.filled += n;
          return this.onRead(b.subarray(0, n), false);
        },
      };
      const opts: ConnectionOptions = { host: t.address, port: t.port, secureContext: t.tls.context, ALPNProtocols: ['http/1.1'], ...(t.tls.servername === undefined ? {} : { servername: t.tls.servername }), ...(session === undefined ? {} : { session }) };
      // tls.connect honours `onread` like net.connect (its typings omit it).
      s = tlsConnect({ ...opts, onread: tlsRead } as ConnectionOptions);
    }
    this.socket = s;
    if (t.tls !== undefined) s.setNoDelay(true);
    s.setTimeout(connectTimeoutMs);
    s.once(t.tls === undefined ? 'connect' : 'secureConnect', () => {
      this.connected = true;
      s.setTimeout(idleTimeoutMs);
    });
    if (t.tls !== undefined) s.on('session', (sess: Buffer) => pool.saveSession(key, sess));
    s.on('timeout', () => {
      const ex = this.exchange;
      s.destroy();
      ex?.fail('timeout');
    });
    s.on('drain', () => this.exchange?.handlers.drain());
    s.on('error', (e: NodeJS.ErrnoException) => this.exchange?.fail(e));
    s.on('end', () => this.exchange?.onEof());
    s.on('close', () => {
      pool.forget(this);
      this.exchange?.fail(Object.assign(new Error('the upstream closed the connection'), { code: 'ECONNRESET' }));
    });
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  /** `reused`: `bytes` is this connection's read buffer (read into again unless the exchange pauses). */
  private onRead(bytes: Buffer, reused: boolean): boolean {
    const ex = this.exchange;
    // Bytes on an idle connection belong to no request: the connection is dropped.
    if (ex === undefined) {
      this.socket.destroy();
      return false;
    }
    ex.onBytes(bytes, reused);
    return true;
  }
}

export class UpstreamPool {
  readonly options: PoolOptions;
  readonly #free = new Map<string, Connection[]>();
  readonly #sessions = new Map<string, Buffer>();
  #destroyed = false;

  constructor(options: PoolOptions) {
    this.options = options;
  }

  /** A new exchange; nothing is connected or sent before its first `write` or `end`. */
  request(t: UpstreamTarget, r: UpstreamRequest, handlers: ExchangeHandlers): Exchange {
    return new Exchange(this, t, r, handlers);
  }

  /** A pooled idle connection to the target, or a new one. */
  acquire(t: UpstreamTarget, fresh: boolean): Connection {
    const key = `${t.address}|${t.port}|${t.tls === undefined ? '' : `tls:${t.tls.servername ?? ''}`}`;
    const list = fresh ? undefined : this.#free.get(key);
    let c = list?.pop();
    while (c !== undefined && (c.socket.destroyed || !c.socket.readable)) c = list?.pop();
    if (list?.length === 0) this.#free.delete(key);
    return c ?? new Connection(this, t, key, this.#sessions.get(key));
  }

  release(c: Connection): void {
    if (this.#destroyed || c.socket.destroyed) {
      c.socket.destroy();
      return;
    }
    c.used = true;
    const list = this.#free.get(c.key) ?? [];
    if (list.length >= (this.options.maxFreePerKey ?? 64)) {
      c.socket.destroy();
      return;
    }
    list.push(c);
    this.#free.set(c.key, list);
  }

  forget(c: Connection): void {
    const list = this.#free.get(c.key);
    if (list === undefined) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#free.delete(c.key);
  }

  saveSession(key: string, session: Buffer): void {
    if (this.#sessions.size >= 256 && !this.#sessions.has(key)) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    this.#sessions.set(key, session);
  }

  destroy(): void {
    this.#destroyed = true;
    for (const list of this.#free.values()) for (const c of list) c.socket.destroy();
    this.#free.clear();
  }
}

type Phase = 'idle' | 'head' | 'body' | 'done';

export class Exchange {
  readonly handlers: ExchangeHandlers;
  readonly #pool: UpstreamPool;
  readonly #target: UpstreamTarget;
  readonly #request: UpstreamRequest;
  #conn: Connection | undefined;
  #phase: Phase = 'idle';
  #head: string | undefined;
  #partial: Buffer | undefined;
  #framing: Framing = { kind: 'none' };
  #left = 0;
  #chunked: ChunkedDecoder | undefined;
  #reuse = false;
  #ended = false;
  #wroteBody = false;
  #retried = false;
  #paused = false;
  #releaseOnResume = false;
  #gotBytes = false;

  constructor(pool: UpstreamPool, t: UpstreamTarget, r: UpstreamRequest, handlers: ExchangeHandlers) {
    this.#pool = pool;
    this.#target = t;
    this.#request = r;
    this.handlers = handlers;
  }

  /** Request body bytes (the head goes with the first); false: wait for `drain`. */
  write(chunk: Buffer): boolean {
    if (this.#phase === 'done' || chunk.length === 0) return true;
    const s = this.#start();
    if (s === undefined) return true;
    this.#wroteBody = true;
    if (this.#request.body !== 'chunked') return s.write(chunk);
    s.cork();
    s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    s.write(chunk);
    const ok = s.write('\r\n', 'latin1');
    s.uncork();
    return ok;
  }

  /**
   * Request body pieces held until the whole body was scanned, written at once: corked on a plain socket, so it takes
   * them as one writev (as many as it accepts per system call) instead of one write per piece; false: wait for `drain`.
   */
  writeMany(chunks: readonly Buffer[]): boolean {
    if (this.#phase === 'done' || chunks.length === 0) return true;
    const s = this.#start();
    if (s === undefined) return true;
    // A TLS socket joins a corked writev into one buffer (a copy of the whole body): there, one write per piece.
    const cork = (s as { encrypted?: unknown }).encrypted !== true;
    if (cork) s.cork();
    let ok = true;
    for (const c of chunks) ok = this.write(c);
    if (cork) s.uncork();
    return ok;
  }

  end(): void {
    if (this.#phase === 'done' || this.#ended) return;
    const s = this.#start();
    this.#ended = true;
    if (s !== undefined && this.#request.body === 'chunked') s.write('0\r\n\r\n', 'latin1');
  }

  pause(): void {
    this.#paused = true;
    this.#conn?.pause();
  }

  resume(): void {
    this.#paused = false;
    const c = this.#conn;
    if (c === undefined) return;
    if (this.#releaseOnResume) {
      this.#releaseOnResume = false;
      this.#release(c);
      return;
    }
    c.resume();
  }

  destroy(): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    this.#conn?.socket.destroy();
    this.#conn = undefined;
  }

  #start(): Socket | undefined {
    if (this.#conn !== undefined) return this.#conn.socket;
    try {
      this.#head ??= serializeHead(this.#request);
    } catch (e) {
      this.fail(e as NodeJS.ErrnoException);
      return undefined;
    }
    const c = this.#pool.acquire(this.#target, this.#retried);
    c.exchange = this;
    this.#conn = c;
    this.#phase = 'head';
    // An exchange paused before it started keeps its connection paused; a pooled one was resumed when released.
    if (this.#paused) c.pause();
    c.socket.write(this.#head, 'latin1');
    return c.socket;
  }

  onBytes(bytes: Buffer, reused: boolean): void {
    this.#gotBytes = true;
    if (this.#phase === 'head') {
      const data = this.#partial === undefined ? bytes : Buffer.concat([this.#partial, bytes]);
      this.#partial = undefined;
      let at = 0;
      for (;;) {
        let parsed: ReturnType<typeof parseResponseHead>;
        let f: Framing;
        try {
          parsed = parseResponseHead(at === 0 ? data : data.subarray(at), this.#pool.options.maxHeaderBytes);
          if (parsed === undefined) {
            // The read buffer is reused: keep a copy of the incomplete head.
            this.#partial = Buffer.from(data.subarray(at));
            return;
          }
          if (parsed.head.statusCode < 200) {
            if (parsed.head.statusCode === 101) throw new ResponseHeadError('the upstream switched protocols without being asked to');
            at += parsed.length;
            continue;
          }
          f = framing(parsed.head, this.#request.method);
        } catch (e) {
          this.fail(e as NodeJS.ErrnoException);
          return;
        }
        at += parsed.length;
        this.#framing = f;
        this.#reuse = reusable(parsed.head, f);
        this.#phase = 'body';
        if (f.kind === 'length') this.#left = f.length;
        if (f.kind === 'chunked') this.#chunked = new ChunkedDecoder();
        this.handlers.head(parsed.head, f);
        if (this.#phase !== 'body') return;
        if (f.kind === 'none' || (f.kind === 'length' && f.length === 0)) {
          if (at < data.length) this.#reuse = false;
          this.#complete();
          return;
        }
        if (at < data.length) this.#body(data.subarray(at), reused && data === bytes);
        return;
      }
    }
    if (this.#phase === 'body') this.#body(bytes, reused);
  }

  #body(bytes: Buffer, reused: boolean): void {
    const f = this.#framing;
    if (f.kind === 'close') {
      this.handlers.body(bytes, reused);
      return;
    }
    if (f.kind === 'length') {
      const take = Math.min(this.#left, bytes.length);
      this.#left -= take;
      if (take < bytes.length) this.#reuse = false;
      this.handlers.body(take === bytes.length ? bytes : bytes.subarray(0, take), reused);
      if (this.#left === 0 && this.#phase === 'body') this.#complete();
      return;
    }
    const d = this.#chunked;
    if (d === undefined) return;
    let at: number;
    try {
      at = d.push(bytes, 0, (slice) => {
        if (this.#phase === 'body') this.handlers.body(slice, reused);
      });
    } catch (e) {
      this.fail(e as NodeJS.ErrnoException);
      return;
    }
    if (d.done && this.#phase === 'body') {
      if (at < bytes.length) this.#reuse = false;
      this.#complete();
    }
  }

  onEof(): void {
    if (this.#phase === 'body' && this.#framing.kind === 'close') {
      this.#reuse = false;
      this.#complete();
      return;
    }
    this.fail(Object.assign(new Error('the upstream closed the connection before the response was complete'), { code: 'ECONNRESET' }));
  }

  #complete(): void {
    const c = this.#conn;
    this.#phase = 'done';
    // A request whose body was not finished cannot leave the connection in a known state.
    if (!this.#ended) this.#reuse = false;
    this.handlers.end();
    if (c === undefined) return;
    if (!this.#reuse) {
      c.exchange = undefined;
      c.socket.destroy();
      this.#conn = undefined;
      return;
    }
    // The last slice may still be queued for the client: the buffer is not read into before the caller resumes.
    if (this.#paused) this.#releaseOnResume = true;
    else this.#release(c);
  }

  /**
   * A Content-Length body under way on a plain TCP connection with more than `min` bytes to come: its socket and
   * how many body bytes are left, for a caller that moves them itself (the zero-copy relay) while the exchange is
   * paused. Undefined otherwise (TLS, another framing, nearly done).
   */
  bodyRest(min: number): { readonly socket: Socket; readonly left: number } | undefined {
    const c = this.#conn;
    if (c === undefined || this.#phase !== 'body' || this.#framing.kind !== 'length' || this.#left <= min || this.#target.tls !== undefined) return undefined;
    return { socket: c.socket, left: this.#left };
  }

  /** The caller moved `n` body bytes itself (`bodyRest`): the exchange completes when none is left; resume it then to release the connection. */
  bodyMoved(n: number): void {
    if (this.#phase !== 'body' || this.#framing.kind !== 'length') return;
    this.#left -= Math.min(n, this.#left);
    if (this.#left === 0) this.#complete();
  }

  /** In the body of a response with more than one small read buffer still to come. */
  get streaming(): boolean {
    return this.#phase === 'body' && (this.#framing.kind !== 'length' || this.#left > READ_BUFFER);
  }

  #release(c: Connection): void {
    c.exchange = undefined;
    c.big = undefined;
    if (c.chunk !== undefined && c.chunk.length > READ_BUFFER) c.chunk = undefined;
    this.#conn = undefined;
    c.resume();
    this.#pool.release(c);
  }

  /** Ends the exchange with an error (a stale pooled connection failing before any response byte: retried once on a new one when no body was sent). */
  fail(e: NodeJS.ErrnoException | 'timeout'): void {
    if (this.#phase === 'done') return;
    const c = this.#conn;
    if (c !== undefined) {
      c.exchange = undefined;
      c.socket.destroy();
    }
    this.#conn = undefined;
    if (e !== 'timeout' && c?.used === true && !this.#gotBytes && !this.#wroteBody && !this.#retried && this.#ended) {
      this.#retried = true;
      this.#phase = 'idle';
      this.#ended = false;
      this.end();
      return;
    }
    this.#phase = 'done';
    if (e === 'timeout') this.handlers.timeout();
    else this.handlers.error(e);
  }
}
