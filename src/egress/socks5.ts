/**
 * The SOCKS5 CONNECT listener's connection handler: bounded handshake with a
 * deadline, then the same gate as CONNECT (`Net(host:port)`), then a tunnel.
 * Every malformed input gets the proper failure reply and a close; nothing is
 * connected before the gate allowed it.
 */
import { scanAuthority } from './connect-tunnel.js';
import type { Socket } from 'node:net';
import type { ProxyContext } from './context.js';
import { formatAuthority } from './hostname.js';
import { methodReply, parseGreeting, parseRequest, REPLY, reply, type ReplyCode, type SocksTarget, type Step } from './socks5-parse.js';
import { inspectTunnel, passthroughTunnel } from './tls-inspect.js';
import { admitTunnel, connectChecked, splice } from './tunnel.js';

/** SOCKS to port 443 is TLS-inspected like CONNECT (other ports stay opaque: SOCKS is for non-HTTP protocols). */
const INSPECTED_SOCKS_PORT = 443;

export function handleSocks(ctx: ProxyContext, socket: Socket): void {
  let buf: Buffer = Buffer.alloc(0);
  let phase: 'greeting' | 'request' | 'busy' = 'greeting';
  const deadline = setTimeout(() => socket.destroy(), ctx.limits.headersTimeoutMs);
  const fail = (code: ReplyCode, why: string): void => {
    clearTimeout(deadline);
    phase = 'busy';
    ctx.log(`socks5: ${why}`);
    socket.end(reply(code));
    socket.destroySoon();
  };
  const refuseMethod = (why: string): void => {
    clearTimeout(deadline);
    phase = 'busy';
    ctx.log(`socks5: ${why}`);
    socket.end(methodReply(false));
    socket.destroySoon();
  };
  socket.on('error', () => socket.destroy());
  socket.on('close', () => clearTimeout(deadline));
  // A client may send its end of file right after its request (and first bytes): that ends only its direction.
  // Without this, Node ends this side too at once, and the reply and the upstream's answer never reach the client.
  // A handshake that stays incomplete is still cut by the deadline.
  socket.allowHalfOpen = true;
  const onData = (chunk: Buffer): void => {
    if (phase === 'busy') return;
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    if (buf.length > ctx.limits.maxSocksHandshakeBytes) {
      const why = `handshake longer than ${ctx.limits.maxSocksHandshakeBytes} bytes`;
      if (phase === 'request') fail(REPLY.generalFailure, why);
      else refuseMethod(why);
      return;
    }
    if (phase === 'greeting') {
      const g = parseGreeting(buf);
      if (g.kind === 'more') return;
      if (g.kind === 'bad') {
        refuseMethod(g.reason);
        return;
      }
      socket.write(methodReply(true));
      buf = buf.subarray(g.used);
      phase = 'request';
    }
    const r: Step<SocksTarget> = parseRequest(buf);
    if (r.kind === 'more') return;
    if (r.kind === 'bad') {
      const record = { kind: 'malformed' as const, status: 400, subject: 'Net(?)', rule: 'proxy protocol', reason: `SOCKS5: ${r.reason}.`, mandatory: false };
      ctx.gate.record(record);
      fail(r.reply === 'no-method' ? REPLY.generalFailure : r.reply, r.reason);
      return;
    }
    clearTimeout(deadline);
    phase = 'busy';
    socket.pause();
    socket.off('data', onData);
    void connectTarget(ctx, socket, r.value, buf.subarray(r.used), fail);
  };
  socket.on('data', onData);
}

async function inspectTarget(ctx: ProxyContext, socket: Socket, t: SocksTarget, rest: Buffer, fail: (c: ReplyCode, why: string) => void): Promise<void> {
  const tls = ctx.tls;
  if (tls === undefined) return;
  const verdict = ctx.gate.checkInspectedTunnel({ kind: 'Net', host: t.host, port: t.port });
  if (!verdict.ok) {
    fail(REPLY.notAllowed, `${verdict.refusal.subject} refused: ${verdict.refusal.reason}`);
    return;
  }
  if ((await scanAuthority(ctx, t, verdict.subject)) !== undefined) {
    fail(REPLY.notAllowed, `${verdict.subject} refused by DLP`);
    return;
  }
  if (!admitTunnel(ctx)) {
    ctx.gate.record({ kind: 'limit', status: 503, subject: verdict.subject, rule: 'limit maxTunnels', reason: `Too many open tunnels (${ctx.limits.maxTunnels}).`, mandatory: false });
    fail(REPLY.generalFailure, 'tunnel limit reached');
    return;
  }
  if (socket.destroyed) {
    ctx.tunnels -= 1;
    return;
  }
  socket.write(reply(REPLY.succeeded));
  inspectTunnel(ctx, tls, socket, rest, { host: t.host, port: t.port, subject: verdict.subject }, () => socket.destroy());
  socket.resume();
}

async function connectTarget(ctx: ProxyContext, socket: Socket, t: SocksTarget, rest: Buffer, fail: (c: ReplyCode, why: string) => void): Promise<void> {
  const tls = t.port === INSPECTED_SOCKS_PORT ? ctx.tls : undefined;
  if (tls !== undefined && !tls.passthrough(t.host)) {
    await inspectTarget(ctx, socket, t, rest, fail);
    return;
  }
  // The name is scanned before anything resolves it: an encoded secret in a label never becomes a DNS query.
  const pre = `Net(${formatAuthority(t.host, t.port)})`;
  if ((await scanAuthority(ctx, t, pre)) !== undefined) {
    fail(REPLY.notAllowed, `${pre} refused by DLP`);
    return;
  }
  const verdict = await ctx.gate.check({ kind: 'Net', host: t.host, port: t.port });
  if (!verdict.ok) {
    const r = verdict.refusal;
    fail(r.kind === 'dns' ? REPLY.hostUnreachable : REPLY.notAllowed, `${r.subject} refused: ${r.reason}`);
    return;
  }
  if (!admitTunnel(ctx)) {
    ctx.gate.record({ kind: 'limit', status: 503, subject: verdict.subject, rule: 'limit maxTunnels', reason: `Too many open tunnels (${ctx.limits.maxTunnels}).`, mandatory: false });
    fail(REPLY.generalFailure, 'tunnel limit reached');
    return;
  }
  const upstream = await connectChecked(ctx, verdict.addresses, verdict.port);
  if (typeof upstream === 'string') {
    ctx.tunnels -= 1;
    fail(upstream === 'refused' ? REPLY.refused : REPLY.hostUnreachable, `${verdict.subject}: connection ${upstream}`);
    return;
  }
  if (socket.destroyed) {
    ctx.tunnels -= 1;
    upstream.destroy();
    return;
  }
  socket.write(reply(REPLY.succeeded));
  if (tls !== undefined) {
    passthroughTunnel(ctx, socket, upstream, rest, { host: t.host, port: t.port, subject: verdict.subject }, () => socket.destroy());
    socket.resume();
  }
  // splice() reads the socket itself (resuming it here would hand bytes to no one while the kernel relays).
  else splice(ctx, socket, upstream, rest, verdict.subject);
}
