/**
 * One client session of the single-server HTTP gateway: the gateway core
 * (policy, scanning, pins) between the client channel and one upstream
 * connection. In the session era each client session gets its own upstream
 * session (or stdio process); stateless-era clients share one.
 */
import type { ServerResponse } from 'node:http';
import { classify, errorLine, RPC, type JsonRpcId, type Message } from '../jsonrpc.js';
import { McpGateway } from '../gateway.js';
import type { GatewayOptions, ToClientInfo } from '../options.js';
import { ClientChannel } from './channel.js';
import type { Upstream } from './upstream.js';

export type ClientMessage = Exclude<Message, { kind: 'invalid' }>;

export interface Exchange {
  readonly res: ServerResponse;
  /** The client accepts an event stream for this POST. */
  readonly sse: boolean;
  /** Extra response headers (the new `Mcp-Session-Id` on `initialize`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The client's `MCP-Protocol-Version`, passed on upstream. */
  readonly version: string | null;
}

/** What the HTTP front needs of a session, single-server or aggregating. */
export interface FrontSession {
  handle(m: ClientMessage, ex: Exchange): void;
  listen(res: ServerResponse): void;
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
  #closed = false;

  constructor(opts: GatewayOptions, upstream: Upstream) {
    this.#upstream = upstream;
    this.#log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.gateway = new McpGateway(opts, {
      toClient: (line, info) => this.#toClient(line, info),
      toServer: (line) => upstream.send(line),
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
      if (info.id === null || !this.#channel.respond(info.id, line)) this.#log('cordon mcp: dropped a response: its client is no longer waiting');
      return;
    }
    if (this.#channel.push(line, this.#origin)) return;
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
      if (!this.#channel.open(m.id, ex.res, ex.sse, ex.headers)) {
        refuse(ex, m.id, 'a request with this id is already in flight');
        return;
      }
      this.gateway.fromClientMessage(m);
      return;
    }
    this.gateway.fromClientMessage(m);
    ex.res.writeHead(202, ex.headers).end();
  }

  listen(res: ServerResponse): void {
    this.#channel.addStream(res);
    this.#upstream.listen();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.gateway.serverClosed('the client ended the session');
    this.#channel.close();
    await this.#upstream.close();
  }
}

export function refuse(ex: Pick<Exchange, 'res' | 'headers'>, id: JsonRpcId | null, message: string, code: number = RPC.invalidRequest, status = 200): void {
  ex.res.writeHead(status, { ...ex.headers, 'content-type': 'application/json' }).end(errorLine(id, code, message));
}
