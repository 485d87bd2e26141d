/**
 * Plain HTTP forwarding (absolute-form requests). The request target is
 * canonicalised, decided as an `Http(...)` subject, resolved and checked by
 * the gate, scanned, and sent to the exact checked address with the parsed
 * and normalised path; the Host header is rewritten to the target.
 */
import { formatSubject } from '../policy/subject-format.js';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { brokerUpstream } from '../broker/proxy-route.js';
import { isCordonError } from '../errors.js';
import { BodyHold } from './approval-hold.js';
import type { ProxyContext } from './context.js';
import { scan } from './context.js';
import { forwardHeaders, rawHeader } from './headers.js';
import { formatAuthority, formatHost, hostFromUrl } from './hostname.js';
import type { Refusal } from './refusal.js';
import { refusalBody, refusalHeaders } from './refusal.js';
import { giveSlabs, SLAB_BYTES, SLAB_ROOM, takeSlab, type Slab } from './body-slabs.js';
import { NOOP_SCANNER, type RequestScanner, type ScanContext, type ScanResult } from './scanner.js';
import { framing, type Framing } from './response-head.js';
import { Exchange, type ExchangeHandlers, type UpstreamRequest } from './upstream-http.js';
import { canRelay, startRelay, whenFlushed, type Relay, type RelayEnd } from './zero-copy.js';

/** Sends a refusal on a response not yet started; closes the connection when the request body was not read. */
export function sendRefusal(res: ServerResponse, r: Refusal, close: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(refusalBody(r), 'utf8');
  const headers = refusalHeaders(r, body.length);
  if (close) headers.push('Connection', 'close');
  res.writeHead(r.status, headers);
  res.end(body);
  if (close) res.once('finish', () => res.socket?.destroySoon());
}

export function malformed(subject: string, reason: string, status = 400): Refusal {
  return { kind: 'malformed', status, subject, rule: 'proxy protocol', reason, mandatory: false };
}

export function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}

export async function handleHttpRequest(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const rawUrl = req.url ?? '';
  const method = req.method ?? 'GET';
  const bodyPending = hasBody(req);
  if (!/^http:\/\//i.test(rawUrl)) {
    const why = /^https:\/\//i.test(rawUrl)
      ? 'https:// URLs must go through a CONNECT tunnel (set HTTPS_PROXY); the proxy does not originate TLS for plain requests.'
      : 'This is cordon\'s egress proxy: send absolute-form requests (GET http://host/path) or CONNECT.';
    sendRefusal(res, malformed(`Http(${method} ?)`, why), true);
    return;
  }
  let target: ReturnType<typeof hostFromUrl>;
  let path: string;
  try {
    target = hostFromUrl(rawUrl);
    path = target.path;
  } catch (e) {
    const why = isCordonError(e) ? e.message : 'The request URL could not be parsed.';
    const r = malformed(`Http(${method} ?)`, `${why} Refused.`);
    ctx.gate.record(r);
    sendRefusal(res, r, true);
    return;
  }
  await scanDecideForward(ctx, req, res, { method, host: target.host, port: target.port, path, scheme: 'http', bodyPending });
}

/** One HTTP request whose target is known: plain (absolute form) or inside an inspected TLS tunnel. */
export interface HttpTarget {
  readonly method: string;
  readonly host: Parameters<typeof formatHost>[0];
  readonly port: number;
  /** Path and query. */
  readonly path: string;
  readonly scheme: 'http' | 'https';
  readonly bodyPending: boolean;
  /** Upstream TLS (inspected tunnels only). */
  readonly tls?: { readonly servername: string | undefined };
}

/**
 * The authority for the URL scan: the host as the client wrote it (absolute-form target, else the Host header)
 * when it differs from the canonical one only by case, so the DLP's label rules see it (base64 and upper-case
 * base32 labels are told by their case); else the canonical authority.
 */
