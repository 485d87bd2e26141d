/**
 * TLS inspection of an admitted tunnel (CONNECT, SOCKS to port 443). After
 * the tunnel was answered, the first bytes the client sends must start a TLS
 * handshake (anything else is refused: only TLS crosses a tunnel to an
 * inspected host). TLS is terminated with a leaf certificate for the tunnel's
 * host from the session CA; the SNI, when sent, must name that host (domain
 * fronting is refused); ALPN offers HTTP/1.1 only. The decrypted stream is
 * served by the proxy's inner HTTP server, where each request is decided,
 * scanned and forwarded like plain HTTP (see inspected-http.ts).
 *
 * Passthrough hosts are not terminated: the ClientHello is read (bounded) to
 * check its SNI, then the bytes are spliced to the upstream unchanged.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { canonicalizeHost, formatAuthority } from './hostname.js';
import type { InspectedTunnel, ProxyContext, TlsInspection } from './context.js';
import { looksLikeTls, MAX_HELLO_BYTES, parseClientHello } from './client-hello.js';
import type { Refusal } from './refusal.js';
import { splice } from './tunnel.js';
import type { CanonicalHost } from '../policy/types.js';

/**
 * How the protocol in front (CONNECT or SOCKS) tells the client about a
 * refusal after the tunnel was answered: `inTls` is true once the client
 * speaks TLS (then only closing is possible), false when it sent plain bytes.
 */
export type LateRefusal = (r: Refusal, inTls: boolean) => void;

function sameHost(a: CanonicalHost, b: CanonicalHost): boolean {
  return a.type === b.type && a.name === b.name;
}

function sniRefusal(tunnel: InspectedTunnel, sni: string, why: string): Refusal {
  return {
    kind: 'policy', status: 403, subject: tunnel.subject, rule: 'tls: the SNI must name the tunnel host',
    reason: `The TLS server name ${JSON.stringify(sni.slice(0, 300))} ${why} ${formatAuthority(tunnel.host, tunnel.port)} (domain fronting); refused.`, mandatory: false,
  };
}

/** Checks an SNI against the tunnel host; a refusal when it names another host or is not a host name. */
export function checkSni(tunnel: InspectedTunnel, sni: string | undefined): Refusal | undefined {
  if (sni === undefined || sni === '') return undefined;
  let host: CanonicalHost;
  try {
    host = canonicalizeHost(sni);
  } catch {
    return sniRefusal(tunnel, sni, 'is not a valid host name for');
  }
  return sameHost(host, tunnel.host) ? undefined : sniRefusal(tunnel, sni, 'does not name the CONNECT host');
}

/**
 * Holds the tunnel slot until the client closes, reads the first bytes
 * (within the head timeout) and hands them to `next`. The slot was taken by
 * the caller (admitTunnel) and is released here.
 */
function firstBytes(ctx: ProxyContext, client: Socket, head: Buffer, tunnel: InspectedTunnel, next: (first: Buffer) => void): void {
  let released = false;
  const total = setTimeout(() => {
    ctx.log(`inspected tunnel ${tunnel.subject} reached the total timeout (${ctx.limits.totalTimeoutMs} ms); closed`);
    client.destroy();
  }, ctx.limits.totalTimeoutMs);
  client.once('close', () => {
    if (released) return;
    released = true;
    clearTimeout(total);
    ctx.tunnels -= 1;
  });
  client.on('error', () => client.destroy());
  client.setNoDelay(true);
  if (head.length > 0) {
    next(head);
    return;
  }
  const deadline = setTimeout(() => client.destroy(), ctx.limits.headersTimeoutMs);
  client.once('data', (first: Buffer) => {
    clearTimeout(deadline);
    client.pause();
    next(first);
  });
  client.once('close', () => clearTimeout(deadline));
}

