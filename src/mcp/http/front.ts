/**
 * The gateway's Streamable HTTP listener on loopback. Before a body is read:
 * Host/Origin (DNS rebinding) and the session's bearer token. Then a bounded
 * body, one JSON-RPC message (no batches), the mirrored `Mcp-Method` /
 * `Mcp-Name` / `MCP-Protocol-Version` headers checked against it, and the
 * client session: `Mcp-Session-Id` issued on `initialize` (2025-11-25), or
 * none for stateless-era requests (2026-07-28). The session's gateway does
 * the rest. Every refusal is a JSON-RPC error with a sentence saying why.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { classify, RPC } from '../jsonrpc.js';
import { Guard } from './guard.js';
import { eraOf, HEADER_MISMATCH, headerMismatch, metaVersion, type Era } from './protocol.js';
import { canResume, refuse, type ClientMessage, type FrontSession } from './session.js';

export interface SessionFactory {
  /** A new session: per `initialize` in the session era, one shared for stateless-era clients. */
  open(era: Era): Promise<FrontSession>;
}

export interface HttpFrontOptions {
  readonly token: string;
  readonly sessions: SessionFactory;
  /** Largest request body (default 16 MiB); above it HTTP 413. */
  readonly maxMessageBytes?: number;
  /** Session-era sessions open at once (default 64); above it HTTP 503. */
  readonly maxSessions?: number;
  /** A POST body must arrive whole within this (default 30 s): a client trickling bytes cannot hold a request open forever. */
  readonly bodyTimeoutMs?: number;
  /** Endpoint path (default `/mcp`). */
  readonly path?: string;
  /** Browser origins allowed besides the listener's own loopback origins. */
  readonly origins?: readonly string[];
  /** The port clients connect to, when it is not the socket's own (a listener handed out of a sandbox). */
  readonly publicPort?: number;
  readonly log?: (line: string) => void;
}

