/**
 * CONNECT: the authority is parsed with the one canonicaliser, decided as a
 * `Net(host:port)` subject, resolved and checked; a refusal is a 403 with the
 * cordon headers before any tunnel exists.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { isCordonError } from '../errors.js';
import type { ProxyContext } from './context.js';
import { scan } from './context.js';
import { formatAuthority, parseAuthority } from './hostname.js';
import { refusalResponse, type Refusal } from './refusal.js';
import { admitTunnel, connectChecked, splice } from './tunnel.js';

function refuse(socket: Socket, r: Refusal): void {
  if (socket.writable) socket.end(refusalResponse(r));
  socket.destroySoon();
}

export async function handleConnect(ctx: ProxyContext, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
  socket.on('error', () => socket.destroy());
  let target: { host: ReturnType<typeof parseAuthority>['host']; port: number };
  try {
    target = parseAuthority(req.url ?? '');
  } catch (e) {
    const r: Refusal = { kind: 'malformed', status: 400, subject: 'Net(?)', rule: 'proxy protocol', reason: `${isCordonError(e) ? e.message : 'Bad CONNECT target.'} Write CONNECT host:port.`, mandatory: false };
    ctx.gate.record(r);
    refuse(socket, r);
    return;
  }
  const verdict = await ctx.gate.check({ kind: 'Net', host: target.host, port: target.port });
  if (!verdict.ok) {
    refuse(socket, verdict.refusal);
    return;
  }
  const authority = formatAuthority(target.host, target.port);
  const sc = { subject: verdict.subject, method: 'CONNECT', host: authority, port: target.port };
  const found = await scan(ctx, sc, (s) => s.url(sc, authority));
  if (found !== undefined) {
    refuse(socket, found);
    return;
  }
  if (!admitTunnel(ctx)) {
    const r: Refusal = { kind: 'limit', status: 503, subject: verdict.subject, rule: 'limit maxTunnels', reason: `Too many open tunnels (${ctx.limits.maxTunnels}); close some and retry.`, mandatory: false };
    ctx.gate.record(r);
    refuse(socket, r);
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
  splice(ctx, socket, upstream, head, verdict.subject);
}
