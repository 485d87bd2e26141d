/**
 * CONNECT: the authority is parsed with the one canonicaliser, decided as a
 * `Net(host:port)` subject, resolved and checked; a refusal is a 403 with the
 * cordon headers before any tunnel exists. With TLS inspection on, a tunnel
 * to a host that is not passthrough is decided without resolving anything
 * (each request inside is decided on its own) and terminated by the proxy;
 * a passthrough tunnel is connected and its ClientHello SNI checked.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { isCordonError } from '../errors.js';
import type { ProxyContext, TlsInspection } from './context.js';
import { scan } from './context.js';
import { formatAuthority, formatHost, parseAuthority } from './hostname.js';
import { refusalResponse, type Refusal } from './refusal.js';
import { inspectTunnel, passthroughTunnel } from './tls-inspect.js';
import { admitTunnel, connectChecked, splice } from './tunnel.js';

function refuse(socket: Socket, r: Refusal): void {
  if (socket.writable) socket.end(refusalResponse(r));
  socket.destroySoon();
}

/** After `200 Connection Established`: a plain-text 403 for a client that sent plain bytes, a close for one in TLS. */
function refuseLate(socket: Socket): (r: Refusal, inTls: boolean) => void {
  return (r, inTls) => {
    if (inTls) socket.destroy();
    else refuse(socket, r);
  };
}

type Target = ReturnType<typeof parseAuthority>;

function tooMany(ctx: ProxyContext, subject: string): Refusal {
  const r: Refusal = { kind: 'limit', status: 503, subject, rule: 'limit maxTunnels', reason: `Too many open tunnels (${ctx.limits.maxTunnels}); close some and retry.`, mandatory: false };
  ctx.gate.record(r);
  return r;
}

/**
 * DLP on a tunnel's host name (an encoded secret in a subdomain), as a URL so
 * the scanner reads the labels; run before the name is resolved. `written`:
 * the name as the client sent it, scanned instead of the canonical (lower-case)
 * one when it differs only by case (base64 and upper-case base32 labels are
 * told by their case).
 */
export async function scanAuthority(ctx: ProxyContext, target: { readonly host: Target['host']; readonly port: number; readonly written?: string | undefined }, subject: string): Promise<Refusal | undefined> {
  const authority = formatAuthority(target.host, target.port);
  const canonical = formatHost(target.host);
  const host = target.written !== undefined && target.written !== canonical && target.written.toLowerCase() === canonical ? target.written : canonical;
  const sc = { subject, method: 'CONNECT', host: authority, port: target.port };
  return scan(ctx, sc, (s) => s.url(sc, `https://${host}:${target.port}/`));
}

/** The host part of a CONNECT target as written (`Host.Example:443` -> `Host.Example`); undefined for IPv6 literals. */
function writtenHost(authority: string): string | undefined {
  return /^([^:[\]/?#@\s]+):\d{1,5}$/.exec(authority)?.[1];
}

async function inspectConnect(ctx: ProxyContext, tls: TlsInspection, target: Target & { readonly written?: string | undefined }, socket: Socket, head: Buffer): Promise<void> {
  const verdict = ctx.gate.checkInspectedTunnel({ kind: 'Net', host: target.host, port: target.port });
  if (!verdict.ok) {
    refuse(socket, verdict.refusal);
    return;
  }
  const found = await scanAuthority(ctx, target, verdict.subject);
  if (found !== undefined) {
    refuse(socket, found);
    return;
  }
  if (!admitTunnel(ctx)) {
    refuse(socket, tooMany(ctx, verdict.subject));
    return;
  }
  if (socket.destroyed) {
    ctx.tunnels -= 1;
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  inspectTunnel(ctx, tls, socket, head, { host: target.host, port: target.port, subject: verdict.subject }, refuseLate(socket));
}

export async function handleConnect(ctx: ProxyContext, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
  socket.on('error', () => socket.destroy());
  // A client may send its end of file right after the request (and its first bytes): that ends only its direction.
  // Without this, Node ends this side too at once, and the 200 and the upstream's answer never reach the client.
  socket.allowHalfOpen = true;
  let target: Target;
  try {
    target = parseAuthority(req.url ?? '');
  } catch (e) {
    const r: Refusal = { kind: 'malformed', status: 400, subject: 'Net(?)', rule: 'proxy protocol', reason: `${isCordonError(e) ? e.message : 'Bad CONNECT target.'} Write CONNECT host:port.`, mandatory: false };
    ctx.gate.record(r);
    refuse(socket, r);
    return;
  }
  const tls = ctx.tls;
  if (tls !== undefined && !tls.passthrough(target.host)) {
    await inspectConnect(ctx, tls, { ...target, written: writtenHost(req.url ?? '') }, socket, head);
    return;
  }
  // The name is scanned before anything resolves it: an encoded secret in a label never becomes a DNS query.
  const found = await scanAuthority(ctx, { ...target, written: writtenHost(req.url ?? '') }, `Net(${formatAuthority(target.host, target.port)})`);
  if (found !== undefined) {
    refuse(socket, found);
    return;
  }
  const verdict = await ctx.gate.check({ kind: 'Net', host: target.host, port: target.port });
  if (!verdict.ok) {
    refuse(socket, verdict.refusal);
    return;
  }
  if (!admitTunnel(ctx)) {
    refuse(socket, tooMany(ctx, verdict.subject));
    return;
  }
  const upstream = await connectChecked(ctx, verdict.addresses, verdict.port);
  if (typeof upstream === 'string') {
    ctx.tunnels -= 1;
    const status = upstream === 'timeout' ? 504 : 502;
    refuse(socket, { kind: 'upstream', status, subject: verdict.subject, rule: 'upstream', reason: `The destination is allowed, but the connection failed (${upstream}).`, mandatory: false });
    return;
  }
  if (socket.destroyed) {
    ctx.tunnels -= 1;
    upstream.destroy();
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  // With inspection on, a passthrough tunnel must still carry TLS whose SNI names this host.
  if (tls !== undefined) passthroughTunnel(ctx, socket, upstream, head, { host: target.host, port: target.port, subject: verdict.subject }, refuseLate(socket));
  else splice(ctx, socket, upstream, head, verdict.subject);
}
