/**
 * One client session of the single-server HTTP gateway: the gateway core
 * (policy, scanning, pins) between the client channel and one upstream
 * connection. In the session era each client session gets its own upstream
 * session (or stdio process); stateless-era clients share one. A server
 * message goes on the event stream of the request whose upstream stream
 * carried it; a progress notification without one (a stdio server) goes on
 * the stream of the request that gave its progress token, so it arrives
 * before that request's response.
 */
import type { ServerResponse } from 'node:http';
import { classify, errorLine, idKey, isObject, RPC, type JsonRpcId, type Message } from '../jsonrpc.js';
import { McpGateway } from '../gateway.js';
import type { GatewayOptions, ToClientInfo } from '../options.js';
import { ClientChannel, REPLAY_BYTES, REPLAY_EVENTS } from './channel.js';
import { eraOf } from './protocol.js';
import type { Upstream } from './upstream.js';

export type ClientMessage = Exclude<Message, { kind: 'invalid' }>;

/** Why a call held for approval was withdrawn when its client went away. */
export const CLIENT_GONE = 'The client went away while the call waited for approval (its connection closed and its response was not resumed); the approval was withdrawn and the call not sent.';
/** The abort reason of a stateless-era client's closed request stream: that is its cancellation, so a sent call is cancelled upstream too. */
export const STREAM_CLOSED = 'The client closed the request\'s stream (2026-07-28: its cancellation).';


export interface Exchange {
  readonly res: ServerResponse;
  /** The client accepts an event stream for this POST. */
  readonly sse: boolean;
  /** Extra response headers (the new `Mcp-Session-Id` on `initialize`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The client's `MCP-Protocol-Version`, passed on upstream. */
  readonly version: string | null;
}

/** A GET for the session's event stream: a new one, or `Last-Event-ID` to resume one. */
export interface StreamRequest {
  readonly lastEventId: string | null;
  /** Send the priming event (the client speaks 2025-11-25 or later). */
  readonly prime: boolean;
  readonly log: (line: string) => void;
}

/** What the HTTP front needs of a session, single-server or aggregating. */
export interface FrontSession {
  handle(m: ClientMessage, ex: Exchange): void;
  listen(res: ServerResponse, from: StreamRequest): void;
  close(): Promise<void>;
  readonly closed: boolean;
}

export class GatewaySession implements FrontSession {
  readonly gateway: McpGateway;
  readonly #channel = new ClientChannel();
  readonly #upstream: Upstream;
  readonly #log: (line: string) => void;
  /** Id key of the upstream request whose stream is being read (set only while a message from it is handled). */
  #origin: string | null = null;
  /** Progress tokens of requests in flight → the request's id key, and back. */
  readonly #progress = new Map<string, string>();
  readonly #tokenOf = new Map<string, string>();
  #closed = false;

