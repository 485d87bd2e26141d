/** Real sockets on loopback for proxy tests: upstream servers, raw clients, a proxy for a rule list. */
import { createServer, request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { DecisionEvent } from '../../src/audit/record.js';
import { startProxy, type ProxyOptions, type RunningProxy } from '../../src/egress/proxy-server.js';
import type { Resolver } from '../../src/egress/resolver.js';
import { rulesPolicy } from '../../src/policy/test-helpers.js';

export interface Upstream {
  readonly port: number;
  /** `METHOD url host-header` of every request received. */
  readonly seen: string[];
  /** Raw TCP connections accepted. */
  connections: number;
  close(): Promise<void>;
}

/** An HTTP upstream on 127.0.0.1 answering `ok METHOD URL` (or the body it received, for POST). */
export async function httpUpstream(host = '127.0.0.1'): Promise<Upstream> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers.host ?? ''}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = req.method === 'POST' ? Buffer.concat(chunks) : Buffer.from(`ok ${req.method ?? ''} ${req.url ?? ''}\n`);
      res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'yes', connection: 'x-hop', 'x-hop': 'drop-me' });
      res.end(body);
    });
  });
  const u: Upstream = { port: 0, seen, connections: 0, close: () => new Promise((r) => server.close(() => r())) };
  server.on('connection', () => (u.connections += 1));
  await new Promise<void>((r) => server.listen(0, host, r));
  (u as { port: number }).port = (server.address() as AddressInfo).port;
  return u;
}

/** A TCP echo server that records whether anything connected. */
export async function tcpUpstream(host = '127.0.0.1'): Promise<{ port: number; connections: () => number; server: Server }> {
  let n = 0;
  const server = createNetServer((s) => {
    n += 1;
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return { port: (server.address() as AddressInfo).port, connections: () => n, server };
}

/** Collects everything a socket receives until the peer closes or `ms` pass (then it is destroyed). */
export function collect(s: Socket, ms: number): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data: Buffer.concat(chunks), closed: false });
    }, ms);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closed: true });
    });
  });
}

/** Writes raw bytes to a port and collects everything until the peer closes or `ms` pass. */
export function raw(port: number, bytes: string | Buffer, ms = 3000): Promise<{ data: Buffer; closed: boolean }> {
  const s = connect({ host: '127.0.0.1', port });
  const got = collect(s, ms);
  s.write(bytes);
  return got;
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A request through the proxy in absolute form. */
export function viaProxy(proxyPort: number, method: string, url: string, opts: { body?: string; agent?: Agent; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: proxyPort, method, path: url, headers: opts.headers ?? {}, ...(opts.agent === undefined ? {} : { agent: opts.agent }) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface TestProxy {
  readonly proxy: RunningProxy;
  readonly port: number;
  readonly socksPort: number;
  readonly events: DecisionEvent[];
}

/** A proxy on loopback for a rule list (no default profile), collecting its decision events. */
export async function proxyFor(rules: { deny?: string[]; ask?: string[]; allow?: string[] }, extra: Partial<ProxyOptions> & { resolver?: Resolver } = {}): Promise<TestProxy> {
  const { policy } = rulesPolicy(rules);
  const events: DecisionEvent[] = [];
  const proxy = await startProxy({
    policy,
    http: { host: '127.0.0.1', port: 0 },
    socks: { host: '127.0.0.1', port: 0 },
    publish: (e) => events.push(e),
    log: () => undefined,
    ...extra,
  });
  return { proxy, port: proxy.httpAddress?.port ?? 0, socksPort: proxy.socksAddress?.port ?? 0, events };
}
