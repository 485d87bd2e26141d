/**
 * The MCP gateway core for one upstream server: a JSON-RPC pass-through that
 * inspects what it must and forwards everything else as the original bytes.
 * Transport-free: lines come in through `fromClient`/`fromServer` (already
 * framed) and go out through the ports. Request ids are tracked per
 * direction, so every response is matched to the request it answers and a
 * response nobody asked for is dropped.
 */
import { InjectionScanner } from './injection.js';
import { classify, errorLine, idKey, isObject, RPC, sniffId, type JsonRpcId, type Message } from './jsonrpc.js';
import type { FrameEvent } from './framing.js';
import { DEFAULT_LIMITS, type GatewayLimits } from './limits.js';
import type { GatewayOptions, GatewayPorts } from './options.js';
import { publishSink, mcpEvent } from './audit.js';
import { ToolGate } from './tool-gate.js';
import { isPolicyMethod } from './call-policy.js';
import { CLIENT_CANCELLED, type Withdraw } from './call-approval.js';
import { handleRequest, type Pending } from './gateway-requests.js';
import { handleResponse } from './gateway-responses.js';
import { checkClientAnswer, handleServerRequest } from './gateway-server-requests.js';
import { eraOf, META_VERSION } from './http/protocol.js';

export interface GatewayContext {
  readonly o: Required<Pick<GatewayOptions, 'server' | 'launch' | 'policy' | 'argumentScanners' | 'argumentAction' | 'injectionAction'>>;
  readonly scanner: InjectionScanner;
  readonly limits: GatewayLimits;
  readonly tools: ToolGate;
  readonly ports: GatewayPorts;
  readonly audit: NonNullable<GatewayOptions['audit']>;
  readonly auditReady: () => boolean;
  readonly log: (line: string) => void;
}

const MAX_DEFERRED = 256;
const OWN_PREFIX = `cordon-${process.pid.toString(36)}-`;

export class McpGateway {
  readonly ctx: GatewayContext;
  /** Client requests awaiting the server's response. */
  readonly #clientPending = new Map<string, Pending>();
  /** Calls held for a person's approval (not sent yet), by id key: how to withdraw each. */
  readonly #held = new Map<string, Withdraw>();
  /** Server requests awaiting the client's response. */
  readonly #serverPending = new Map<string, string>();
  /** The gateway's own requests (tools/list re-checks), with the cursor chain state. */
  readonly #own = new Map<string, { readonly full: boolean }>();
  #ownSeq = 0;
  /** tools/call requests waiting for a tool-list re-check to finish. */
  readonly #deferred: Extract<Message, { kind: 'request' }>[] = [];
  #toolsCapability = false;
  /** `_meta` protocol fields of the latest stateless-era client request, for the gateway's own requests. */
  #ownMeta: Record<string, unknown> | null = null;
  #refreshTimer: NodeJS.Timeout | undefined;
  readonly #refreshTimeout: number;
  #closed = false;

  constructor(opts: GatewayOptions, ports: GatewayPorts) {
    const limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
    const audit = opts.audit ?? publishSink;
    const scanner = opts.scanner ?? new InjectionScanner({ maxChars: limits.maxScanChars, maxDepth: limits.maxDepth });
    const injectionAction = opts.injectionAction ?? 'block';
    this.#refreshTimeout = opts.refreshTimeoutMs ?? 10_000;
    this.ctx = {
      o: { server: opts.server, launch: opts.launch, policy: opts.policy, argumentScanners: opts.argumentScanners ?? [], argumentAction: opts.argumentAction ?? 'block', injectionAction },
      scanner, limits, ports, audit, log, auditReady: opts.auditReady ?? (() => true),
      tools: new ToolGate({
        server: opts.server, launch: opts.launch, pins: opts.pins, firstUse: opts.firstUse ?? 'pin', scanner, action: injectionAction,
        shadow: opts.shadow ?? null, maxTools: limits.maxTools, audit, log, now: opts.now ?? (() => new Date()),
      }),
    };
  }

