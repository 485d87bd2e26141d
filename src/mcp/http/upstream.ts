/**
 * The gateway's side towards one MCP server, over Streamable HTTP or stdio.
 * Messages the server sends come back through the sink, tagged with the
 * request whose POST stream carried them (so a progress notification reaches
 * the client exchange it belongs to). A request that gets no answer (HTTP
 * error, stream ended early, body over the limit, server gone) is reported
 * through `failed`, which answers the client only if it is still waiting.
 *
 * The client's own credentials never reach the server: an HTTP upstream
 * sends only the headers configured for it (`mcp.servers.<name>.headers`).
 */
import http from 'node:http';
import https from 'node:https';
import { LineFramer, type FrameEvent } from '../framing.js';
import { idKey, isObject, type JsonRpcId, type Message } from '../jsonrpc.js';
import type { ServerProcess } from '../spawn.js';
import { encodeHeaderValue, eraOf, metaVersion, nameOf } from './protocol.js';
import { SseParser } from './sse.js';

export interface UpstreamSink {
  /** One message from the server; `origin` is the id key of the request whose response stream carried it. */
  message(ev: FrameEvent, origin: string | null): void;
  /** A request the server will not answer. */
  failed(id: JsonRpcId, reason: string): void;
  /** The server is gone for good. */
  closed(reason: string): void;
}

export interface Upstream {
  sink: UpstreamSink;
  /** Sends one JSON-RPC message (one line, no newline); `message` is the line parsed, when the caller has it. */
  send(line: string, message?: Message): void;
  /** The protocol version to announce in HTTP headers when a message carries none. */
  version: string | null;
  /** Opens the server's stream of unsolicited messages (HTTP GET), when it has one. */
  listen(): void;
  close(): Promise<void>;
}

const NO_SINK: UpstreamSink = { message: () => undefined, failed: () => undefined, closed: () => undefined };

interface Head {
  readonly id: JsonRpcId | undefined;
  readonly method: string | undefined;
  readonly params: unknown;
}

/** What the HTTP headers are derived from: from the parsed message when the caller has it, else parsed here. */
function head(line: string, m: Message | undefined): Head {
  switch (m?.kind) {
    case 'request':
      return { id: m.id, method: m.method, params: m.params };
    case 'notification':
      return { id: undefined, method: m.method, params: m.params };
    case 'response':
      return { id: m.id, method: undefined, params: undefined };
    case 'invalid':
    case undefined:
  }
  try {
    const o: unknown = JSON.parse(line);
    if (!isObject(o)) return { id: undefined, method: undefined, params: undefined };
    const id = o['id'];
    return {
      id: typeof id === 'string' || typeof id === 'number' ? id : undefined,
      method: typeof o['method'] === 'string' ? o['method'] : undefined,
      params: o['params'],
    };
  } catch {
    return { id: undefined, method: undefined, params: undefined };
  }
}

export interface HttpUpstreamOptions {
  readonly url: URL;
  /** Headers configured for this server (its own credential); never the client's. */
  readonly headers: Readonly<Record<string, string>>;
  readonly maxMessageBytes: number;
  /**
   * The credential broker's Unix socket: every request goes there, with the
   * server's URL as an absolute-form target, and the broker sends it on
   * (swapping a credential's placeholder for its value: upstream-credential.ts).
   */
  readonly via?: string;
  /** How long to wait for the response headers of one POST (default 120 s). */
  readonly timeoutMs?: number;
  readonly log: (line: string) => void;
}

const FORBIDDEN_CONFIGURED = new Set(['host', 'content-length', 'content-type', 'accept', 'mcp-session-id', 'mcp-method', 'mcp-name', 'mcp-protocol-version', 'connection', 'transfer-encoding']);

export class HttpUpstream implements Upstream {
  sink: UpstreamSink = NO_SINK;
  version: string | null = null;
  readonly #o: HttpUpstreamOptions;
  readonly #agent: http.Agent;
  #session: string | null = null;
  #closed = false;
  #listening: http.ClientRequest | null = null;
  readonly #inflight = new Set<http.ClientRequest>();
  /** POSTs of stateless-era (2026-07-28) requests still open, by id key: cancelled by closing them. */
  readonly #stateless = new Map<string, http.ClientRequest>();