function writtenAuthority(req: IncomingMessage, authority: string): string {
  const target = req.url ?? '';
  const written = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#@]+)/.exec(target)?.[1] ?? req.headers.host;
  const host = written !== undefined && !authority.includes(':') ? written.replace(/:(?:80|443)$/, '') : written;
  return host !== undefined && host !== authority && host.toLowerCase() === authority ? host : authority;
}

/**
 * Scans the URL and headers, decides (holding the body when a person is
 * asked), then forwards. The scan comes first: before the policy resolves the
 * name (an encoded secret in a label never becomes a DNS query) and before a
 * person is asked about the request.
 */
export async function scanDecideForward(ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, t: HttpTarget): Promise<void> {
  const { method, host, port, path } = t;
  const authority = port === (t.scheme === 'http' ? 80 : 443) ? formatHost(host) : formatAuthority(host, port);
  const headers = forwardHeaders(req.rawHeaders, authority);
  const subject = { kind: 'Http', method, host, port, path } as const;
  // One scan context for the whole request: the credential route is keyed by it.
  const sc: ScanContext = { subject: formatSubject(subject), method, host: authority, port };
  const scanned = ctx.scanner === NOOP_SCANNER ? authority : writtenAuthority(req, authority);
  const found = ctx.scanner === NOOP_SCANNER ? undefined : (await scan(ctx, sc, (s) => s.url(sc, `${t.scheme}://${scanned}${path}`))) ?? (await scan(ctx, sc, (s) => s.headers(sc, headers)));
  if (found !== undefined) {
    sendRefusal(res, found, t.bodyPending);
    return;
  }
  // An `ask` held for a person reads the whole body first (its hash is what is approved) and replays it.
  const hold = new BodyHold(req, ctx.limits.maxScannedBodyBytes);
  const verdict = await ctx.gate.check(subject, (s) => hold.read(s));
  if (hold.held) req.socket.setTimeout(ctx.limits.idleTimeoutMs);
  if (!verdict.ok) {
    sendRefusal(res, verdict.refusal, t.bodyPending && !hold.held);
    return;
  }
  const first = verdict.addresses[0];
  if (first === undefined) return;
  forward(ctx, hold.held ? hold.replay() : req, res, { address: first.address, family: first.family, port, method, path, headers, sc, body: bodyFraming(headers, t.bodyPending), ...(t.tls === undefined ? {} : { tls: t.tls }) });
}

export interface Outbound {
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
  readonly method: string;
  readonly path: string;
  readonly headers: string[];
  readonly sc: ScanContext;
  /** Upstream over TLS (inspected tunnels): verified against the proxy's roots for `servername` (absent for IP hosts: the address is checked). */
  readonly tls?: { readonly servername: string | undefined };
  /** Request body framing upstream: none, as-is under its Content-Length, or chunked by the proxy (default: chunked when the request has a body). */
  readonly body?: UpstreamRequest['body'];
}

/** Request body framing upstream for a request with `headers` (already forwarded) and a body or not. */
export function bodyFraming(headers: readonly string[], bodyPending: boolean): UpstreamRequest['body'] {
  if (!bodyPending) return 'none';
  return rawHeader(headers, 'content-length') === undefined ? 'chunked' : 'length';
}

/** Where request body bytes go: the proxy's own upstream client, or a Node request to the credential broker. */
interface BodySink {
  write(chunk: Buffer): boolean;
  /** Several pieces at once (a held body), where the sink can take them in fewer system calls. */
  writeMany?(chunks: readonly Buffer[]): boolean;
  end(): void;
  destroy(): void;
  pause(): void;
  resume(): void;
}

/**
 * With DLP on, a request body's first batch goes to the scanner at this many bytes (2 MiB: a body that reaches it
 * goes to the DLP's worker, see OFFLOAD_MIN in src/dlp/proxy-scanner.ts); the next ones are slabs (SLAB_BYTES, 4 MiB:
 * each hand-over to the worker is a message and a wake-up of both threads, ~0.4 ms on this one here).
 */
const SCAN_BATCH = 2 * 1024 * 1024;