  fromClient(ev: FrameEvent): void {
    if (this.#closed) return;
    if (ev.kind === 'oversized') {
      const id = sniffId(ev.head);
      this.ctx.log(`cordon mcp: dropped a ${ev.bytes}-byte message from the client (limit ${this.ctx.limits.maxMessageBytes})`);
      this.ctx.ports.toClient(errorLine(id, RPC.invalidRequest, `message of ${ev.bytes} bytes is over cordon's limit of ${this.ctx.limits.maxMessageBytes} bytes; it was not sent`), { kind: 'response', id: id });
      return;
    }
    this.fromClientMessage(classify(ev.text));
  }

  /** A client message the transport has already classified (the HTTP front parses each body once). */
  fromClientMessage(m: Message): void {
    if (this.#closed) return;
    const { ports } = this.ctx;
    switch (m.kind) {
      case 'invalid':
        this.ctx.log(`cordon mcp: refused a client message: ${m.reason}`);
        ports.toClient(errorLine(m.id, m.code, `cordon could not accept this message: ${m.reason}`), { kind: 'response', id: m.id });
        return;
      case 'request':
        this.#rememberMeta(m.params);
        // A call before any tool list: cordon lists the tools itself first.
        if (m.method === 'tools/call' && !this.ctx.tools.listed && !this.ctx.tools.refreshing) this.#refresh();
        // During a re-check of the tool list, calls wait for it (bounded) instead of being refused.
        if (m.method === 'tools/call' && this.ctx.tools.refreshing && this.#deferred.length < MAX_DEFERRED) {
          this.#deferred.push(m);
          return;
        }
        this.#clientRequest(m);
        return;
      case 'notification':
        // A cancelled call still held for approval: withdrawn here; the server never saw it, so it hears nothing of it.
        if (m.method === 'notifications/cancelled' && isObject(m.params) && this.#held.size > 0) {
          const id = m.params['requestId'];
          if ((typeof id === 'string' || typeof id === 'number') && this.withdraw(id, CLIENT_CANCELLED)) return;
        }
        ports.toServer(m.raw, m);
        if (m.method === 'notifications/initialized') this.#refresh();
        return;
      case 'response': {
        const key = idKey(m.id);
        const method = this.#serverPending.get(key);
        if (method === undefined) {
          this.ctx.log('cordon mcp: dropped a client response to no pending server request');
          return;
        }
        this.#serverPending.delete(key);
        const instead = checkClientAnswer(this.ctx, method, m);
        if (instead === null) ports.toServer(m.raw, m);
        else ports.toServer(instead);
        return;
      }
    }
  }

  fromServer(ev: FrameEvent): void {
    if (this.#closed) return;
    if (ev.kind === 'oversized') {
      this.ctx.log(`cordon mcp: dropped a ${ev.bytes}-byte message from the server (limit ${this.ctx.limits.maxMessageBytes})`);
      const id = sniffId(ev.head);
      if (id !== null) this.#failClientRequest(id, `the server's response of ${ev.bytes} bytes is over cordon's limit of ${this.ctx.limits.maxMessageBytes} bytes; it was not forwarded`);
      return;
    }
    this.fromServerMessage(classify(ev.text));
  }

  /** The transport says the server will not answer request `id` (HTTP error, stream ended): its client gets an error, if still waiting. */
  upstreamFailed(id: JsonRpcId, reason: string): void {
    if (this.#closed) return;
    this.#failClientRequest(id, reason);
  }

  fromServerMessage(m: Message): void {
    if (this.#closed) return;
    switch (m.kind) {
      case 'invalid':
        this.ctx.log(`cordon mcp: dropped a server message: ${m.reason}`);
        if (m.id !== null) this.#failClientRequest(m.id, `the server sent a malformed response (${m.reason})`);
        return;
      case 'response':
        this.#serverResponse(m);
        return;
      case 'request':
        if (this.#serverPending.size >= this.ctx.limits.maxPending) {
          this.ctx.ports.toServer(errorLine(m.id, RPC.gatewayUnavailable, 'too many requests in flight'));
          return;
        }
        if (handleServerRequest(this.ctx, m)) {
          this.#serverPending.set(idKey(m.id), m.method);
          this.ctx.ports.toClient(m.raw, { kind: 'request', id: m.id, message: m });
        }
        return;
      case 'notification':
        this.ctx.ports.toClient(m.raw);
        if (m.method === 'notifications/tools/list_changed') this.#refresh();
        return;
    }
  }

  /** The server is gone: every request still waiting gets an error, so the client never hangs. */
  /**
   * Withdraws the call with this id if it is still held for approval: the
   * approval is withdrawn, the call refused with `why` (and recorded), never
   * sent. False when no such call is held (sent, answered or unknown).
   */
  withdraw(id: JsonRpcId, why: string): boolean {
    const key = idKey(id);
    const w = this.#held.get(key);
    if (w === undefined) return false;
    this.#held.delete(key);
    w(why);
    return true;
  }

  /**
   * A call already sent whose client gave it up (in the 2026-07-28 era,
   * closing a request's stream is its cancellation): the server gets
   * `notifications/cancelled` for it and its answer, if one comes, is
   * dropped. False when no such call is in flight.
   */
  cancelSent(id: JsonRpcId, reason: string): boolean {
    const key = idKey(id);
    if (this.#closed || !this.#clientPending.has(key)) return false;
    this.#clientPending.delete(key);
    const line = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
    this.ctx.ports.toServer(line, classify(line));
    return true;
  }

  serverClosed(reason: string): void {
    if (this.#closed) return;
    for (const key of [...this.#held.keys()]) {
      const w = this.#held.get(key);
      this.#held.delete(key);
      w?.(`The session ended (${reason}) while the call waited for approval; the approval was withdrawn and the call not sent.`);
    }
    this.#closed = true;
    for (const m of this.#deferred.splice(0)) this.ctx.ports.toClient(errorLine(m.id, RPC.gatewayUnavailable, `the MCP server ${this.ctx.o.server} stopped (${reason})`), { kind: 'response', id: m.id });
    if (this.#refreshTimer !== undefined) clearTimeout(this.#refreshTimer);
    for (const p of this.#clientPending.values()) this.ctx.ports.toClient(errorLine(p.id, RPC.gatewayUnavailable, `the MCP server ${this.ctx.o.server} stopped (${reason})`), { kind: 'response', id: p.id });
    this.#clientPending.clear();
  }

  #clientRequest(m: Extract<Message, { kind: 'request' }>): void {
    const { ports } = this.ctx;
    const key = idKey(m.id);
    if (this.#clientPending.has(key) || this.#own.has(key) || this.#held.has(key)) {
      ports.toClient(errorLine(m.id, RPC.invalidRequest, 'a request with this id is already in flight'), { kind: 'response', id: m.id });
      return;
    }
    if (this.#clientPending.size >= this.ctx.limits.maxPending) {
      ports.toClient(errorLine(m.id, RPC.gatewayUnavailable, `too many requests in flight (${this.ctx.limits.maxPending}); retry when some have finished`), { kind: 'response', id: m.id });
      return;
    }
    if (isPolicyMethod(m.method) && !this.ctx.auditReady()) {
      // Fail closed: a call is never forwarded when its decision cannot be recorded.
      ports.toClient(errorLine(m.id, RPC.gatewayUnavailable, 'cordon cannot record decisions any more (the audit log could not be written); the call was not sent'), { kind: 'response', id: m.id });
      return;
    }
    const withdraw = handleRequest(this.ctx, m, (pending) => {
      // A call held for approval is forwarded later: the server may have gone, or the id been reused, meanwhile.
      if (this.#closed || this.#clientPending.has(key)) {
        ports.toClient(errorLine(m.id, RPC.gatewayUnavailable, this.#closed ? `the MCP server ${this.ctx.o.server} stopped; the call was not sent` : 'a request with this id is already in flight; the call was not sent'), { kind: 'response', id: m.id });
        return;
      }
      this.#clientPending.set(key, pending);
      ports.toServer(m.raw, m);
    }, () => {
      if (this.#held.get(key) === withdraw) this.#held.delete(key);
    });
    if (withdraw !== undefined) this.#held.set(key, withdraw);
  }

  #serverResponse(m: Extract<Message, { kind: 'response' }>): void {
    const key = idKey(m.id);
    const own = this.#own.get(key);
    if (own !== undefined) {
      this.#own.delete(key);
      this.#ownResult(m, own.full);
      return;
    }
    const p = this.#clientPending.get(key);
    if (p === undefined) {
      this.ctx.log('cordon mcp: dropped a server response to no pending request');
      return;
    }
    this.#clientPending.delete(key);
    if ((p.method === 'initialize' || p.method === 'server/discover') && m.ok && isObject(m.result)) {
      const caps = m.result['capabilities'];
      this.#toolsCapability = isObject(caps) && caps['tools'] !== undefined;
    }
    handleResponse(this.ctx, p, m);
  }

  #failClientRequest(id: JsonRpcId, message: string): void {
    const key = idKey(id);
    if (this.#own.delete(key)) {
      this.#refreshDone(false);
      return;
    }
    const p = this.#clientPending.get(key);
    if (p === undefined) return;
    this.#clientPending.delete(key);
    this.ctx.ports.toClient(errorLine(p.id, RPC.gatewayUnavailable, message), { kind: 'response', id: p.id });
  }

  /**
   * Stateless-era (2026-07-28) requests carry their protocol version and
   * client capabilities in `params._meta`; the gateway's own requests copy
   * the latest ones, and such a client never sends `initialize`, so the
   * gateway lists the tools itself.
   */
  #rememberMeta(params: unknown): void {
    if (!isObject(params) || !isObject(params['_meta'])) return;
    const meta = params['_meta'];
    const v = meta[META_VERSION];
    if (typeof v !== 'string' || eraOf(v) !== 'stateless') return;
    const keep: Record<string, unknown> = {};
    for (const k of Object.keys(meta)) if (k.startsWith('io.modelcontextprotocol/')) keep[k] = meta[k];
    this.#ownMeta = keep;
    this.#toolsCapability = true;
  }

  /** Re-lists the server's tools itself (after the handshake and after list_changed). */
  #refresh(cursor?: string): void {
    if (!this.#toolsCapability || this.#closed) return;
    const tools = this.ctx.tools;
    tools.refreshing = true;
    const id = `${OWN_PREFIX}${++this.#ownSeq}`;
    this.#own.set(idKey(id), { full: cursor === undefined });
    const params = { ...(cursor === undefined ? {} : { cursor }), ...(this.#ownMeta === null ? {} : { _meta: this.#ownMeta }) };
    this.ctx.ports.toServer(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/list', ...(Object.keys(params).length === 0 ? {} : { params }) }));
    if (this.#refreshTimer !== undefined) clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => {
      this.ctx.log(`cordon mcp: ${this.ctx.o.server} did not answer cordon's tools/list in time`);
      this.#own.clear();
      this.#refreshDone(false);
    }, this.#refreshTimeout);
    this.#refreshTimer.unref();
  }

  #ownResult(m: Extract<Message, { kind: 'response' }>, full: boolean): void {
    if (!m.ok) {
      this.#refreshDone(false);
      return;
    }
    const next = typeof (m.result as { nextCursor?: unknown } | null)?.nextCursor === 'string' ? (m.result as { nextCursor: string }).nextCursor : undefined;
    this.ctx.tools.observe(m.result, full && next === undefined);
    if (next !== undefined && this.ctx.tools.shownNames().length < this.ctx.limits.maxTools) this.#refresh(next);
    else this.#refreshDone(true);
  }

  #refreshDone(ok: boolean): void {
    if (this.#refreshTimer !== undefined) clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
    this.ctx.tools.refreshing = false;
    const waiting = this.#deferred.splice(0);
    if (!ok) {
      this.ctx.tools.forgetShown();
      this.ctx.audit(mcpEvent(`mcp__${this.ctx.o.server} tools/list`, 'deny', 'gateway protocol', 'cordon could not re-check the tool list; every tool is refused until the agent lists tools again'));
    }
    for (const m of waiting) this.#clientRequest(m);
  }
}
