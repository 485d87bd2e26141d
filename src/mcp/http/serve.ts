/**
 * Starting the HTTP gateway from a loaded policy: the aggregating endpoint
 * over `mcp.servers`, or one server (a URL or a stdio command) behind it.
 * Shared by `cordon mcp serve` and the gateway process of `cordon run`.
 */
import type { LoadedPolicy } from '../../policy/load.js';
import { Policy } from '../../policy/policy.js';
import type { ArgumentScanner } from '../argument-scanner.js';
import { argumentActionFor, gatewayArgumentScanners } from '../gateway-scanners.js';
import type { AuditSink } from '../audit.js';
import type { CallDecider, McpApprover } from '../call-policy.js';
import { InjectionScanner } from '../injection.js';
import { PinStore } from '../pin-store.js';
import { resolveServer } from '../server-config.js';
import type { Aggregator } from './aggregate.js';
import type { ProxyCredentials } from '../../broker/ipc.js';
import { buildAggregator, httpTarget, type BuildOptions } from './build.js';
import { HttpFront } from './front.js';
import { singleServerFront } from './single.js';
import { optimiseSooner } from '../../tier-up.js';

export type ServeTarget =
  | { readonly kind: 'all' }
  | { readonly kind: 'url'; readonly name: string; readonly url: URL }
  | { readonly kind: 'command'; readonly name?: string; readonly argv: readonly string[]; readonly sandbox?: boolean };

export interface ServeOptions {
  readonly target: ServeTarget;
  readonly token: string;
  /** Outbound argument scanners besides the injection scanner (the DLP engine). */
  readonly argumentScanners: readonly ArgumentScanner[];
  readonly pinDir?: string;
  readonly audit: AuditSink;
  /** False once decisions cannot be recorded: calls are refused (see GatewayOptions.auditReady). */
  readonly auditReady?: () => boolean;
  readonly log: (line: string) => void;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly publicPort?: number;
  readonly origins?: readonly string[];
  readonly maxMessageBytes?: number;
  /** Where calls the policy asks about go (the gateway of `cordon run`); absent: they are refused. */
  readonly approve?: McpApprover;
  /** The credential broker of `cordon run` (servers' `credential`s go through it). */
  readonly broker?: ProxyCredentials;
}

export interface RunningGateway {
  readonly front: HttpFront;
  readonly aggregator: Aggregator | null;
  /** Configured names of the servers served (those that started, for the aggregating endpoint). */
  readonly servers: readonly string[];
  close(): Promise<void>;
}

export async function startHttpGateway(loaded: LoadedPolicy, o: ServeOptions): Promise<RunningGateway> {
  const decider = new Policy(loaded);
  const policy: CallDecider = o.approve === undefined ? decider : { decide: (s) => decider.decide(s), approve: o.approve };
  const scanner = new InjectionScanner();
  const base: BuildOptions = {
    policy, scanner, argumentScanners: gatewayArgumentScanners(scanner, o.argumentScanners),
    argumentAction: argumentActionFor(loaded),
    pins: new PinStore(o.pinDir), audit: o.audit, log: o.log, cwd: o.cwd, env: o.env,
    ...(o.auditReady === undefined ? {} : { auditReady: o.auditReady }),
    ...(o.maxMessageBytes === undefined ? {} : { maxMessageBytes: o.maxMessageBytes }),
    ...(o.broker === undefined ? {} : { broker: o.broker }),
  };
  const frontOpts = {
    token: o.token, log: o.log,
    ...(o.publicPort === undefined ? {} : { publicPort: o.publicPort }),
    ...(o.origins === undefined ? {} : { origins: o.origins }),
    ...(o.maxMessageBytes === undefined ? {} : { maxMessageBytes: o.maxMessageBytes }),
  };
  const t = o.target;
  if (t.kind === 'all') {
    const agg = await buildAggregator(loaded, base);
    await agg.start();
    const front = new HttpFront({ ...frontOpts, sessions: { open: () => Promise.resolve(agg.session()) } });
    optimiseSooner(); // serving from here on: see src/tier-up.ts
    return {
      front, aggregator: agg, servers: [...agg.links.values()].filter((l) => l.down === null).map((l) => l.name),
      close: async () => {
        await front.close();
        await agg.close();
      },
    };
  }
  const launch = t.kind === 'url' ? [t.url.href] : t.argv;
  const conf = await resolveServer(loaded, launch, {
    cwd: o.cwd, ...(t.name === undefined ? {} : { name: t.name }),
    ...(t.kind === 'url' ? { sandbox: false } : t.sandbox === undefined ? {} : { sandbox: t.sandbox }),
  });
  const gateway = {
    server: conf.name, launch, policy, scanner, injectionAction: conf.injection, firstUse: conf.firstUse,
    argumentScanners: base.argumentScanners, argumentAction: base.argumentAction, pins: base.pins, audit: o.audit, log: o.log,
    ...(o.auditReady === undefined ? {} : { auditReady: o.auditReady }),
    ...(o.maxMessageBytes === undefined ? {} : { limits: { maxMessageBytes: o.maxMessageBytes } }),
  };
  const front = singleServerFront({
    ...frontOpts, gateway,
    target: t.kind === 'url'
      ? await httpTarget(loaded, conf.name, t.url, base)
      : { kind: 'stdio', launch: { server: conf.name, argv: t.argv, env: conf.env, cwd: o.cwd, sandbox: conf.sandbox }, audit: o.audit },
  });
  optimiseSooner(); // serving from here on: see src/tier-up.ts
  return { front, aggregator: null, servers: [conf.name], close: () => front.close() };
}

/** The client configuration for Claude Code (`.mcp.json` / `--mcp-config`) and other MCP clients. */
export function clientConfig(url: string, token: string, name = 'cordon'): Record<string, unknown> {
  return { mcpServers: { [name]: { type: 'http', url, headers: { Authorization: `Bearer ${token}` } } } };
}