/**
 * Body bytes received and waiting for their scan before the client is paused: a scanner that works beside this
 * thread (the DLP's worker) scans one batch while the next arrives. The body is held whole either way. (8 MiB slabs
 * with this bound were slower: the pauses and the scan left after the body's end grew.)
 */
const SCAN_AHEAD = 4 * 1024 * 1024;

/** Most bytes of fresh response buffers gathered before they are written to the client. */
const GATHER_MAX = 1024 * 1024;

/** Response bodies up to this size whose head and body are complete are sent to the client in one write. */
const SMALL_BODY = 16 * 1024;

/**
 * Content-Length bodies with more than this many bytes left after their first read go from the upstream socket to
 * the client socket by the zero-copy relay (both plain TCP; src/egress/zero-copy.ts): below it the hand-over (a
 * flush, a pipe, two polled descriptors) costs more than the copies it saves.
 */
const RELAY_MIN = 256 * 1024;

/** The body relay's pipe: 1 MiB (a download lasts seconds; ~100 wake-ups per 100 MB, 64 of them at once fill the default per-user pipe quota). */
const RELAY_PIPE = 1024 * 1024;

interface TotalTimer {
  readonly timer: NodeJS.Timeout;
  /** The request it times now (undefined: none; the timer may still run and then does nothing). */
  fire: (() => void) | undefined;
}

/**
 * One total-timeout timer per client socket, re-armed with refresh() for each request it carries: a timer
 * created and cleared per request costs timer-list work on the keep-alive path. Cleared when the socket closes.
 */
const totalTimers = new WeakMap<Socket, TotalTimer>();

/** Arms the total timeout of one request on `socket`; returns what disarms it. */
function armTotal(socket: Socket | null, ms: number, fire: () => void): () => void {
  const t = socket === null ? undefined : totalTimers.get(socket);
  if (t !== undefined && t.fire === undefined) {
    t.fire = fire;
    t.timer.refresh();
    return () => {
      if (t.fire === fire) t.fire = undefined;
    };
  }
  // No socket, or a second request on it at the same time (pipelined): a timer of its own.
  if (socket === null || t !== undefined) {
    const own = setTimeout(fire, ms);
    return () => clearTimeout(own);
  }
  const rec: TotalTimer = {
    timer: setTimeout(() => {
      const f = rec.fire;
      rec.fire = undefined;
      f?.();
    }, ms),
    fire,
  };
  // The request's sockets keep the process alive while it runs; an idle connection's timer must not.
  rec.timer.unref();
  totalTimers.set(socket, rec);
  socket.once('close', () => clearTimeout(rec.timer));
  return () => {
    if (rec.fire === fire) rec.fire = undefined;
  };
}

