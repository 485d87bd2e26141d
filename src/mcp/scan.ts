/**
 * `cordon mcp scan`: start each server as the gateway would (stdio ones in
 * their sandbox), run the handshake and the tool, prompt and resource lists
 * through the same gateway core, and report what it flagged: injection in
 * descriptions and instructions, shadowing, tools whose definition differs
 * from the stored pins. Pins are read, never written.
 */
import type { DecisionEvent } from '../audit/record.js';
import type { LoadedPolicy } from '../policy/load.js';
import { Policy } from '../policy/policy.js';
import { configuredServers, type ConfiguredServer } from './http/build.js';
import { ServerLink } from './http/link.js';
import { upstreamFactory } from './http/single.js';
import { injectionArgumentScanner } from './argument-scanner.js';
import { errorLine, RPC } from './jsonrpc.js';
import { InjectionScanner } from './injection.js';
import { PinStore, type PinFile } from './pin-store.js';
import { resolveServer } from './server-config.js';
import { ShadowRegistry } from './shadowing.js';

/** Reads pins as stored; writes nothing (a scan must not pin what it sees). */
class ReadOnlyPins extends PinStore {
  override save(_record: PinFile): void {
    // never written by a scan
  }
}

export interface ScanFinding {
  readonly subject: string;
  readonly rule: string;
  readonly reason: string;
}

export interface ServerScan {
  readonly server: string;
  readonly error: string | null;
  readonly tools: number;
  readonly prompts: number;
  readonly resources: number;
  readonly findings: readonly ScanFinding[];
}

function flagged(e: DecisionEvent): boolean {
  return e.decision !== 'allow' || (e.findings?.length ?? 0) > 0;
}

async function scanOne(s: ConfiguredServer, shadow: ShadowRegistry, timeoutMs: number): Promise<ServerScan> {
  const events: DecisionEvent[] = [];
  const audit = (e: DecisionEvent): boolean => {
    events.push(e);
    return true;
  };
  const gateway = { ...s.gateway, shadow, audit };
  const target = s.target.kind === 'stdio' ? { ...s.target, audit } : s.target;
  let link: ServerLink | undefined;
  try {
    const up = await upstreamFactory(target, 16 * 1024 * 1024, () => undefined)();
    link = new ServerLink(gateway, up, { notification: () => undefined, serverRequest: (l, m) => l.answer(errorLine(m.id, RPC.methodNotFound, 'cordon mcp scan answers no requests from servers')) }, timeoutMs);
    await link.start();
    if (link.down !== null) return { server: s.name, error: link.down, tools: 0, prompts: 0, resources: 0, findings: [] };
    const count = async (method: string, key: string): Promise<number> => {
      const r = await link?.request(method);
      return r !== undefined && r.ok && typeof r.result === 'object' && r.result !== null && Array.isArray((r.result as Record<string, unknown>)[key]) ? ((r.result as Record<string, unknown[]>)[key] ?? []).length : 0;
    };
    const tools = await count('tools/list', 'tools');
    const prompts = await count('prompts/list', 'prompts');
    const resources = await count('resources/list', 'resources');
    const findings = events.filter(flagged).map((e) => ({ subject: e.subject, rule: e.rule, reason: e.reason }));
    const unique = [...new Map(findings.map((f) => [`${f.subject}\n${f.rule}\n${f.reason}`, f])).values()];
    return { server: s.name, error: null, tools, prompts, resources, findings: unique };
  } catch (e) {
    return { server: s.name, error: e instanceof Error ? e.message : String(e), tools: 0, prompts: 0, resources: 0, findings: [] };
  } finally {
    await link?.close();
  }
}

export interface ScanOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly pinDir?: string;
  readonly only?: readonly string[];
  readonly timeoutMs?: number;
  /** Scan this stdio command instead of the configured servers. */
  readonly command?: { readonly argv: readonly string[]; readonly name?: string; readonly sandbox?: boolean };
}

/** Scans the configured servers in order (a later server's clashing tool names are the ones flagged). */
export async function scanServers(loaded: LoadedPolicy, o: ScanOptions): Promise<ServerScan[]> {
  const scanner = new InjectionScanner();
  const base = {
    policy: new Policy(loaded), scanner, argumentScanners: [injectionArgumentScanner(scanner)], argumentAction: 'block' as const,
    pins: new ReadOnlyPins(o.pinDir), audit: () => true, log: () => undefined, cwd: o.cwd, env: o.env,
  };
  let servers: ConfiguredServer[];
  if (o.command === undefined) {
    servers = await configuredServers(loaded, base, o.only);
  } else {
    const c = o.command;
    const conf = await resolveServer(loaded, c.argv, { cwd: o.cwd, ...(c.name === undefined ? {} : { name: c.name }), ...(c.sandbox === undefined ? {} : { sandbox: c.sandbox }) });
    servers = [{
      name: conf.name,
      gateway: { server: conf.name, launch: c.argv, policy: base.policy, scanner, injectionAction: conf.injection, firstUse: conf.firstUse, pins: base.pins },
      target: { kind: 'stdio', launch: { server: conf.name, argv: c.argv, env: conf.env, cwd: o.cwd, sandbox: conf.sandbox }, audit: base.audit },
    }];
  }
  const shadow = new ShadowRegistry();
  const out: ServerScan[] = [];
  for (const s of servers) out.push(await scanOne(s, shadow, o.timeoutMs ?? 60_000));
  return out;
}
