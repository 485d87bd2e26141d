/**
 * Byte tunnels (CONNECT and SOCKS5): connect to the checked addresses in
 * order (never a new lookup), then splice the two sockets with idle and total
 * timeouts. The tunnel count is held from admission to close.
 */
import { connect, type Socket } from 'node:net';
import type { ProxyContext } from './context.js';
import type { ResolvedAddress } from './resolver.js';

export type ConnectFailure = 'refused' | 'unreachable' | 'timeout';

/** Connects to the first checked address that answers; every attempt is bounded by the connect timeout. */
export function connectChecked(ctx: ProxyContext, addresses: readonly ResolvedAddress[], port: number): Promise<Socket | ConnectFailure> {
  return new Promise((resolve) => {
    let i = 0;
    let last: ConnectFailure = 'unreachable';
    const next = (): void => {
      const a = addresses[i++];
      if (a === undefined) {
        resolve(last);
        return;
      }
      const s = connect({ host: a.address, family: a.family, port, noDelay: true });
      const timer = setTimeout(() => {
        last = 'timeout';
        s.destroy();
        next();
      }, ctx.limits.connectTimeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        last = e.code === 'ECONNREFUSED' ? 'refused' : 'unreachable';
        next();
      });
    };
    next();
  });
}

/** Reserves a tunnel slot; false when the cap is reached (nothing may be connected then). */
export function admitTunnel(ctx: ProxyContext): boolean {
  if (ctx.tunnels >= ctx.limits.maxTunnels) return false;
  ctx.tunnels += 1;
  return true;
}

/** Splices client and upstream until either side ends, idles out or the total timeout fires; then frees the slot. */
export function splice(ctx: ProxyContext, client: Socket, upstream: Socket, head: Buffer | undefined, subject: string): void {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(total);
    ctx.tunnels -= 1;
    client.destroy();
    upstream.destroy();
  };
  const total = setTimeout(() => {
    ctx.log(`tunnel ${subject} reached the total timeout (${ctx.limits.totalTimeoutMs} ms); closed`);
    close();
  }, ctx.limits.totalTimeoutMs);
  for (const s of [client, upstream]) {
    s.setNoDelay(true);
    s.setTimeout(ctx.limits.idleTimeoutMs, close);
    s.on('error', close);
    s.on('close', close);
  }
  if (head !== undefined && head.length > 0) upstream.write(head);
  client.pipe(upstream);
  upstream.pipe(client);
}