export function forward(ctx: ProxyContext, req: Readable, res: ServerResponse, o: Outbound): void {
  const { limits } = ctx;
  let done = false;
  let headDone = false;
  let onDrain = (): void => undefined;
  const disarm = armTotal(res.socket, limits.totalTimeoutMs, () => fail(upstreamRefusal(o, `The request took longer than ${limits.totalTimeoutMs} ms.`, 504)));
  // The zero-copy relay of the body (from the head until it is done): while set, the upstream stays paused.
  let relaying = false;
  let relay: Relay | undefined;
  const finish = (): void => {
    done = true;
    disarm();
    relay?.cancel();
    relay = undefined;
  };
  function fail(r: Refusal): void {
    if (done) return;
    finish();
    upstream.destroy();
    if (r.kind === 'dlp' || r.kind === 'limit') ctx.gate.record(r);
    // Once the response head is out (or stored), the client can only be cut.
    if (headDone) res.destroy();
    else sendRefusal(res, r, true);
  }
  // How response body bytes reach the client: held until complete (small, one write with the head),
  // straight onto the client socket after the head (Content-Length; no re-framing), or through the response (copied).
  let mode: 'small' | 'direct' | 'copy' = 'copy';
  let small: Buffer[] = [];
  let bytes = 0;
  let paused = false;
  // Slices of the upstream's read buffer written and not yet flushed: the upstream reads again when none is left
  // (counted, not `writableLength`, which also holds the response's own bytes and may never be seen at 0 here).
  let slicesOut = 0;
  const resumeAfterWrite = (): void => {
    slicesOut -= 1;
    if (paused && slicesOut === 0 && !relaying) {
      paused = false;
      upstream.resume();
    }
  };
  // Fresh memory: gathered while one write of it is on its way to the client, then written (the upstream is
  // paused only when GATHER_MAX bytes wait behind that write). Records decrypted into one chunk are one piece;
  // pieces are written one by one, not concatenated (a copy) or corked (a writev, which the TLS socket copies).
  let gathered: Buffer[] = [];
  let gatheredBytes = 0;
  let flushQueued = false;
  let writing = false;
  /** Writes what is gathered; `then` runs when the last piece was written. */
  const writeGathered = (sock: NonNullable<ServerResponse['socket']>, then?: () => void): void => {
    const pieces = gathered;
    gathered = [];
    gatheredBytes = 0;
    for (let i = 0; i < pieces.length; i += 1) sock.write(pieces[i] ?? Buffer.alloc(0), i === pieces.length - 1 ? then : undefined);
  };
  const flushGathered = (): void => {
    flushQueued = false;
    const sock = res.socket;
    if (gatheredBytes === 0 || sock === null || done || writing) return;
    writing = true;
    writeGathered(sock, afterGathered);
  };
  function afterGathered(): void {
    writing = false;
    flushGathered();
    if (paused && gatheredBytes < GATHER_MAX) {
      paused = false;
      upstream.resume();
    }
  }
  const onResDrain = (): void => {
    if (!paused) return;
    paused = false;
    upstream.resume();
  };
  const handlers: ExchangeHandlers = {
    head(h, f) {
      if (done) return;
      headDone = true;
      res.writeHead(h.statusCode, h.statusMessage, forwardHeaders(h.rawHeaders));
      if (f.kind === 'length' && f.length <= SMALL_BODY) mode = 'small';
      else if (f.kind === 'length' && res.socket !== null && !res.chunkedEncoding) {
        mode = 'direct';
        res.flushHeaders();
        // A large body between two plain TCP sockets: the kernel moves it (within the response body limit).
        const rest = upstream instanceof Exchange && f.length <= limits.maxResponseBodyBytes ? upstream.bodyRest(RELAY_MIN) : undefined;
        if (rest !== undefined && canRelay(rest.socket, res.socket)) {
          relaying = true;
          paused = true;
          upstream.pause();
          // After the bytes of this read (written below, by `body`) are on their way.
          process.nextTick(startBodyRelay);
        }
      }
    },
    body(slice, reused) {
      if (done) return;
      bytes += slice.length;
      if (bytes > limits.maxResponseBodyBytes) {
        ctx.log(`response body over ${limits.maxResponseBodyBytes} bytes from ${o.sc.subject}; connection cut`);
        finish();
        upstream.destroy();
        res.destroy();
        return;
      }
      if (mode === 'small') {
        small.push(reused ? Buffer.from(slice) : slice);
        return;
      }
      const sock = res.socket;
      if (mode === 'direct' && sock !== null) {
        if (reused) {
          // The slice is the upstream's read buffer: not read into again until the client socket took it.
          slicesOut += 1;
          sock.write(slice, resumeAfterWrite);
          if (sock.writableLength > 0 && !paused) {
            paused = true;
            upstream.pause();
          }
        } else {
          // Fresh memory (TLS upstreams: 16 KiB records) is gathered per tick and written as one (one TLS record run, one syscall);
          // records decrypted one after another into the same chunk are joined without a copy.
          const last = gathered.length === 0 ? undefined : gathered[gathered.length - 1];
          if (last !== undefined && last.buffer === slice.buffer && last.byteOffset + last.length === slice.byteOffset) {
            gathered[gathered.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + slice.length);
          } else gathered.push(slice);
          gatheredBytes += slice.length;
          if (writing) {
            if (gatheredBytes >= GATHER_MAX && !paused) {
              paused = true;
              upstream.pause();
            }
          } else if (gatheredBytes >= GATHER_MAX) flushGathered();
          else if (!flushQueued) {
            flushQueued = true;
            process.nextTick(flushGathered);
          }
        }
        return;
      }
      if (!res.write(reused ? Buffer.from(slice) : slice) && !paused) {
        paused = true;
        upstream.pause();
        res.once('drain', onResDrain);
      }
    },
    end() {
      if (done) return;
      // What is still gathered goes now, queued behind a write on its way (the socket keeps the order).
      if (gatheredBytes > 0 && res.socket !== null) writeGathered(res.socket);
      finish();
      if (mode === 'small') {
        const body = small.length === 1 ? small[0] : Buffer.concat(small);
        small = [];
        res.end(body);
      } else res.end();
      // Paused for a 'drain' of the response: once it is ending no 'drain' comes, and the upstream connection would
      // stay unreleased until its idle timeout. Through the response every byte was copied: release it now.
      if (paused && mode !== 'direct') {
        paused = false;
        upstream.resume();
      }
    },
    drain: () => onDrain(),
    error: (e) => fail(upstreamRefusal(o, e.code === 'CORDON_EGRESS_PROXY' ? `The upstream's response could not be forwarded: ${e.message}.` : `The upstream connection failed (${e.code ?? e.message}).`, 502)),
    timeout: () => fail(upstreamRefusal(o, `The upstream server sent nothing for ${limits.idleTimeoutMs} ms.`, 504)),
  };
  /** Moves the rest of a Content-Length body with the zero-copy relay once the client socket took everything before it. */
  function startBodyRelay(): void {
    const sock = res.socket;
    const rest = upstream instanceof Exchange ? upstream.bodyRest(0) : undefined;
    if (done || sock === null || rest === undefined) return backToJs();
    whenFlushed(sock, () => {
      const now = upstream instanceof Exchange ? upstream.bodyRest(0) : undefined;
      if (done || now === undefined || sock.destroyed) return backToJs();
      relay = startRelay(now.socket, sock, { max: now.left, halfClose: false, pipeBytes: RELAY_PIPE, onDone: (e) => bodyRelayed(now.left, e) });
      if (relay === undefined) backToJs();
    });
  }
  /** The relay could not start (or is not needed any more): the upstream is read by the proxy again. */
  function backToJs(): void {
    if (!relaying) return;
    relaying = false;
    if (done || slicesOut > 0) return;
    paused = false;
    upstream.resume();
  }
  function bodyRelayed(left: number, e: RelayEnd): void {
    relay = undefined;
    if (done) return;
    if (e.error !== undefined || e.moved < left) {
      fail(upstreamRefusal(o, e.error === undefined ? 'The upstream closed the connection before the response was complete.' : `The response body could not be relayed (${e.error}).`, 502));
      return;
    }
    relaying = false;
    bytes += e.moved;
    if (!(upstream instanceof Exchange)) return;
    // Completes the exchange (the `end` handler ends the response), then releases the connection for keep-alive.
    upstream.bodyMoved(e.moved);
    paused = false;
    upstream.resume();
  }
  const body = o.body ?? 'chunked';
  // A request carrying a credential placeholder where it belongs goes to the credential broker instead (src/broker/proxy-route.ts).
  const broker = brokerUpstream(ctx, o);
  const upstream: BodySink = broker === undefined
    ? ctx.pool.request(
      { address: o.address, port: o.port, ...(o.tls === undefined || ctx.tls === undefined ? {} : { tls: { servername: o.tls.servername, context: ctx.tls.upstreamContext() } }) },
      { method: o.method, path: o.path, headers: o.headers, body },
      handlers,
    )
    : nodeRequestSink(broker, o.method, limits.idleTimeoutMs, handlers);
  res.on('close', () => {
    if (!res.writableFinished && !done) {
      finish();
      upstream.destroy();
    }
  });
  pumpRequestBody(ctx, req, upstream, o, body, fail, (f) => (onDrain = f));
}