  constructor(o: HttpUpstreamOptions) {
    if (o.url.protocol !== 'http:' && o.url.protocol !== 'https:') throw new TypeError(`MCP server URL must be http or https, not ${o.url.protocol}`);
    for (const k of Object.keys(o.headers)) if (FORBIDDEN_CONFIGURED.has(k.toLowerCase())) throw new TypeError(`header ${k} is set by cordon and cannot be configured`);
    this.#o = o;
    this.#agent = o.url.protocol === 'https:' && o.via === undefined ? new https.Agent({ keepAlive: true, maxSockets: 32 }) : new http.Agent({ keepAlive: true, maxSockets: 32 });
  }

  #request(method: string, headers: Record<string, string>): http.ClientRequest {
    const all = { ...this.#o.headers, ...headers };
    const via = this.#o.via;
    // Through the broker: plain HTTP on its socket, the destination in the target; it sets Host and speaks TLS upstream.
    const req = via !== undefined
      ? http.request({ socketPath: via, method, path: this.#o.url.href, agent: this.#agent, headers: { host: this.#o.url.host, ...all }, setHost: false })
      : (this.#o.url.protocol === 'https:' ? https : http).request(this.#o.url, { method, agent: this.#agent, headers: all });
    this.#inflight.add(req);
    req.once('close', () => this.#inflight.delete(req));
    req.setTimeout(this.#o.timeoutMs ?? 120_000, () => req.destroy(new Error('no response in time')));
    return req;
  }

  #headers(h: Head): Record<string, string> {
    const out: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (h.method !== undefined) out['mcp-method'] = h.method;
    const name = h.method === undefined ? null : nameOf(h.method, h.params);
    if (name !== null) out['mcp-name'] = encodeHeaderValue(name);
    const v = metaVersion(h.params) ?? this.version;
    if (v !== null && h.method !== 'initialize') out['mcp-protocol-version'] = v;
    if (this.#session !== null) out['mcp-session-id'] = this.#session;
    return out;
  }

  send(line: string, message?: Message): void {
    if (this.#closed) return;
    const h = head(line, message);
    if (h.method === 'notifications/cancelled' && this.#cancelByClosing(h.params)) return;
    const isRequest = h.id !== undefined && h.method !== undefined;
    const fail = (why: string): void => {
      if (isRequest && h.id !== undefined) this.sink.failed(h.id, `the MCP server did not answer: ${why}`);
      else this.#o.log(`cordon mcp: a message to the server was not delivered: ${why}`);
    };
    const headers = this.#headers(h);
    const req = this.#request('POST', headers);
    if (isRequest && h.id !== undefined && eraOf(headers['mcp-protocol-version'] ?? null) === 'stateless') {
      const key = idKey(h.id);
      this.#stateless.set(key, req);
      req.once('close', () => {
        if (this.#stateless.get(key) === req) this.#stateless.delete(key);
      });
    }
    req.once('error', (e) => fail(e.message));
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      // A subscription's stream lives as long as the client keeps it: no idle limit once it is answered.
      if (h.method === 'subscriptions/listen') req.setTimeout(0);
      const sid = res.headers['mcp-session-id'];
      if (h.method === 'initialize' && status < 300 && typeof sid === 'string' && /^[\x21-\x7e]{1,256}$/.test(sid)) this.#session = sid;
      const ctype = (res.headers['content-type'] ?? '').toLowerCase();
      if (status === 202 || status === 204) {
        res.resume();
        if (isRequest) fail(`it accepted the request (HTTP ${status}) without a response`);
        return;
      }
      if (status === 404 && this.#session !== null) {
        res.resume();
        this.#session = null;
        fail('its session expired (HTTP 404)');
        return;
      }
      const origin = h.id === undefined ? null : idKey(h.id);
      if (ctype.startsWith('text/event-stream')) {
        this.#readSse(res, origin, () => fail(status >= 300 ? `HTTP ${status}` : 'its event stream ended without a response'));
        return;
      }
      if (ctype.startsWith('application/json')) {
        this.#readJson(res, (text) => {
          if (text !== null) this.sink.message({ kind: 'line', text }, origin);
          if (status >= 300 || text === null) fail(text === null ? `its response is over cordon's limit of ${this.#o.maxMessageBytes} bytes` : `HTTP ${status}`);
        }, origin);
        return;
      }
      res.resume();
      fail(`HTTP ${status} with content type ${JSON.stringify(ctype.slice(0, 60))}`);
    });
    req.end(line);
  }

  /**
   * In the 2026-07-28 era a request is cancelled by closing its stream (the
   * era has no `notifications/cancelled` over HTTP): true when `params` names
   * such a request still open, which is closed here.
   */
  #cancelByClosing(params: unknown): boolean {
    const id = isObject(params) ? params['requestId'] : undefined;
    if (typeof id !== 'string' && typeof id !== 'number') return false;
    const req = this.#stateless.get(idKey(id));
    if (req === undefined) return false;
    this.#stateless.delete(idKey(id));
    req.destroy();
    return true;
  }

  #readJson(res: http.IncomingMessage, done: (text: string | null) => void, origin: string | null): void {
    const max = this.#o.maxMessageBytes;
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    res.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > max) {
        over = true;
        parts.length = 0;
        res.destroy();
        done(null);
        return;
      }
      parts.push(c);
    });
    res.once('end', () => {
      if (over) return;
      const text = (parts.length === 1 ? (parts[0] ?? Buffer.alloc(0)) : Buffer.concat(parts)).toString('utf8');
      if (text.trim() === '') {
        done(null);
        return;
      }
      done(text);
    });
    res.once('error', () => {
      if (!over) {
        over = true;
        done(null);
      }
    });
    void origin;
  }

  #readSse(res: http.IncomingMessage, origin: string | null, ended: () => void): void {
    const parser = new SseParser(this.#o.maxMessageBytes);
    const deliver = (items: ReturnType<SseParser['push']>): void => {
      for (const it of items) {
        if (it.kind === 'oversized') this.sink.message({ kind: 'oversized', bytes: it.bytes, head: it.head }, origin);
        else if (it.event === 'message' && it.data.trim() !== '') this.sink.message({ kind: 'line', text: it.data }, origin); // an empty event primes resumption
      }
    };
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      deliver(parser.end());
      ended();
    };
    res.on('data', (c: Buffer) => deliver(parser.push(c)));
    res.once('end', finish);
    res.once('error', finish);
    res.once('close', finish);
  }

  listen(): void {
    if (this.#closed || this.#listening !== null) return;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.#session !== null) headers['mcp-session-id'] = this.#session;
    if (this.version !== null) headers['mcp-protocol-version'] = this.version;
    const req = this.#request('GET', headers);
    req.setTimeout(0);
    this.#listening = req;
    req.once('error', () => {
      this.#listening = null;
    });
    req.once('response', (res) => {
      const ctype = (res.headers['content-type'] ?? '').toLowerCase();
      if (res.statusCode !== 200 || !ctype.startsWith('text/event-stream')) {
        res.resume();
        return; // the server offers no such stream (405): nothing to relay
      }
      this.#readSse(res, null, () => {
        this.#listening = null;
      });
    });
    req.end();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of this.#inflight) r.destroy();
    if (this.#session !== null) {
      const headers: Record<string, string> = { 'mcp-session-id': this.#session };
      if (this.version !== null) headers['mcp-protocol-version'] = this.version;
      await new Promise<void>((resolve) => {
        const lib = this.#o.url.protocol === 'https:' ? https : http;
        const req = lib.request(this.#o.url, { method: 'DELETE', agent: this.#agent, headers: { ...this.#o.headers, ...headers } });
        req.setTimeout(2000, () => req.destroy());
        req.once('response', (res) => {
          res.resume();
          resolve();
        });
        req.once('error', () => resolve());
        req.end();
      });
    }
    this.#agent.destroy();
    this.sink.closed('the session ended');
  }
}

