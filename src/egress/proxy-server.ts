/**
 * `startProxy(options)`: one egress proxy instance (no module-level state, so
 * tests run several side by side). It can listen on loopback itself and can
 * adopt listening sockets created elsewhere (`attach`): that is how the
 * listener created inside the sandbox's network namespace is served.
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { optimiseSooner } from '../tier-up.js';
import { CordonError } from '../errors.js';
import { hostMatches, parseNetPattern, type HostPattern } from '../policy/match/net.js';
import type { CanonicalHost } from '../policy/types.js';
import type { DecisionEvent } from '../audit/record.js';
import type { EgressApprover } from './approval-hold.js';
import { handleConnect } from './connect-tunnel.js';
import type { InspectedTunnel, ProxyContext, TlsInspection } from './context.js';
import { checkHost, handleInspectedRequest, targetPath } from './inspected-http.js';
import { handleUpgrade, type WsTarget } from './websocket.js';
import { hostFromUrl } from './hostname.js';
import { DestinationGate, type DecidingPolicy } from './destination.js';
import { handleHttpRequest, sendRefusal } from './http-forward.js';
import { DEFAULT_LIMITS, type ProxyLimits } from './limits.js';
import { refusalResponse, type Refusal } from './refusal.js';
import { cachingResolver, systemResolver, type Resolver } from './resolver.js';
import { NOOP_SCANNER, type RequestScanner } from './scanner.js';
import { handleSocks } from './socks5.js';
import type { SessionCa } from './tls-ca.js';
import { PREFERRED_CIPHERS } from './tls-ciphers.js';
import { systemCaBundle } from './trust.js';
import { UpstreamPool } from './upstream-http.js';

export type ListenerKind = 'http' | 'socks';

export interface ListenOn {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
}

/** TLS inspection of CONNECT and SOCKS-443 tunnels (absent: tunnels are opaque byte pipes). */
export interface TlsOptions {
  /** The session CA (created in this process; its key never leaves it). */
  readonly ca: SessionCa;
  /** Hosts not inspected (`api.example.com`, `*.example.com`), as in policy `egress.tls.passthrough`. */
  readonly passthrough?: readonly string[];
  /** Roots for verifying upstream servers (PEM; default: the system bundle). */
  readonly roots?: string;
  /** Extra CA certificates (PEM) trusted for upstream servers besides the roots (tests, a corporate CA). */
  readonly extraCa?: string;
}

export interface ProxyOptions {
  readonly tls?: TlsOptions;
  readonly policy: DecidingPolicy;
  /** Name resolution (default: the system resolver); answers with a TTL are cached, see `cachingResolver`. */
  readonly resolver?: Resolver;
  readonly scanner?: RequestScanner;
  readonly limits?: Partial<ProxyLimits>;
  /** Log would-deny policy decisions and forward anyway (mandatory denies and address checks still apply). */
  readonly reportOnly?: boolean;
  /** Where decisions go (default: the audit diagnostics channel). */
  readonly publish?: (event: DecisionEvent) => void;
  /** Asks a person about `ask` decisions (the supervisor's approval service); absent: an ask is refused at once. */
  readonly approve?: EgressApprover;
  readonly http?: ListenOn;
  readonly socks?: ListenOn;
  /** Diagnostics (default: stderr with a `cordon proxy:` prefix). */
  readonly log?: (line: string) => void;
}

export interface RunningProxy {
  /** Where the HTTP listener (if any) is bound. */
  readonly httpAddress: AddressInfo | undefined;
  readonly socksAddress: AddressInfo | undefined;
  /** Serves an already listening server's connections (e.g. one received over IPC). */
  attach(server: Server, kind: ListenerKind): void;
  /** Open client connections on all listeners. */
  connections(): number;
  tunnels(): number;
  close(): Promise<void>;
}

function listen(server: Server, on: ListenOn): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: on.host, port: on.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

const CLIENT_ERRORS: ReadonlyMap<string, [number, string]> = new Map([
  ['HPE_HEADER_OVERFLOW', [431, 'The request head is larger than the proxy accepts.']],
  ['ERR_HTTP_REQUEST_TIMEOUT', [408, 'The request head did not arrive in time.']],
  ['ERR_HTTP_HEADERS_TIMEOUT', [408, 'The request head did not arrive in time.']],
]);

/** A host predicate from passthrough entries; a bad entry is a start-up error naming it. */
export function passthroughMatcher(entries: readonly string[]): (host: CanonicalHost) => boolean {
  const patterns: HostPattern[] = entries.map((e) => {
    try {
      const p = parseNetPattern(e);
      if (p.port !== null) throw new Error('a passthrough entry takes no port');
      return p.host;
    } catch (err) {
      throw new CordonError('CORDON_POLICY_INVALID', `egress.tls.passthrough entry ${JSON.stringify(e)}: ${err instanceof Error ? err.message : 'invalid'}`);
    }
  });
  return (host) => patterns.some((p) => hostMatches(p, host, 'allow'));
}