/** A Node client request (the broker route) behind the same handlers as the proxy's own client. */
function nodeRequestSink(cr: ClientRequest, method: string, idleTimeoutMs: number, h: ExchangeHandlers): BodySink {
  let up: IncomingMessage | undefined;
  cr.on('response', (r) => {
    up = r;
    const head = { statusCode: r.statusCode ?? 502, statusMessage: r.statusMessage ?? '', minor: 1 as const, rawHeaders: r.rawHeaders };
    let f: Framing;
    try {
      f = framing(head, method);
    } catch {
      f = { kind: 'close' };
    }
    h.head(head, f.kind === 'chunked' ? { kind: 'close' } : f);
    r.on('data', (c: Buffer) => h.body(c, false));
    r.on('end', () => h.end());
    r.on('error', (e: NodeJS.ErrnoException) => h.error(e));
  });
  cr.on('error', (e: NodeJS.ErrnoException) => h.error(e));
  cr.on('drain', () => h.drain());
  cr.setTimeout(idleTimeoutMs, () => h.timeout());
  return {
    write: (c) => cr.write(c),
    end: () => void cr.end(),
    destroy: () => void cr.destroy(),
    pause: () => void up?.pause(),
    resume: () => void up?.resume(),
  };
}

function upstreamRefusal(o: Outbound, reason: string, status: number): Refusal {
  return { kind: 'upstream', status, subject: o.sc.subject, rule: 'upstream', reason, mandatory: false };
}

