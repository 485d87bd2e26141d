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
 * A tunnel direction is handed to the zero-copy relay once it has carried this many bytes: a bulk transfer. Most
 * tunnels carry a few requests and answers and never hold a kernel pipe (every pipe counts against the user's pipe
 * quota, which the sandboxed command shares; up to maxTunnels tunnels could otherwise hold two each).
 */
export const RELAY_AFTER_BYTES = 512 * 1024;

/**
 * Splices client and upstream until both directions ended (each end of file is passed on as a half-close), either
 * side fails, idles out or the total timeout fires; then frees the slot. Each direction is piped in JavaScript, and
 * between two plain TCP sockets it goes to the kernel (zero-copy relay; its progress keeps the idle timeouts from
 * firing while bytes move) once it carried RELAY_AFTER_BYTES; with CORDON_NO_SPLICE=1 it stays in JavaScript.
 * The caller must not resume either socket afterwards.
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
  if (head !== undefined && head.length > 0) upstream.write(head);
  // Both directions passed their end on (a relayed source's end is never seen by Node, so its socket's 'close' never comes).
  let ended = 0;
  const directionEnded = (): void => {
    ended += 1;
    if (ended === 2) close();
  };
  direction(client, upstream, relays, close, directionEnded);
  direction(upstream, client, relays, close, directionEnded);
}

/**
 * One direction: piped (its end passed on as `to.end()`, done once flushed: 'finish'), and handed to the zero-copy
 * relay after RELAY_AFTER_BYTES when both sockets are plain TCP (what Node already read goes first; the relay passes
 * the end on with shutdown(SHUT_WR)). A relay that cannot start leaves the direction in JavaScript.
 */
function direction(from: Socket, to: Socket, relays: Relay[], fail: () => void, ended: () => void): void {
  to.once('finish', ended);
  from.pipe(to);
  if (!canRelay(from, to)) return;
  let seen = 0;
  const onData = (c: Buffer): void => {
    seen += c.length;
    if (seen < RELAY_AFTER_BYTES) return;
    from.off('data', onData);
    from.unpipe(to);
    // Reading stops now (synchronously): no byte can reach JavaScript after what is held here.
    for (const b of stopReading(from)) if (b.length > 0) to.write(b);
    whenFlushed(to, () => {
      if (from.destroyed || to.destroyed) return;
      const r = startRelay(from, to, {
        max: -1,
        halfClose: true,
        // Tunnels may be many and long-lived: a quarter of the body relay's pipe.
        pipeBytes: 256 * 1024,
        onDone: (e) => {
          if (e.error !== undefined) fail();
          else ended();
        },
      });
      if (r !== undefined) relays.push(r);
      else {
        from.pipe(to);
        resumeReading(from);
      }
    });
  };
  from.on('data', onData);
}
