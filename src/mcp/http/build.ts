/**
 * Builds the gateways of the policy's `mcp.servers`: for each server its
 * gateway options (its policy subjects, injection action, pins, argument
 * scanners) and its upstream (a sandboxed stdio process as `cordon mcp wrap`
 * starts it, or a Streamable HTTP URL with its own configured headers).
 */
import type { ProxyCredentials } from '../../broker/ipc.js';
import { CordonError } from '../../errors.js';
import type { LoadedPolicy } from '../../policy/load.js';
import type { ArgumentScanner } from '../argument-scanner.js';
import type { AuditSink } from '../audit.js';
import type { CallDecider } from '../call-policy.js';
import type { InjectionScanner } from '../injection.js';
import type { GatewayOptions } from '../options.js';
import type { PinStore } from '../pin-store.js';
import { resolveServer } from '../server-config.js';
import { ShadowRegistry } from '../shadowing.js';
import { Aggregator } from './aggregate.js';
import { ServerLink } from './link.js';
import { upstreamFactory, type UpstreamTarget } from './single.js';
import { upstreamCredential } from './upstream-credential.js';

export interface BuildOptions {
  readonly policy: CallDecider;
  readonly scanner: InjectionScanner;
  readonly argumentScanners: readonly ArgumentScanner[];
  readonly argumentAction: 'block' | 'report';
  readonly pins: PinStore | null;
  readonly audit: AuditSink;
  /** False once decisions cannot be recorded: calls are refused (see GatewayOptions.auditReady). */
  readonly auditReady?: () => boolean;
  readonly log: (line: string) => void;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly maxMessageBytes?: number;
  /** The credential broker of `cordon run`: servers' `credential`s go through it (see upstream-credential.ts). */
  readonly broker?: ProxyCredentials;
}

/** `${NAME}` in a configured header value, from cordon's environment; a missing variable is an error, never an empty credential. */
export function expandHeaders(server: string, headers: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    out[k] = v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const value = env[name];
      if (value === undefined) throw new CordonError('CORDON_MCP_SERVER', `mcp.servers.${server}.headers.${k} uses \${${name}}, which is not set in cordon's environment`);
      return value;
    });
    if (/[\r\n\0]/.test(out[k] ?? '')) throw new CordonError('CORDON_MCP_SERVER', `mcp.servers.${server}.headers.${k} contains a line break`);
  }
  return out;
}

/**
 * The upstream of a Streamable HTTP server: its configured headers, plus its
 * `credential` (through the broker when there is one); a header set both
 * ways is an error.
 */
export async function httpTarget(loaded: LoadedPolicy, server: string, url: URL, o: Pick<BuildOptions, 'env' | 'broker'>): Promise<Extract<UpstreamTarget, { kind: 'http' }>> {
  const conf = loaded.settings.mcp?.servers?.[server];
  const headers = expandHeaders(server, conf?.headers ?? {}, o.env);
  if (conf?.credential === undefined) return { kind: 'http', url, headers };
  const c = await upstreamCredential(loaded, server, conf.credential, url, o.broker, o.env);
  if (Object.keys(headers).some((k) => k.toLowerCase() === c.header)) {
    throw new CordonError('CORDON_MCP_SERVER', `mcp.servers.${server} sets the ${c.header} header both in headers and through credential ${conf.credential}: keep one`);
  }
  return { kind: 'http', url, headers: { ...headers, [c.header]: c.value }, ...(c.via === undefined ? {} : { via: c.via }) };
}

export interface ConfiguredServer {
  readonly name: string;
  readonly gateway: GatewayOptions;
  readonly target: UpstreamTarget;
}

/** Every configured server (or only `only`), resolved; a server with neither or both of `command` and `url` is an error. */
export async function configuredServers(loaded: LoadedPolicy, o: BuildOptions, only?: readonly string[]): Promise<ConfiguredServer[]> {
  const servers = loaded.settings.mcp?.servers ?? {};
  const shadow = new ShadowRegistry();
  const out: ConfiguredServer[] = [];
  for (const [name, conf] of Object.entries(servers)) {
    if (only !== undefined && !only.includes(name)) continue;
    if ((conf.command === undefined) === (conf.url === undefined)) {
      throw new CordonError('CORDON_MCP_SERVER', `mcp.servers.${name} needs exactly one of command (a stdio server) and url (a Streamable HTTP server)`);
    }
    const launch = conf.command ?? [conf.url ?? ''];
    const resolved = await resolveServer(loaded, launch, { name, cwd: o.cwd, ...(conf.url === undefined ? {} : { sandbox: false }) });
    const gateway: GatewayOptions = {
      server: name, launch, policy: o.policy, scanner: o.scanner, injectionAction: resolved.injection, firstUse: resolved.firstUse,
      argumentScanners: o.argumentScanners, argumentAction: o.argumentAction, pins: o.pins, shadow, audit: o.audit, log: o.log,
      ...(o.auditReady === undefined ? {} : { auditReady: o.auditReady }),
      ...(o.maxMessageBytes === undefined ? {} : { limits: { maxMessageBytes: o.maxMessageBytes } }),
    };
    let target: UpstreamTarget;
    if (conf.url !== undefined) {
      const url = new URL(conf.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CordonError('CORDON_MCP_SERVER', `mcp.servers.${name}.url must be http or https`);
      target = await httpTarget(loaded, name, url, o);
    } else {
      target = { kind: 'stdio', launch: { server: name, argv: launch, env: resolved.env, cwd: o.cwd, sandbox: resolved.sandbox }, audit: o.audit };
    }
    out.push({ name, gateway, target });
  }
  return out;
}

/** The aggregator over the configured servers; call `start()` to run the handshakes. */
export async function buildAggregator(loaded: LoadedPolicy, o: BuildOptions): Promise<Aggregator> {
  const servers = await configuredServers(loaded, o);
  if (servers.length === 0) throw new CordonError('CORDON_USAGE', 'the policy configures no MCP servers (mcp.servers)');
  const agg = new Aggregator(o.audit, o.log);
  const max = o.maxMessageBytes ?? 16 * 1024 * 1024;
  const upstreams = await Promise.all(servers.map(async (s) => {
    try {
      return await upstreamFactory(s.target, max, o.log)();
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  }));
  servers.forEach((s, i) => {
    const up = upstreams[i];
    if (up === undefined || up instanceof Error) {
      o.log(`cordon mcp: server ${s.name} did not start: ${up?.message ?? 'unknown'}`);
      return;
    }
    agg.add(new ServerLink(s.gateway, up, agg));
  });
  return agg;
}