function inspection(o: TlsOptions, serve: (socket: TLSSocket, tunnel: InspectedTunnel) => void): TlsInspection {
  const ca = `${o.roots ?? systemCaBundle()}${o.extraCa ?? ''}`;
  let context: SecureContext | undefined;
  const upstreamContext = (): SecureContext => (context ??= createSecureContext({ ca, minVersion: 'TLSv1.2', ciphers: PREFERRED_CIPHERS }));
  return { ca: o.ca, passthrough: passthroughMatcher(o.passthrough ?? []), roots: ca, upstreamContext, serve };
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const limits: ProxyLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.log ?? ((line: string) => void process.stderr.write(`cordon proxy: ${line}\n`));
  const gate = new DestinationGate({
    policy: options.policy,
    // Answers are kept for their TTL (capped at 60 s; answers without one are not kept); every use is checked again.
    resolver: cachingResolver(options.resolver ?? systemResolver),
    reportOnly: options.reportOnly === true,
    dnsTimeoutMs: limits.connectTimeoutMs,
    ...(options.publish === undefined ? {} : { publish: options.publish }),
    ...(options.approve === undefined ? {} : { approve: options.approve }),
  });
  const pool = new UpstreamPool({ idleTimeoutMs: limits.idleTimeoutMs, connectTimeoutMs: limits.connectTimeoutMs, maxHeaderBytes: limits.maxHeaderBytes });
  const inspected = new WeakMap<Socket, InspectedTunnel>();
  let inner: HttpServer | undefined;
  const tls = options.tls === undefined ? undefined : inspection(options.tls, (socket, tunnel) => {
    inspected.set(socket, tunnel);
    inner?.emit('connection', socket);
  });
  const ctx: ProxyContext = { gate, scanner: options.scanner ?? NOOP_SCANNER, limits, pool, tunnels: 0, log, ...(tls === undefined ? {} : { tls }) };
  const http = createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    keepAliveTimeout: limits.idleTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
  });
  http.setTimeout(limits.idleTimeoutMs);
  // The http server never listens itself (connections are handed to it), so
  // its own headersTimeout tracking is inactive: a per-connection timer bounds
  // the time to a complete head, re-armed after each response (keep-alive).
  // One timer per connection, re-armed with refresh() (a new timer per request costs timer-list churn on
  // the keep-alive path); it acts only while a head is awaited.
  const headTimers = new WeakMap<Socket, { readonly timer: NodeJS.Timeout; waiting: boolean }>();
  const armHead = (socket: Socket): void => {
    const h = headTimers.get(socket);
    if (h !== undefined) {
      h.waiting = true;
      h.timer.refresh();
      return;
    }
    const armed = {
      waiting: true,
      timer: setTimeout(() => {
        if (!armed.waiting) return;
        if (socket.writable) socket.end(refusalResponse({ kind: 'malformed', status: 408, subject: 'Http(?)', rule: 'proxy protocol', reason: 'The request head did not arrive in time.', mandatory: false }));
        socket.destroySoon();
      }, limits.headersTimeoutMs),
    };
    armed.timer.unref();
    headTimers.set(socket, armed);
  };
  const headArrived = (socket: Socket): void => {
    const h = headTimers.get(socket);
    if (h !== undefined) h.waiting = false;
  };
  const headDone = (socket: Socket): void => clearTimeout(headTimers.get(socket)?.timer);
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    headArrived(req.socket);
    res.once('finish', () => {
      if (!req.socket.destroyed) armHead(req.socket);
    });
    handleHttpRequest(ctx, req, res).catch((e: unknown) => internal(res, e));
  });
  http.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    headArrived(socket);
    handleConnect(ctx, req, socket, head).catch(() => socket.destroy());
  });
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    headArrived(socket);
    const target = plainUpgradeTarget(req);
    if ('kind' in target) {
      gate.record(target);
      socket.end(refusalResponse(target));
      return;
    }
    handleUpgrade(ctx, req, socket, head, target, false).catch(() => socket.destroy());
  });
  http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const [status, reason] = CLIENT_ERRORS.get(err.code ?? '') ?? [400, `Malformed HTTP request (${err.code ?? 'parse error'}).`];
    if (socket.writable) socket.end(refusalResponse({ kind: 'malformed', status, subject: 'Http(?)', rule: 'proxy protocol', reason, mandatory: false }));
    socket.destroySoon();
  });
  if (tls !== undefined) inner = innerServer(ctx, inspected, limits, (res, e) => internal(res, e));
  function internal(res: ServerResponse, e: unknown): void {
    log(`internal error: ${e instanceof Error ? e.message : String(e)}`);
    sendRefusal(res, { kind: 'upstream', status: 502, subject: 'Http(?)', rule: 'internal', reason: 'The proxy failed internally; the request was refused.', mandatory: false }, true);
  }

  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const onConnection = (kind: ListenerKind) => (socket: Socket): void => {
    if (sockets.size >= limits.maxConnections) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    // Replies go out whole (head and small bodies in one write): no Nagle delay behind an unacknowledged segment.
    socket.setNoDelay(true);
    socket.once('close', () => sockets.delete(socket));
    socket.once('close', () => headDone(socket));
    if (kind === 'http') {
      armHead(socket);
      http.emit('connection', socket);
    }
    else handleSocks(ctx, socket);
  };
  const attach = (server: Server, kind: ListenerKind): void => {
    servers.push(server);
    server.on('connection', onConnection(kind));
    server.on('error', (e) => log(`${kind} listener error: ${e.message}`));
  };
  let httpAddress: AddressInfo | undefined;
  let socksAddress: AddressInfo | undefined;
  if (options.http !== undefined) {
    const s = createNetServer();
    httpAddress = await listen(s, options.http);
    attach(s, 'http');
  }
  if (options.socks !== undefined) {
    const s = createNetServer();
    socksAddress = await listen(s, options.socks);
    attach(s, 'socks');
  }
  // Keep-alive clients send one small request at a time: with V8's default budget the per-request path ran in the
  // interpreter and baseline code for the first thousands of requests (paired: added p50 -0.06..-0.08 ms, CPU per
  // request -130..-160 us with 4 KiB; bulk inspected HTTPS +~8% CPU, its throughput unchanged in the same runs).
  optimiseSooner(4096);
  return {
    httpAddress,
    socksAddress,
    attach,
    connections: () => sockets.size,
    tunnels: () => ctx.tunnels,
    close: async () => {
      const closing = servers.map((s) => new Promise<void>((r) => s.close(() => r())));
      for (const s of sockets) s.destroy();
      await Promise.all(closing);
      pool.destroy();
      http.close();
      inner?.close();
    },
  };
}