/** Terminates TLS on an admitted tunnel and serves the decrypted requests. */
export function inspectTunnel(ctx: ProxyContext, tls: TlsInspection, client: Socket, head: Buffer, tunnel: InspectedTunnel, refuse: LateRefusal): void {
  firstBytes(ctx, client, head, tunnel, (first) => {
    if (!looksLikeTls(first)) {
      const r: Refusal = {
        kind: 'policy', status: 403, subject: tunnel.subject, rule: 'tls inspection: only TLS may cross this tunnel',
        reason: 'The tunnel did not start with a TLS handshake. Tunnels to inspected hosts carry TLS only; send plain HTTP as an absolute-form request to the proxy, other protocols through SOCKS5.',
        mandatory: false,
      };
      ctx.gate.record(r);
      refuse(r, false);
      return;
    }
    client.unshift(first);
    tls.ca.contextFor(tunnel.host).then((secureContext) => terminate(ctx, tls, client, tunnel, secureContext), (e: unknown) => {
      ctx.log(`leaf certificate for ${tunnel.subject} failed: ${e instanceof Error ? e.message : String(e)}`);
      client.destroy();
    });
  });
}

function terminate(ctx: ProxyContext, tls: TlsInspection, client: Socket, tunnel: InspectedTunnel, secureContext: SecureContext): void {
  if (client.destroyed) return;
  let refused = false;
  const t = new TLSSocket(client, {
    isServer: true,
    secureContext,
    ALPNProtocols: ['http/1.1'],
    SNICallback: (servername, cb) => {
      const r = checkSni(tunnel, servername);
      if (r === undefined) {
        cb(null, secureContext);
        return;
      }
      refused = true;
      ctx.gate.record(r);
      cb(new Error('SNI refused'));
    },
  });
  t.on('error', (e: Error) => {
    if (!refused) ctx.log(`TLS with the client of ${tunnel.subject} failed: ${e.message}`);
    t.destroy();
    client.destroy();
  });
  t.once('secure', () => tls.serve(t, tunnel));
}

/** Passthrough: check the ClientHello's SNI, then splice the bytes unchanged to the connected upstream. */
export function passthroughTunnel(ctx: ProxyContext, client: Socket, upstream: Socket, head: Buffer, tunnel: InspectedTunnel, refuse: LateRefusal): void {
  let buf = head;
  let settled = false;
  const deadline = setTimeout(() => fail(undefined), ctx.limits.headersTimeoutMs);
  const fail = (r: Refusal | undefined): void => {
    if (settled) return;
    settled = true;
    clearTimeout(deadline);
    client.off('data', onData);
    ctx.tunnels -= 1;
    upstream.destroy();
    if (r === undefined) client.destroy();
    else refuse(r, looksLikeTls(buf));
  };
  const step = (): void => {
    const h = parseClientHello(buf);
    if (h.kind === 'more') {
      if (buf.length >= MAX_HELLO_BYTES) fail(undefined);
      return;
    }
    if (h.kind === 'bad') {
      const r: Refusal = { kind: 'policy', status: 403, subject: tunnel.subject, rule: 'tls passthrough: only TLS may cross this tunnel', reason: `The tunnel did not start with a valid TLS ClientHello (${h.reason}); refused.`, mandatory: false };
      ctx.gate.record(r);
      fail(r);
      return;
    }
    const r = checkSni(tunnel, h.sni);
    if (r !== undefined) {
      ctx.gate.record(r);
      fail(r);
      return;
    }
    settled = true;
    clearTimeout(deadline);
    client.off('data', onData);
    // splice() reads the client itself (a resume here would hand bytes to no one while the kernel relays).
    splice(ctx, client, upstream, buf, tunnel.subject);
  };
  const onData = (c: Buffer): void => {
    buf = buf.length === 0 ? c : Buffer.concat([buf, c]);
    step();
  };
  client.on('error', () => fail(undefined));
  client.once('close', () => fail(undefined));
  upstream.once('error', () => fail(undefined));
  client.on('data', onData);
  if (buf.length > 0) step();
}
