/**
 * One configured server inside the aggregating gateway: the gateway core
 * (this server's policy subjects, pins, scanning) in front of one upstream
 * connection that lives as long as the aggregator. The aggregator is the
 * core's client: it sends requests with its own ids and gets each answer as
 * a parsed message, after the core has checked and scanned it.
 */
import { classify, errorLine, isObject, RPC, type JsonObject, type Message } from '../jsonrpc.js';
import { McpGateway } from '../gateway.js';
import type { GatewayOptions, ToClientInfo } from '../options.js';
import type { Upstream } from './upstream.js';

export type Response = Extract<Message, { kind: 'response' }>;

export interface LinkEvents {
  /** A notification from the server (after the core), e.g. progress or list_changed. */
  notification(server: string, method: string, obj: JsonObject): void;
}

const PROTOCOL_VERSION = '2025-11-25';

export class ServerLink {
  readonly name: string;
  readonly gateway: McpGateway;
  readonly #upstream: Upstream;
  readonly #pending = new Map<string, { resolve: (r: Response) => void; timer: NodeJS.Timeout }>();
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
      toClient: (line, info) => this.#fromCore(line, info),
      toServer: (line) => upstream.send(line),
    });
    upstream.sink = {
      message: (ev) => this.gateway.fromServer(ev),
      failed: (id, reason) => this.gateway.upstreamFailed(id, reason),
      closed: (reason) => {
        this.down ??= `the server stopped (${reason})`;
        this.gateway.serverClosed(reason);
      },
    };
  }

  /** The handshake, as a client would do it; the core pins the manifest and lists the tools itself afterwards. */
  async start(): Promise<void> {
    const r = await this.request('initialize', { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'cordon', version: '0.1.0' } });
    if (!r.ok) {
      this.down = `initialize failed: ${errorMessage(r)}`;
      return;
    }
    const v = isObject(r.result) && typeof r.result['protocolVersion'] === 'string' ? r.result['protocolVersion'] : PROTOCOL_VERSION;
    this.#upstream.version = v;
    this.gateway.fromClientMessage(classify(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })));
  }

  /** Sends one request through the core; resolves with its (checked) response, or an error response. */
  request(method: string, params?: JsonObject): Promise<Response> {
    const id = `agg-${++this.#seq}`;
    const line = JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
    return new Promise((resolve) => {
      if (this.down !== null) {
        resolve(errorResponse(id, `MCP server ${this.name} is unavailable: ${this.down}`));
        return;
      }
      const timer = setTimeout(() => this.gateway.upstreamFailed(id, `no answer within ${this.#timeoutMs / 1000} s`), this.#timeoutMs);
      timer.unref();
      this.#pending.set(id, { resolve, timer });
      this.gateway.fromClientMessage(classify(line));
    });
  }

  #fromCore(line: string, info: ToClientInfo | undefined): void {
    if (info?.kind === 'request') {
      // sampling, elicitation, roots: the aggregated endpoint has no way to ask its client on this server's behalf.
      this.gateway.fromClientMessage(classify(errorLine(info.id, RPC.methodNotFound, 'requests from the server are not relayed by cordon\'s aggregating gateway')));
      return;
    }
    const m = classify(line);
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
