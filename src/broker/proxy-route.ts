/**
 * The proxy's hooks into the broker: when the credential scanner marked a
 * request (placeholder in its credential's header, to one of its hosts), the
 * request goes to the broker's Unix socket instead of upstream, with an
 * absolute-form target naming the destination. Everything else in the
 * forwarding path (body scanning and holding, limits, timeouts, response
 * streaming; for WebSocket upgrades the extension checks and frame scanning)
 * stays the proxy's.
 */
import { request, type ClientRequest } from 'node:http';
import type { ProxyContext } from '../egress/context.js';
import type { Outbound } from '../egress/http-forward.js';
import type { ScanContext } from '../egress/scanner.js';
import { CredentialScanner } from './credential-scanner.js';

export function brokerUpstream(ctx: ProxyContext, o: Outbound): ClientRequest | undefined {
  if (!(ctx.scanner instanceof CredentialScanner)) return undefined;
  const route = ctx.scanner.route(o.sc);
  if (route === undefined) return undefined;
  const target = `${o.tls === undefined ? 'http' : 'https'}://${o.sc.host}${o.path}`;
  return request({ socketPath: route.socket, method: o.method, path: target, headers: o.headers, setHost: false, agent: false });
}

/**
 * A WebSocket upgrade whose headers `sc` marked: the upgrade request, sent to
 * the broker's socket (which answers the upstream's 101 and then relays the
 * bytes), else undefined. `tls`: the upstream is reached over TLS (inspected tunnel).
 */
export function brokerUpgrade(ctx: ProxyContext, sc: ScanContext, tls: boolean, path: string, headers: readonly string[], timeout: number): ClientRequest | undefined {
  if (!(ctx.scanner instanceof CredentialScanner)) return undefined;
  const route = ctx.scanner.route(sc);
  if (route === undefined) return undefined;
  const target = `${tls ? 'https' : 'http'}://${sc.host}${path}`;
  return request({ socketPath: route.socket, method: 'GET', path: target, headers: [...headers], setHost: false, agent: false, timeout });
}
