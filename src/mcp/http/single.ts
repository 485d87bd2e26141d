/**
 * The single-server HTTP gateway: a loopback Streamable HTTP endpoint in
 * front of one server, reached over Streamable HTTP (local or remote) or
 * started as a stdio process (sandboxed, as `cordon mcp wrap` does).
 */
import type { AuditSink } from '../audit.js';
import type { GatewayOptions } from '../options.js';
import { startServer, type ServerLaunch } from '../spawn.js';
import { HttpFront, type HttpFrontOptions } from './front.js';
import { GatewaySession } from './session.js';
import { HttpUpstream, StdioUpstream, type Upstream } from './upstream.js';

export type UpstreamTarget =
  | { readonly kind: 'http'; readonly url: URL; readonly headers: Readonly<Record<string, string>>; /** The credential broker's socket, when requests go through it. */ readonly via?: string }
  | { readonly kind: 'stdio'; readonly launch: ServerLaunch; readonly audit: AuditSink };

export function upstreamFactory(target: UpstreamTarget, maxMessageBytes: number, log: (line: string) => void): () => Promise<Upstream> {
  return async () => {
    if (target.kind === 'http') return new HttpUpstream({ url: target.url, headers: target.headers, maxMessageBytes, log, ...(target.via === undefined ? {} : { via: target.via }) });
    const proc = await startServer(target.launch, target.audit);
    return new StdioUpstream(proc, maxMessageBytes, log);
  };
}

export interface SingleGatewayOptions extends Omit<HttpFrontOptions, 'sessions'> {
  readonly gateway: GatewayOptions;
  readonly target: UpstreamTarget;
}

export function singleServerFront(o: SingleGatewayOptions): HttpFront {
  const max = o.maxMessageBytes ?? o.gateway.limits?.maxMessageBytes ?? 16 * 1024 * 1024;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const make = upstreamFactory(o.target, max, log);
  return new HttpFront({
    ...o,
    sessions: {
      open: async () => new GatewaySession({ ...o.gateway, log }, await make()),
    },
  });
}
