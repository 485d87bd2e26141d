/**
 * One configured server inside the aggregating gateway: the gateway core
 * (this server's policy subjects, pins, scanning) in front of one upstream
 * connection that lives as long as the aggregator. The aggregator is the
 * core's client: it sends requests with its own ids and gets each answer as
 * a parsed message, after the core has checked and scanned it. Requests the
 * server sends (sampling, elicitation, roots, ping), once the core let them
 * through, go to the aggregator with the owners of the requests they may
 * belong to, and the client's answer comes back through `answer()`.
 */
import { classify, errorLine, isObject, RPC, type JsonObject, type Message } from '../jsonrpc.js';
import { McpGateway } from '../gateway.js';
import type { GatewayOptions } from '../options.js';
import { CLIENT_GONE, STREAM_CLOSED } from './session.js';
import type { Upstream } from './upstream.js';

export type Response = Extract<Message, { kind: 'response' }>;

/** Who sent a request through the link: a client session (opaque here) and that request's id key there. */
export interface RequestOwner {
  readonly session: object;
  readonly origin: string;
}

export interface LinkEvents {
  /** A notification from the server (after the core), e.g. progress or list_changed. */
  notification(server: string, method: string, obj: JsonObject): void;
  /**
   * A request from the server (after the core). `owners`: the owner of the
   * request whose upstream stream carried it (Streamable HTTP), else the
   * owners of every request in flight on this link, oldest first.
   */
  serverRequest(link: ServerLink, m: Extract<Message, { kind: 'request' }>, owners: readonly RequestOwner[]): void;
}

/** What the link declares for its client side: the aggregator relays these requests to a client that declared them too. */
const CLIENT_CAPABILITIES = { sampling: {}, elicitation: {}, roots: { listChanged: true } };

const PROTOCOL_VERSION = '2025-11-25';

export class ServerLink {
  readonly name: string;
  readonly gateway: McpGateway;
  readonly #upstream: Upstream;
  readonly #pending = new Map<string, { resolve: (r: Response) => void; timer: NodeJS.Timeout; owner: RequestOwner | undefined }>();
  /** Id of the link's request whose upstream stream is being read (set only while a message from it is handled). */
  #origin: string | null = null;
  readonly #events: LinkEvents;
  readonly #timeoutMs: number;
  #seq = 0;
  /** Why the server is unusable, or null while it works. */
  down: string | null = null;

  constructor(opts: GatewayOptions, upstream: Upstream, events: LinkEvents, timeoutMs = 300_000) {
    this.name = opts.server;
    this.#upstream = upstream;
    this.#events = events;
    this.#timeoutMs = timeoutMs;
    this.gateway = new McpGateway(opts, {
      toClient: (line, info) => this.#fromCore(line, info?.message),
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
        this.down ??= `the server stopped (${reason})`;
        this.gateway.serverClosed(reason);
      },
    };
  }

  /** The handshake, as a client would do it; the core pins the manifest and lists the tools itself afterwards. */
  async start(): Promise<void> {
    const r = await this.request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: CLIENT_CAPABILITIES, clientInfo: { name: 'cordon', version: '0.1.0' } });
    if (!r.ok) {
      this.down = `initialize failed: ${errorMessage(r)}`;
      return;
    }
    const v = isObject(r.result) && typeof r.result['protocolVersion'] === 'string' ? r.result['protocolVersion'] : PROTOCOL_VERSION;
    this.#upstream.version = v;
    this.gateway.fromClientMessage(classify(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })));
  }

  /**
   * Sends one request through the core; resolves with its (checked) response,
   * or an error response. `gone`: the client went away; a call the core still
   * holds for approval is withdrawn (one already sent runs to its end).
   */
  request(method: string, params?: JsonObject, owner?: RequestOwner, gone?: AbortSignal): Promise<Response> {
    const id = `agg-${++this.#seq}`;
    const obj: JsonObject = { jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) };
    // Built here, so it is not parsed again: the core gets the message as classify() would give it.
    const m: Message = { kind: 'request', id, method, params, raw: JSON.stringify(obj), obj };
    return new Promise((resolve) => {
      if (this.down !== null) {
        resolve(errorResponse(id, `MCP server ${this.name} is unavailable: ${this.down}`));
        return;
      }
      const timer = setTimeout(() => this.gateway.upstreamFailed(id, `no answer within ${this.#timeoutMs / 1000} s`), this.#timeoutMs);
      timer.unref();
      const withdraw = (): void => {
        const reason: unknown = gone?.reason;
        if (this.gateway.withdraw(id, typeof reason === 'string' && reason !== STREAM_CLOSED ? reason : CLIENT_GONE)) return;
        // Sent already: a stateless-era client's closed stream cancels it at the server; nobody waits for its answer.
        const p = this.#pending.get(id);
        if (reason === STREAM_CLOSED && p !== undefined && this.gateway.cancelSent(id, 'the client cancelled the request')) {
          clearTimeout(p.timer);
          this.#pending.delete(id);
          p.resolve(errorResponse(id, 'the client cancelled the request'));
        }
      };
      gone?.addEventListener('abort', withdraw, { once: true });
      this.#pending.set(id, {
        resolve: (r) => {
          gone?.removeEventListener('abort', withdraw);
          resolve(r);
        },
        timer, owner,
      });
      this.gateway.fromClientMessage(m);
      if (gone?.aborted === true) withdraw();
    });
  }

  #fromCore(line: string, parsed: Message | undefined): void {
    const m = parsed ?? classify(line);
    if (m.kind === 'request') {
      this.#events.serverRequest(this, m, this.#owners());
      return;
    }
    if (m.kind === 'notification') {
      this.#events.notification(this.name, m.method, m.obj);
      return;
    }
    if (m.kind !== 'response' || typeof m.id !== 'string') return;
    const p = this.#pending.get(m.id);
    if (p === undefined) return;
    this.#pending.delete(m.id);
    clearTimeout(p.timer);
    p.resolve(m);
  }

  /** A client's message to the server (the response to a relayed request, a notification), through the core. */
  answer(line: string): void {
    this.gateway.fromClientMessage(classify(line));
  }

  #owners(): RequestOwner[] {
    const related = this.#origin?.startsWith('s:') === true ? this.#pending.get(this.#origin.slice(2))?.owner : undefined;
    if (related !== undefined) return [related];
    const out: RequestOwner[] = [];
    for (const p of this.#pending.values()) if (p.owner !== undefined) out.push(p.owner);
    return out;
  }

  async close(): Promise<void> {
    this.down ??= 'the gateway is stopping';
    this.gateway.serverClosed('the gateway is stopping');
    await this.#upstream.close();
  }
}

export function errorMessage(r: Response): string {
  const e = r.obj['error'];
  return isObject(e) && typeof e['message'] === 'string' ? e['message'] : 'error';
}

function errorResponse(id: string, message: string): Response {
  const m = classify(errorLine(id, RPC.gatewayUnavailable, message));
  if (m.kind !== 'response') throw new Error('unreachable');
  return m;
}
