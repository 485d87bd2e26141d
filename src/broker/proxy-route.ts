/**
 * The proxy's one hook into the broker: when the credential scanner marked a
 * request (placeholder in its credential's header, to one of its hosts), the
 * request goes to the broker's Unix socket instead of upstream, with an
 * absolute-form target naming the destination. Everything else in the
 * forwarding path (body scanning and holding, limits, timeouts, response
 * streaming) stays the proxy's.
 */
import { request, type ClientRequest } from 'node:http';
import type { ProxyContext } from '../egress/context.js';
import type { Outbound } from '../egress/http-forward.js';
import { CredentialScanner } from './credential-scanner.js';

export function brokerUpstream(ctx: ProxyContext, o: Outbound): ClientRequest | undefined {
  if (!(ctx.scanner instanceof CredentialScanner)) return undefined;
  const route = ctx.scanner.route(o.sc);
  if (route === undefined) return undefined;
  const target = `${o.tls === undefined ? 'http' : 'https'}://${o.sc.host}${o.path}`;
  return request({ socketPath: route.socket, method: o.method, path: target, headers: o.headers, setHost: false, agent: false });
}
