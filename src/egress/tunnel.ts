/**
 * Byte tunnels (CONNECT and SOCKS5): connect to the checked addresses in
 * order (never a new lookup), then splice the two sockets with idle and total
 * timeouts. The tunnel count is held from admission to close.
 */
import { connect, type Socket } from 'node:net';
import type { ProxyContext } from './context.js';
import type { ResolvedAddress } from './resolver.js';
import { canRelay, resumeReading, startRelay, stopReading, whenFlushed, type Relay } from './zero-copy.js';

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

/**
 * Splices client and upstream until both directions ended (each end of file is passed on as a half-close), either
 * side fails, idles out or the total timeout fires; then frees the slot. Between two plain TCP sockets the kernel
 * moves the bytes (zero-copy relay, one per direction; the relays' progress keeps the idle timeouts from firing
 * while bytes move); otherwise (or with CORDON_NO_SPLICE=1) they are piped in JavaScript. The caller must not
 * resume either socket afterwards.
 */
export function splice(ctx: ProxyContext, client: Socket, upstream: Socket, head: Buffer | undefined, subject: string): void {
  let closed = false;
  const relays: Relay[] = [];
  const close = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(total);
    ctx.tunnels -= 1;
    for (const r of relays) r.cancel();
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
    // An end of file is passed on (half-close), not answered by closing this side too.
    s.allowHalfOpen = true;
  }
  if (canRelay(client, upstream)) {
    relayBoth(client, upstream, head, relays, close);
    return;
  }
  if (head !== undefined && head.length > 0) upstream.write(head);
  client.pipe(upstream);
  upstream.pipe(client);
}

/** One zero-copy relay per direction, each started once what Node already read of its source went out first. */
function relayBoth(client: Socket, upstream: Socket, head: Buffer | undefined, relays: Relay[], close: () => void): void {
  // Both sources stop being read now (synchronously): no byte can reach JavaScript after what is held here.
  const fromClient = [...(head === undefined ? [] : [head]), ...stopReading(client)];
  const fromUpstream = stopReading(upstream);
  let ended = 0;
  const direction = (from: Socket, to: Socket, held: readonly Buffer[]): void => {
    for (const c of held) if (c.length > 0) to.write(c);
    whenFlushed(to, () => {
      if (client.destroyed || upstream.destroyed) return;
      const r = startRelay(from, to, {
        max: -1,
        halfClose: true,
        // Tunnels may be many and long-lived (up to maxTunnels, two relays each): a quarter of the body relay's pipe.
        pipeBytes: 256 * 1024,
        onDone: (e) => {
          if (e.error !== undefined) return close();
          ended += 1;
          if (ended === 2) close();
        },
      });
      if (r !== undefined) relays.push(r);
      else {
        // The relay could not start (descriptors exhausted...): this direction goes through JavaScript.
        from.pipe(to);
        resumeReading(from);
      }
    });
  };
  direction(client, upstream, fromClient);
  direction(upstream, client, fromUpstream);
}