/** The HTTP server decrypted streams of inspected tunnels are served by (it never listens). */
function innerServer(ctx: ProxyContext, tunnels: WeakMap<Socket, InspectedTunnel>, limits: ProxyLimits, internal: (res: ServerResponse, e: unknown) => void): HttpServer {
  const inner = createServer({ maxHeaderSize: limits.maxHeaderBytes, requestTimeout: 0, keepAliveTimeout: limits.idleTimeoutMs });
  inner.setTimeout(limits.idleTimeoutMs);
  inner.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const tunnel = tunnels.get(req.socket);
    if (tunnel === undefined) {
      res.destroy();
      return;
    }
    handleInspectedRequest(ctx, tunnel, req, res).catch((e: unknown) => internal(res, e));
  });
  inner.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.end(refusalResponse({ kind: 'malformed', status: 400, subject: 'Net(?)', rule: 'proxy protocol', reason: 'CONNECT inside an inspected tunnel is not supported.', mandatory: false }));
  });
  inner.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const tunnel = tunnels.get(socket);
    if (tunnel === undefined) {
      socket.destroy();
      return;
    }
    const method = req.method ?? 'GET';
    let path: string | Refusal;
    try {
      path = targetPath(tunnel, method, req.url ?? '');
    } catch {
      path = { kind: 'malformed', status: 400, subject: `Http(${method} ?)`, rule: 'proxy protocol', reason: 'The request target could not be parsed.', mandatory: false };
    }
    const bad = typeof path === 'string' ? checkHost(tunnel, method, req) : path;
    if (bad !== undefined || typeof path !== 'string') {
      const r = bad ?? { kind: 'malformed' as const, status: 400, subject: `Http(${method} ?)`, rule: 'proxy protocol', reason: 'Bad request target.', mandatory: false };
      ctx.gate.record(r);
      socket.end(refusalResponse(r));
      return;
    }
    handleUpgrade(ctx, req, socket, head, { host: tunnel.host, port: tunnel.port, path, tls: true }, true).catch(() => socket.destroy());
  });
  inner.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const [status, reason] = CLIENT_ERRORS.get(err.code ?? '') ?? [400, `Malformed HTTP request (${err.code ?? 'parse error'}).`];
    if (socket.writable) socket.end(refusalResponse({ kind: 'malformed', status, subject: 'Http(?)', rule: 'proxy protocol', reason, mandatory: false }));
    socket.destroySoon();
  });
  return inner;
}

/** The target of a plain WebSocket upgrade sent to the proxy in absolute form (`http://` or `ws://`). */
function plainUpgradeTarget(req: IncomingMessage): WsTarget | Refusal {
  const method = req.method ?? 'GET';
  const raw = req.url ?? '';
  const bad = (reason: string): Refusal => ({ kind: 'malformed', status: 400, subject: `Http(${method} ?)`, rule: 'proxy protocol', reason, mandatory: false });
  if (!/^(http|ws):\/\//i.test(raw)) return bad('Send WebSocket upgrades in absolute form (GET http://host/path) or through a CONNECT tunnel.');
  try {
    const t = hostFromUrl(raw);
    const u = new URL(raw);
    return { host: t.host, port: t.port, path: `${u.pathname}${u.search}`, tls: false };
  } catch {
    return bad('The request URL could not be parsed.');
  }
}