/**
 * Request body to upstream. Without DLP it streams. With DLP every chunk is
 * scanned as it arrives but held back; only when the whole body scanned clean
 * is it written, so a finding anywhere means the upstream receives no byte of
 * the body (its headers are not sent either: Node sends them with the body).
 * The first batch is held as the socket reads it came in; from the second on,
 * the reads are copied into shared slabs (body-slabs.ts), each a batch the
 * scanner reads where it is, given back once written upstream.
 */
function pumpRequestBody(ctx: ProxyContext, req: Readable, upstream: BodySink, o: Outbound, bodyMode: UpstreamRequest['body'], fail: (r: Refusal) => void, onDrain: (f: () => void) => void): void {
  if (bodyMode === 'none') {
    // No body: the request goes now (nothing of the client's stream is forwarded).
    upstream.end();
    req.resume();
    return;
  }
  const limit = ctx.limits.maxRequestBodyBytes;
  const scanLimit = Math.min(limit, ctx.limits.maxScannedBodyBytes);
  const encoding = rawHeader(o.headers, 'content-encoding');
  let bytes = 0;
  let failed = false;
  const held: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // From the second batch on: the slabs the body is held in (in order), the one being filled.
  let slabs: Slab[] | undefined;
  let slab: Slab | undefined;
  // Slabs written upstream by a writeMany that is waiting for `drain`: given back at that drain.
  let writing: Slab[] | undefined;
  // Bytes handed to a scan and not scanned yet; the client is paused while they exceed SCAN_AHEAD.
  let unscanned = 0;
  let pausedForScan = false;
  let chain: Promise<void> = Promise.resolve();
  const refuse = (r: Refusal): void => {
    if (failed) return;
    failed = true;
    // Slabs of a refused body are not given back: a scan of one may still be under way.
    held.length = 0;
    slabs = undefined;
    slab = undefined;
    req.pause();
    fail(r);
  };
  const tooBig = (bound: number, why: string): Refusal => ({ kind: 'limit', status: 413, subject: o.sc.subject, rule: why, reason: `The request body is larger than ${bound} bytes; nothing more was sent.`, mandatory: false });
  // Batches are scanned in order, one after the other (a scanner beside this thread scans one while the next arrives).
  const scanBatch = (size: number, run: (s: RequestScanner) => ScanResult | Promise<ScanResult>, then: () => void): void => {
    chain = chain.then(async () => {
      if (failed) return;
      const r = size === 0 ? undefined : await scan(ctx, o.sc, run);
      if (r !== undefined) return refuse(r);
      then();
    });
  };
  const dispatch = (size: number, run: (s: RequestScanner) => ScanResult | Promise<ScanResult>): void => {
    unscanned += size;
    if (unscanned > SCAN_AHEAD && !pausedForScan) {
      pausedForScan = true;
      req.pause();
    }
    scanBatch(size, run, () => {
      unscanned -= size;
      if (pausedForScan && unscanned <= SCAN_AHEAD) {
        pausedForScan = false;
        req.resume();
      }
    });
  };
  // The first batch: the reads as they came, joined by the scanner (or here).
  const dispatchPending = (): void => {
    const pieces = pending;
    const size = pendingBytes;
    pending = [];
    pendingBytes = 0;
    dispatch(size, (s) => (s.bodyChunks !== undefined && pieces.length > 1
      ? s.bodyChunks(o.sc, pieces, encoding)
      : s.bodyChunk(o.sc, pieces.length === 1 && pieces[0] !== undefined ? pieces[0] : Buffer.concat(pieces), encoding)));
  };
  const dispatchSlab = (b: Slab): void => {
    const body = b.body.subarray(0, b.fill);
    held.push(body);
    dispatch(b.fill, (s) => (s.bodyShared !== undefined
      ? s.bodyShared(o.sc, b.mem, SLAB_ROOM, b.fill, SLAB_ROOM, encoding)
      : s.bodyChunk(o.sc, body, encoding)));
  };
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    bytes += chunk.length;
    if (bytes > limit) return refuse(tooBig(limit, 'limit maxRequestBodyBytes'));
    if (ctx.scanner === NOOP_SCANNER) {
      if (!upstream.write(chunk)) req.pause();
      return;
    }
    if (bytes > scanLimit) {
      return refuse({ ...tooBig(scanLimit, 'limit maxScannedBodyBytes'), reason: `The request body is larger than ${scanLimit} bytes, the most the DLP scanner holds; nothing was sent.` });
    }
    if (slabs === undefined) {
      held.push(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < SCAN_BATCH) return;
      dispatchPending();
      slabs = [];
      return;
    }
    for (let at = 0; at < chunk.length;) {
      if (slab === undefined) {
        slab = takeSlab();
        slabs.push(slab);
      }
      const n = Math.min(chunk.length - at, SLAB_BYTES - slab.fill);
      chunk.copy(slab.body, slab.fill, at, at + n);
      slab.fill += n;
      at += n;
      if (slab.fill === SLAB_BYTES) {
        dispatchSlab(slab);
        slab = undefined;
      }
    }
  });
  onDrain(() => {
    if (writing !== undefined) {
      // Every write of the held body is done (the socket's queue is empty): nothing reads the slabs any more.
      giveSlabs(writing);
      writing = undefined;
    }
    if (ctx.scanner === NOOP_SCANNER && !failed) req.resume();
  });
  req.on('end', () => {
    if (ctx.scanner !== NOOP_SCANNER) {
      if (slabs === undefined) dispatchPending();
      else if (slab !== undefined) {
        dispatchSlab(slab);
        slab = undefined;
      }
    }
    chain = chain.then(async () => {
      if (failed) return;
      const r = await scan(ctx, o.sc, (s) => s.bodyEnd(o.sc));
      if (r !== undefined) return refuse(r);
      const body = held.splice(0);
      if (upstream.writeMany !== undefined) {
        // Written at once; false: the slabs are read until the socket's `drain` (true: some may still be, not given back).
        if (!upstream.writeMany(body) && slabs !== undefined && slabs.length > 0) writing = slabs;
      } else for (const c of body) upstream.write(c);
      slabs = undefined;
      upstream.end();
    });
  });
  req.on('error', () => upstream.destroy());
}