const MCP_HEADERS = 'mcp-session-id, mcp-protocol-version';

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class HttpFront {
  readonly server: http.Server;
  readonly #o: HttpFrontOptions;
  readonly #guard: Guard;
  readonly #sessions = new Map<string, FrontSession>();
  #stateless: Promise<FrontSession> | null = null;
  #port = 0;
  readonly #log: (line: string) => void;
  /** POST responses not yet finished (a GET event stream is long-lived by design and not counted). */
  #inFlight = 0;
  #idle: (() => void) | null = null;

  constructor(o: HttpFrontOptions) {
    this.#o = o;
    this.#log = o.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.#guard = new Guard({ token: o.token, port: () => o.publicPort ?? this.#port, ...(o.origins === undefined ? {} : { origins: o.origins }) });
    this.server = http.createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 0, headersTimeout: 30_000 }, (req, res) => {
      if (req.method === 'POST') {
        this.#inFlight++;
        res.once('close', () => {
          if (--this.#inFlight === 0) this.#idle?.();
        });
      }
      this.#route(req, res).catch((e: unknown) => {
        this.#log(`cordon mcp: internal error on an HTTP request: ${e instanceof Error ? e.message : String(e)}`);
        if (!res.headersSent) refuse({ res, headers: {} }, null, 'cordon\'s MCP gateway failed on this request; nothing was forwarded', RPC.gatewayUnavailable, 500);
        else res.destroy();
      });
    });
  }

  /** Listens on loopback; resolves with the port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host }, () => resolve());
    });
    this.#port = (this.server.address() as AddressInfo).port;
    return this.#port;
  }

  /** Serves connections accepted on a listening socket created elsewhere (inside a sandbox's network namespace). */
  adopt(listener: NetServer): void {
    listener.on('connection', (s: Socket) => this.server.emit('connection', s));
  }

  get port(): number {
    return this.#o.publicPort ?? this.#port;
  }

  /**
   * Stops: no new connections; the POST responses under way (a held call
   * just refused, say) are given up to `graceMs` to go out whole; then the
   * sessions close and every connection is cut.
   */
  async close(graceMs = 2000): Promise<void> {
    this.server.close();
    if (this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.#idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#idle = null;
    }
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    if (this.#stateless !== null) all.push(await this.#stateless);
    await Promise.all(all.map((s) => s.close()));
    await new Promise<void>((resolve) => {
      if (!this.server.listening) resolve();
      else this.server.close(() => resolve());
      // A response ended just now (a held call refused on the way out) is corked until the next tick: cut after it went out.
      setImmediate(() => {
        this.server.closeAllConnections();
        resolve();
      });
    });
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const denied = this.#guard.check(req);
    if (denied !== null) {
      req.resume();
      refuse({ res, headers: denied.headers ?? {} }, null, denied.message, RPC.invalidRequest, denied.status);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== (this.#o.path ?? '/mcp')) {
      req.resume();
      refuse({ res, headers: {} }, null, `not found; cordon's MCP endpoint is ${this.#o.path ?? '/mcp'}`, RPC.invalidRequest, 404);
      return;
    }
    switch (req.method) {
      case 'POST':
        await this.#post(req, res);
        return;
      case 'GET':
        req.resume();
        this.#get(req, res);
        return;
      case 'DELETE': {
        req.resume();
        const sid = header(req, 'mcp-session-id');
        const s = sid === undefined ? undefined : this.#sessions.get(sid);
        if (sid === undefined || s === undefined) {
          refuse({ res, headers: {} }, null, 'no such session', RPC.invalidRequest, 404);
          return;
        }
        this.#sessions.delete(sid);
        await s.close();
        res.writeHead(200).end();
        return;
      }
      case undefined:
      default:
        req.resume();
        refuse({ res, headers: { allow: 'GET, POST, DELETE' } }, null, `method ${req.method ?? ''} is not allowed`, RPC.invalidRequest, 405);
    }
  }

  #get(req: IncomingMessage, res: ServerResponse): void {
    if (!(header(req, 'accept') ?? '').includes('text/event-stream')) {
      refuse({ res, headers: {} }, null, 'a GET must accept text/event-stream', RPC.invalidRequest, 406);
      return;
    }
    const sid = header(req, 'mcp-session-id');
    const s = sid === undefined ? undefined : this.#sessions.get(sid);
    if (s === undefined) {
      // Stateless-era servers have no GET stream; neither does a request without a session.
      refuse({ res, headers: { allow: 'POST' } }, null, 'no event stream without a session', RPC.invalidRequest, sid === undefined ? 405 : 404);
      return;
    }
    const version = header(req, 'mcp-protocol-version');
    s.listen(res, { lastEventId: header(req, 'last-event-id') ?? null, prime: canResume(version ?? null), log: this.#log });
  }

  /** The whole body, or why not: over the size limit, or not complete within the body deadline. */
  async #readBody(req: IncomingMessage): Promise<{ readonly body: string } | 'too-large' | 'too-slow'> {
    const max = this.#o.maxMessageBytes ?? 16 * 1024 * 1024;
    const declared = Number(header(req, 'content-length') ?? '0');
    if (declared > max) return 'too-large';
    const parts: Buffer[] = [];
    let size = 0;
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      // Ends the iteration below (with an error or an early end): the deadline holds however slowly bytes come.
      req.destroy();
    }, this.#o.bodyTimeoutMs ?? 30_000);
    try {
      for await (const chunk of req) {
        const c = chunk as Buffer;
        size += c.length;
        if (size > max) {
          req.destroy();
          return 'too-large';
        }
        parts.push(c);
      }
    } catch (e) {
      if (late) return 'too-slow';
      throw e;
    } finally {
      clearTimeout(timer);
    }
    if (late) return 'too-slow';
    return { body: Buffer.concat(parts).toString('utf8') };
  }

  async #post(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctype = (header(req, 'content-type') ?? '').toLowerCase();
    if (!ctype.startsWith('application/json')) {
      req.resume();
      refuse({ res, headers: {} }, null, 'the body must be application/json', RPC.invalidRequest, 415);
      return;
    }
    const read = await this.#readBody(req);
    if (read === 'too-large') {
      refuse({ res, headers: { connection: 'close' } }, null, `the message is over cordon's limit of ${this.#o.maxMessageBytes ?? 16 * 1024 * 1024} bytes; it was not forwarded`, RPC.invalidRequest, 413);
      return;
    }
    if (read === 'too-slow') {
      refuse({ res, headers: { connection: 'close' } }, null, `the request body did not arrive within ${Math.round((this.#o.bodyTimeoutMs ?? 30_000) / 1000)} s; it was not forwarded`, RPC.invalidRequest, 408);
      res.destroy();
      return;
    }
    const m = classify(normalise(read.body));
    if (m.kind === 'invalid') {
      refuse({ res, headers: {} }, m.id, `cordon could not accept this message: ${m.reason}`, m.code, 400);
      return;
    }
    const hv = header(req, 'mcp-protocol-version');
    const params = m.kind === 'response' ? undefined : m.params;
    const version = hv ?? metaVersion(params);
    const era = eraOf(version);
    if (m.kind !== 'response') {
      const why = headerMismatch({ method: header(req, 'mcp-method'), name: header(req, 'mcp-name'), version: hv }, m.method, params, era);
      if (why !== null) {
        refuse({ res, headers: {} }, m.kind === 'request' ? m.id : null, `cordon refused this request: ${why}`, HEADER_MISMATCH, 400);
        return;
      }
    }
    const accept = header(req, 'accept') ?? '';
    const sse = accept.includes('text/event-stream');
    const sid = header(req, 'mcp-session-id');
    const session = await this.#sessionFor(m, sid, era, res);
    if (session === null) return;
    const headers: Record<string, string> = { 'access-control-expose-headers': MCP_HEADERS };
    if (session.created !== undefined) headers['mcp-session-id'] = session.created;
    session.s.handle(m, { res, sse, headers, version });
  }

  async #sessionFor(m: ClientMessage, sid: string | undefined, era: Era, res: ServerResponse): Promise<{ s: FrontSession; created?: string } | null> {
    if (sid !== undefined) {
      const s = this.#sessions.get(sid);
      if (s === undefined || s.closed) {
        if (s !== undefined) this.#sessions.delete(sid);
        refuse({ res, headers: {} }, m.kind === 'request' ? m.id : null, 'this MCP session ended or never existed; initialize a new one', RPC.invalidRequest, 404);
        return null;
      }
      return { s };
    }
    if (m.kind === 'request' && m.method === 'initialize') {
      if (this.#sessions.size >= (this.#o.maxSessions ?? 64)) {
        refuse({ res, headers: {} }, m.id, 'too many MCP sessions are open; end one (HTTP DELETE) first', RPC.gatewayUnavailable, 503);
        return null;
      }
      const id = randomUUID();
      const s = await this.#o.sessions.open('session');
      this.#sessions.set(id, s);
      return { s, created: id };
    }
    if (era === 'stateless') {
      this.#stateless ??= this.#o.sessions.open('stateless');
      const s = await this.#stateless;
      if (!s.closed) return { s };
      this.#stateless = null;
      refuse({ res, headers: {} }, m.kind === 'request' ? m.id : null, 'the MCP server behind cordon stopped', RPC.gatewayUnavailable, 502);
      return null;
    }
    refuse({ res, headers: {} }, m.kind === 'request' ? m.id : null, 'no Mcp-Session-Id: send initialize first (or use protocol version 2026-07-28 or later, which has no sessions)', RPC.invalidRequest, 400);
    return null;
  }
}

/** A pretty-printed body has line breaks between tokens (never inside JSON strings): forwarded as one line. */
function normalise(body: string): string {
  if (!body.includes('\n') && !body.includes('\r')) return body;
  try {
    return JSON.stringify(JSON.parse(body));
  } catch {
    return body;
  }
}
