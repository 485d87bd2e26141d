/**
 * Requests inside a TLS-inspected tunnel. Each one goes through the same
 * pipeline as a plain HTTP request: the Host header (and an absolute-form
 * target, if sent) must name the tunnel's host and port (domain fronting is
 * refused); the request is decided as `Http(METHOD host:port/path)` by the
 * gate (policy, resolution, address checks), its URL, headers and body are
 * scanned, and it is sent to the checked address over TLS verified against
 * the proxy's roots for the tunnel's host name.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isCordonError } from '../errors.js';
import type { InspectedTunnel, ProxyContext } from './context.js';
import { formatAuthority, hostFromUrl, parseAuthority } from './hostname.js';
import { hasBody, malformed, scanDecideForward, sendRefusal } from './http-forward.js';
import type { Refusal } from './refusal.js';

function fronting(tunnel: InspectedTunnel, method: string, what: string, value: string): Refusal {
  return {
    kind: 'policy', status: 403, subject: `Http(${method} ${formatAuthority(tunnel.host, tunnel.port)}/?)`, rule: 'tls inspection: the Host must name the tunnel host',
    reason: `The ${what} ${JSON.stringify(value.slice(0, 300))} does not name the tunnel's host ${formatAuthority(tunnel.host, tunnel.port)} (domain fronting); refused.`, mandatory: false,
  };
}

/** The request target's path and query, checked against the tunnel for absolute-form targets. */
export function targetPath(tunnel: InspectedTunnel, method: string, raw: string): string | Refusal {
  if (raw.startsWith('/')) {
    const u = new URL(raw, 'https://inspected.invalid');
    return `${u.pathname}${u.search}`;
  }
  if (/^https:\/\//i.test(raw)) {
    const t = hostFromUrl(raw);
    if (t.host.type !== tunnel.host.type || t.host.name !== tunnel.host.name || t.port !== tunnel.port) return fronting(tunnel, method, 'request URL', raw);
    const u = new URL(raw);
    return `${u.pathname}${u.search}`;
  }
  return malformed(`Http(${method} ?)`, 'Inside a TLS tunnel, send origin-form requests (GET /path).');
}

/** Checks the Host header against the tunnel (the port defaults to 443, as for https URLs). */
export function checkHost(tunnel: InspectedTunnel, method: string, req: IncomingMessage): Refusal | undefined {
  const hosts = req.headersDistinct.host ?? [];
  if (hosts.length !== 1 || hosts[0] === undefined) {
    return hosts.length === 0 ? malformed(`Http(${method} ?)`, 'The request has no Host header.') : fronting(tunnel, method, 'Host header', hosts.join(', '));
  }
  const value = hosts[0];
  try {
    const h = parseAuthority(value, 443);
    if (h.host.type === tunnel.host.type && h.host.name === tunnel.host.name && h.port === tunnel.port) return undefined;
  } catch {
    // unparsable: refused below
  }
  return fronting(tunnel, method, 'Host header', value);
}

export async function handleInspectedRequest(ctx: ProxyContext, tunnel: InspectedTunnel, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const bodyPending = hasBody(req);
  let path: string | Refusal;
  try {
    path = targetPath(tunnel, method, req.url ?? '');
  } catch (e) {
    path = malformed(`Http(${method} ?)`, `${isCordonError(e) ? e.message : 'The request target could not be parsed.'} Refused.`);
  }
  const bad = typeof path === 'string' ? checkHost(tunnel, method, req) : path;
  if (bad !== undefined || typeof path !== 'string') {
    const r = bad ?? malformed(`Http(${method} ?)`, 'Bad request target.');
    ctx.gate.record(r);
    sendRefusal(res, r, true);
    return;
  }
  const servername = tunnel.host.type === 'dns' ? tunnel.host.name : undefined;
  await scanDecideForward(ctx, req, res, { method, host: tunnel.host, port: tunnel.port, path, scheme: 'https', bodyPending, tls: { servername } });
}