  constructor(opts: GatewayOptions, upstream: Upstream) {
    this.#upstream = upstream;
    this.#log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.gateway = new McpGateway(opts, {
      toClient: (line, info) => this.#toClient(line, info),
      toServer: (line, m) => upstream.send(line, m),
    });
    upstream.sink = {
      message: (ev, origin) => {
        this.#origin = origin;
        try {
          this.gateway.fromServer(ev);
        } finally {
          this.#origin = null;
        }
      },
      failed: (id, reason) => this.gateway.upstreamFailed(id, reason),
      closed: (reason) => {
        this.gateway.serverClosed(reason);
        this.#channel.close();
        this.#closed = true;
      },
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  #toClient(line: string, info: ToClientInfo | undefined): void {
    if (info?.kind === 'response') {
      if (info.id !== null) this.#forgetProgress(idKey(info.id));
      if (info.id === null || !this.#channel.respond(info.id, line)) this.#log('cordon mcp: dropped a response: its client is no longer waiting');
      return;
    }
    if (this.#channel.push(line, this.#origin ?? this.#progressOrigin(line, info))) return;
    if (info?.kind === 'request') {
      // Nobody can answer it: tell the server, so it does not wait for ever.
      this.gateway.fromClientMessage(classify(errorLine(info.id, RPC.gatewayUnavailable, 'the client has no open stream for requests from the server')));
      return;
    }
    this.#log('cordon mcp: dropped a server notification: the client has no open stream');
  }

  handle(m: ClientMessage, ex: Exchange): void {
    if (ex.version !== null) this.#upstream.version = ex.version;
    if (m.kind === 'request') {
      const id = m.id;
      const stateless = eraOf(ex.version) === 'stateless';
      const gone = (): void => {
        if (this.gateway.withdraw(id, CLIENT_GONE)) return;
        // 2026-07-28: closing the request's stream is cancelling it, so a request already sent is cancelled at the
        // server too (an HTTP upstream closes its stream, a stdio one gets notifications/cancelled): a subscription
        // or a long call the client gave up does not run on, or hold a connection, for nobody.
        if (stateless) this.gateway.cancelSent(id, STREAM_CLOSED);
      };
      if (!this.#channel.open(id, ex.res, ex.sse, ex.headers, canResume(ex.version), gone)) {
        refuse(ex, m.id, 'a request with this id is already in flight');
        return;
      }
      const token = isObject(m.params) && isObject(m.params['_meta']) ? tokenKey(m.params['_meta']['progressToken']) : null;
      if (token !== null && !this.#progress.has(token) && this.#progress.size < MAX_TOKENS) {
        this.#progress.set(token, idKey(m.id));
        this.#tokenOf.set(idKey(m.id), token);
      }
      this.gateway.fromClientMessage(m);
      return;
    }
    this.gateway.fromClientMessage(m);
    ex.res.writeHead(202, ex.headers).end();
  }

  /** The id key of the request a progress notification belongs to, by its token; null for anything else. */
  #progressOrigin(line: string, info: ToClientInfo | undefined): string | null {
    if (info !== undefined || this.#progress.size === 0 || !line.includes('notifications/progress')) return null;
    const m = classify(line);
    if (m.kind !== 'notification' || m.method !== 'notifications/progress' || !isObject(m.params)) return null;
    const token = tokenKey(m.params['progressToken']);
    return token === null ? null : (this.#progress.get(token) ?? null);
  }

  #forgetProgress(key: string): void {
    const token = this.#tokenOf.get(key);
    if (token === undefined) return;
    this.#tokenOf.delete(key);
    this.#progress.delete(token);
  }

  listen(res: ServerResponse, from: StreamRequest): void {
    if (openStream(this.#channel, res, from)) this.#upstream.listen();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.gateway.serverClosed('the client ended the session');
    this.#channel.close();
    await this.#upstream.close();
  }
}

/** Progress tokens remembered per session (requests in flight); past it, progress goes on the GET stream. */
const MAX_TOKENS = 4096;

function tokenKey(t: unknown): string | null {
  return typeof t === 'string' ? `s:${t}` : typeof t === 'number' && Number.isFinite(t) ? `n:${t}` : null;
}

/** Whether a client of this protocol version resumes streams with `Last-Event-ID` (2025-11-25 and later, in the session era). */
export function canResume(version: string | null): boolean {
  return version !== null && version >= '2025-11-25' && eraOf(version) === 'session';
}

/** Opens a new event stream, or resumes one (404 when it is not kept); true for a new stream. */
export function openStream(channel: ClientChannel, res: ServerResponse, from: StreamRequest): boolean {
  if (from.lastEventId === null) {
    channel.addStream(res, from.prime);
    return true;
  }
  const r = channel.resume(res, from.lastEventId);
  if (!r.ok) refuse({ res, headers: {} }, null, `cannot resume: ${r.reason}`, RPC.invalidRequest, 404);
  else if (r.lost) from.log(`cordon mcp: a client resumed an event stream after events no longer kept (last ${REPLAY_EVENTS} events within ${REPLAY_BYTES} bytes per stream); it got the ones kept`);
  return false;
}

export function refuse(ex: Pick<Exchange, 'res' | 'headers'>, id: JsonRpcId | null, message: string, code: number = RPC.invalidRequest, status = 200): void {
  ex.res.writeHead(status, { ...ex.headers, 'content-type': 'application/json' }).end(errorLine(id, code, message));
}