/** A stdio server behind the HTTP front (one process per upstream connection). */
export class StdioUpstream implements Upstream {
  sink: UpstreamSink = NO_SINK;
  version: string | null = null;
  readonly #server: ServerProcess;
  #closed = false;

  constructor(server: ServerProcess, maxMessageBytes: number, log: (line: string) => void) {
    this.#server = server;
    const framer = new LineFramer(maxMessageBytes);
    server.stdout.on('data', (c: Buffer) => {
      for (const ev of framer.push(c)) this.sink.message(ev, null);
    });
    server.stdout.once('end', () => {
      for (const ev of framer.end()) this.sink.message(ev, null);
    });
    server.stdin.on('error', (e) => log(`cordon mcp: the server's stdin failed: ${e.message}`));
    void server.exited.then((status) => {
      this.#closed = true;
      this.sink.closed(`exit status ${status}`);
    });
  }

  send(line: string): void {
    if (this.#closed || this.#server.stdin.destroyed) return;
    this.#server.stdin.write(`${line}\n`);
  }

  listen(): void {
    // stdio servers send unsolicited messages on the same pipe
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#server.stdin.end();
    this.#server.kill();
    await Promise.race([this.#server.exited, new Promise((r) => setTimeout(r, 3000).unref())]);
  }
}
