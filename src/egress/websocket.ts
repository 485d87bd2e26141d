/**
 * WebSocket upgrades, plain (`GET http://host/path` with `Upgrade: websocket`
 * to the proxy) and inside TLS-inspected tunnels. The upgrade request is
 * decided as `Http(GET host:port/path)` like any request, its URL and headers
 * are scanned, and it is sent to the checked address (over verified TLS for
 * inspected tunnels). Only the permessage-deflate extension is offered
 * upstream (the relay must be able to read every frame); an upstream that
 * accepts any other extension is refused. After the 101, `ws-relay.ts`
 * scans every client-to-server frame before forwarding it. An upgrade the
 * credential scanner routes (`brokerUpgrade`) is sent to the credential broker.
 */
import { request, type IncomingMessage } from 'node:http';
import { request as tlsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { brokerUpgrade } from '../broker/proxy-route.js';
import type { CanonicalHost } from '../policy/types.js';
import type { ProxyContext } from './context.js';
import { scan } from './context.js';
import { forwardHeaders, rawHeader } from './headers.js';
import { formatAuthority, formatHost } from './hostname.js';
import { refusalResponse, type Refusal } from './refusal.js';
import type { ScanContext } from './scanner.js';
import { NOOP_SCANNER } from './scanner.js';
import { admitTunnel } from './tunnel.js';
import { relayWebSocket } from './ws-relay.js';

export interface WsTarget {
  readonly host: CanonicalHost;
  readonly port: number;
  /** Normalised path and query. */
  readonly path: string;
  /** Upstream over TLS (inspected tunnel). */
  readonly tls: boolean;
}

function refuse(socket: Socket, r: Refusal): void {
  if (socket.writable) socket.end(refusalResponse(r));
  socket.destroySoon();
}

/** The permessage-deflate offers of a Sec-WebSocket-Extensions header (other extensions are dropped). */
export function deflateOffers(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const kept = value.split(',').map((o) => o.trim()).filter((o) => (o.split(';')[0] ?? '').trim().toLowerCase() === 'permessage-deflate');
  return kept.length === 0 ? undefined : kept.join(', ');
}

/** Extension names an upstream accepted; only permessage-deflate may be among them. */
function acceptedExtensions(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  return value.split(',').map((o) => (o.split(';')[0] ?? '').trim().toLowerCase());
}

function statusLine(code: number, message: string): string {
  return `HTTP/1.1 ${code} ${message.replace(/[^\x20-\x7e]/g, '')}\r\n`;
}

export async function handleUpgrade(ctx: ProxyContext, req: IncomingMessage, socket: Socket, head: Buffer, t: WsTarget, holdsTunnel: boolean): Promise<void> {
  socket.on('error', () => socket.destroy());
  const method = req.method ?? 'GET';
  const authority = t.port === (t.tls ? 443 : 80) ? formatHost(t.host) : formatAuthority(t.host, t.port);
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (method !== 'GET' || upgrade !== 'websocket' || req.headers['sec-websocket-key'] === undefined) {
    const r: Refusal = { kind: 'malformed', status: 400, subject: `Http(${method} ${authority}/?)`, rule: 'proxy protocol', reason: 'Only WebSocket upgrades (GET with Upgrade: websocket and Sec-WebSocket-Key) are supported.', mandatory: false };
    ctx.gate.record(r);
    refuse(socket, r);
    return;
  }
  const verdict = await ctx.gate.check({ kind: 'Http', method, host: t.host, port: t.port, path: t.path });
  if (!verdict.ok) {
    refuse(socket, verdict.refusal);
    return;
  }
  const headers = forwardHeaders(req.rawHeaders, authority);
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if ((headers[i] ?? '').toLowerCase() === 'sec-websocket-extensions') continue;
    out.push(headers[i] ?? '', headers[i + 1] ?? '');
  }
  const offer = deflateOffers(rawHeader(req.rawHeaders, 'sec-websocket-extensions'));
  if (offer !== undefined) out.push('Sec-WebSocket-Extensions', offer);
  out.push('Connection', 'Upgrade', 'Upgrade', 'websocket');
  const sc: ScanContext = { subject: verdict.subject, method, host: authority, port: t.port };
  const found = (await scan(ctx, sc, (s) => s.url(sc, `${t.tls ? 'wss' : 'ws'}://${authority}${t.path}`))) ?? (await scan(ctx, sc, (s) => s.headers(sc, out)));
  if (found !== undefined) {
    refuse(socket, found);
    return;
  }
  if (!holdsTunnel && !admitTunnel(ctx)) {
    const r: Refusal = { kind: 'limit', status: 503, subject: verdict.subject, rule: 'limit maxTunnels', reason: `Too many open tunnels and WebSockets (${ctx.limits.maxTunnels}); close some and retry.`, mandatory: false };
    ctx.gate.record(r);
    refuse(socket, r);
    return;
  }
  let released = holdsTunnel;
  const release = (): void => {
    if (released) return;
    released = true;
    ctx.tunnels -= 1;
  };
  const a = verdict.addresses[0];
  if (a === undefined) return release();
  const common = { host: a.address, family: a.family, port: t.port, method, path: t.path, headers: out, setHost: false, agent: false as const, timeout: ctx.limits.connectTimeoutMs };
  const tlsOpts = ctx.tls === undefined ? undefined : { secureContext: ctx.tls.upstreamContext(), ...(t.host.type === 'dns' ? { servername: t.host.name } : {}) };
  // A placeholder in its credential's header, to one of its hosts: the broker sends the upgrade (with the real value) instead.
  const up = brokerUpgrade(ctx, sc, t.tls, t.path, out, ctx.limits.connectTimeoutMs) ?? (t.tls && tlsOpts !== undefined ? tlsRequest({ ...common, ...tlsOpts }) : request(common));
  const fail = (status: number, reason: string): void => {
    release();
    refuse(socket, { kind: 'upstream', status, subject: verdict.subject, rule: 'upstream', reason, mandatory: false });
  };
  up.on('timeout', () => up.destroy(new Error('timeout')));
  up.on('error', (e: NodeJS.ErrnoException) => fail(502, `The upstream connection failed (${e.code ?? e.message}).`));
  socket.once('close', () => up.destroy());
  up.on('response', (res) => {
    // Not upgraded: pass the (bounded) answer on and close.
    const chunks: Buffer[] = [];
    let n = 0;
    res.on('data', (c: Buffer) => {
      n += c.length;
      if (n <= 64 * 1024) chunks.push(c);
    });
    res.on('end', () => {
      release();
      const body = Buffer.concat(chunks);
      const h = forwardHeaders(res.rawHeaders).filter((_, i, arr) => !['content-length'].includes((arr[i - (i % 2)] ?? '').toLowerCase()));
      let text = statusLine(res.statusCode ?? 502, res.statusMessage ?? '');
      for (let i = 0; i + 1 < h.length; i += 2) text += `${h[i] ?? ''}: ${h[i + 1] ?? ''}\r\n`;
      socket.end(Buffer.concat([Buffer.from(`${text}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`, 'latin1'), body]));
    });
  });
  up.on('upgrade', (res: IncomingMessage, upSocket: Socket, upHead: Buffer) => {
    const exts = acceptedExtensions(rawHeader(res.rawHeaders, 'sec-websocket-extensions'));
    if (exts.some((e) => e !== 'permessage-deflate') || exts.length > 1 || (exts.length === 1 && offer === undefined)) {
      upSocket.destroy();
      fail(502, `The upstream accepted a WebSocket extension the proxy cannot inspect (${exts.join(', ')}); refused.`);
      return;
    }
    if (socket.destroyed) {
      upSocket.destroy();
      return release();
    }
    let text = statusLine(101, res.statusMessage ?? 'Switching Protocols');
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) text += `${res.rawHeaders[i] ?? ''}: ${res.rawHeaders[i + 1] ?? ''}\r\n`;
    socket.write(`${text}\r\n`, 'latin1');
    if (ctx.scanner === NOOP_SCANNER) {
      // Nothing to scan: bytes both ways.
      upSocket.on('error', () => socket.destroy());
      socket.on('close', () => upSocket.destroy());
      upSocket.on('close', () => {
        socket.destroy();
        release();
      });
      if (upHead.length > 0) socket.write(upHead);
      if (head.length > 0) upSocket.write(head);
      socket.pipe(upSocket);
      upSocket.pipe(socket);
      return;
    }
    relayWebSocket(ctx, { client: socket, upstream: upSocket, clientHead: head, upstreamHead: upHead, deflate: exts.length === 1, sc, onClose: release });
  });
  up.end();
}
