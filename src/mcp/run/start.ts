/**
 * Supervisor side of the MCP gateway in `cordon run`: when the policy
 * configures `mcp.servers`, start the aggregating gateway as its own process
 * outside the sandbox, hand it the listener made inside the sandbox's
 * network namespace, and tell the agent where it is (`CORDON_MCP_URL`,
 * `CORDON_MCP_TOKEN`, `CORDON_MCP_CONFIG`). If the gateway cannot start,
 * the command does not run; if it dies later, the port refuses connections
 * (no tool call gets through). Calls the policy asks about come back over
 * the IPC channel (`ask`) and go to the session's approval service; the
 * gateway holds each until its `verdict`.
 */
import { processEntry } from '../../process-entry.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import type { AskInput } from '../../approval/request.js';
import type { ProxyCredentials } from '../../broker/ipc.js';
import { onDecision, publishDecision } from '../../audit/publish.js';
import { CordonError } from '../../errors.js';
import { proxyLoadOptions } from '../../egress/proxy-client.js';
import type { LoadedPolicy } from '../../policy/load.js';
import { scopeFiles, type LoadOptions } from '../../policy/scopes.js';
import { scrubEnvironment } from '../../sandbox/env.js';
import type { McpListenerSink } from '../../sandbox/net-handoff.js';
import type { SandboxSpec } from '../../sandbox/spec.js';
import { newToken } from '../http/guard.js';
import { clientConfig } from '../http/serve.js';
import { defaultPinDir } from '../pin-store.js';
import { FromGatewaySchema, type ToGateway } from './ipc.js';

/** Port of the gateway's listener on 127.0.0.1 inside the sandbox. */
export const SANDBOX_MCP_PORT = 3129;

/**
 * Cheap pre-check on the policy files' text, so a run without MCP servers
 * never loads the policy for this: no file mentions `servers`, no gateway.
 * (A miss only means no gateway, never a call let through.)
 */
export function mayConfigureMcpServers(options: LoadOptions): boolean {
  for (const f of scopeFiles(options)) {
    try {
      if (readFileSync(f.file, 'utf8').includes('servers')) return true;
    } catch {
      // absent scope file
    }
  }
  return false;
}

/** The gateway's environment: the scrubbed allowlist, home and state paths, and only the variables its servers' headers name. */
function gatewayEnv(loaded: LoadedPolicy): Record<string, string> {
  const env: Record<string, string> = scrubEnvironment(process.env).env;
  for (const k of ['HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'XDG_CONFIG_HOME', 'TMPDIR']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  for (const conf of Object.values(loaded.settings.mcp?.servers ?? {})) {
    for (const v of Object.values(conf.headers ?? {})) {
      for (const m of v.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
        const name = m[1] ?? '';
        const value = process.env[name];
        if (value !== undefined) env[name] = value;
      }
    }
  }
  return env;
}

export interface RunMcp {
  readonly listener: { readonly port: number; readonly sink: McpListenerSink };
  /** The spec with the agent's variables for the gateway. */
  apply(spec: SandboxSpec): SandboxSpec;
  stop(): void;
}

/** The supervisor's approval service, as the gateway needs it. */
export type RunApprover = (ask: AskInput, signal?: AbortSignal) => Promise<{ readonly approved: boolean; readonly id: string; readonly reason: string }>;

/**
 * `auditReady`: false once the supervisor's audit log cannot be written (the
 * writer's `healthy`). It is checked after every decision published in the
 * supervisor (the writer appends synchronously as each is published, so a
 * failed append is seen right after it, whichever boundary's it was), and
 * the gateway is told at once: it refuses every call from then on.
 */
export function startRunMcp(loaded: LoadedPolicy, profile: string | undefined, cwd: string, approve?: RunApprover, auditReady?: () => boolean, broker?: ProxyCredentials): RunMcp {
  const token = newToken();
  const url = `http://127.0.0.1:${SANDBOX_MCP_PORT}/mcp`;
  const { file, execArgv } = processEntry('mcp/run/gateway-process', 'CORDON_MCP_SERVER', 'MCP gateway');
  const child: ChildProcess = spawn(process.execPath, [...execArgv, file], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: gatewayEnv(loaded) });
  let stopping = false;
  let fatal: string | undefined;
  /** Asks of the gateway not answered yet, by sequence number: aborted when the gateway withdraws the call. */
  const asks = new Map<number, AbortController>();
  let readyResolve: (servers: string[]) => void = () => undefined;
  let attached: () => void = () => undefined;
  const ready = new Promise<string[]>((r) => {
    readyResolve = r;
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(fatal ?? (signal === null ? `exit status ${code ?? '?'}` : `killed by ${signal}`)));
    child.once('error', (e) => resolve(e.message));
  });
  child.on('message', (raw: unknown) => {
    const r = FromGatewaySchema.safeParse(raw);
    if (!r.success) {
      child.kill('SIGKILL');
      return;
    }
    const m = r.data;
    switch (m.type) {
      case 'decision':
        if (!publishDecision(m.event)) checkAudit();
        break;
      case 'ready':
        readyResolve(m.servers);
        break;
      case 'attached':
        attached();
        break;
      case 'fatal':
        fatal = m.message;
        break;
      case 'ask': {
        const answer = (o: { approved: boolean; id: string; reason: string }): void => {
          asks.delete(m.seq);
          send({ type: 'verdict', seq: m.seq, approved: o.approved, id: o.id.slice(0, 64), reason: o.reason.slice(0, 4096) });
        };
        if (approve === undefined || asks.has(m.seq)) {
          answer({ approved: false, id: 'none', reason: approve === undefined ? 'No approval service runs in this session; an ask is a deny.' : 'An ask with this sequence number is already waiting; denied.' });
          break;
        }
        const withdrawn = new AbortController();
        asks.set(m.seq, withdrawn);
        approve({ ...m.ask, boundary: 'mcp' }, withdrawn.signal).then(answer, (e: unknown) => answer({ approved: false, id: 'none', reason: `The approval service failed (${e instanceof Error ? e.message : 'error'}); an ask is a deny.` }));
        break;
      }
      case 'withdraw':
        asks.get(m.seq)?.abort();
        break;
    }
  });
  let auditFailed = false;
  const checkAudit = (): void => {
    if (auditFailed || auditReady === undefined || auditReady()) return;
    auditFailed = true;
    send({ type: 'audit-failed' });
  };
  // Subscribed after the run's writer (which subscribed when the run began): called after each decision's append.
  const offDecision = onDecision(checkAudit);
  void exited.then((why) => {
    offDecision();
    if (!stopping) process.stderr.write(`cordon: the MCP gateway stopped (${why}); MCP tools are unavailable from now on\n`);
  });
  const send = (m: ToGateway, handle?: Server): void => {
    if (child.connected) child.send(m, handle);
  };
  const known = (async () => {
    const { collectKnownSecrets } = await import('../../dlp/known-sources.js');
    const ks = loaded.settings.dlp?.known_secrets;
    const c = collectKnownSecrets({ env: process.env, ...(ks?.env ? { envGlobs: ks.env } : {}), ...(ks?.files ? { files: ks.files } : {}) });
    return c.set.size === 0 ? undefined : c.set.matcher().toJSON();
  })();
  void known.then((k) => send({
    type: 'config', load: proxyLoadOptions(loaded, profile), token, port: SANDBOX_MCP_PORT, cwd, pinDir: defaultPinDir(),
    ...(k === undefined ? {} : { known: k }), ...(approve === undefined ? {} : { approvals: true }),
    ...(broker === undefined ? {} : { credentials: broker }),
  }), () => child.kill('SIGKILL'));
  const timeout = <T>(p: Promise<T>, what: string, ms: number): Promise<T> => Promise.race([
    p,
    exited.then((why) => Promise.reject(new CordonError('CORDON_MCP_SERVER', `the MCP gateway did not start (${why})`))),
    new Promise<never>((_, reject) => setTimeout(() => reject(new CordonError('CORDON_MCP_SERVER', `the MCP gateway ${what} within ${ms / 1000} s`)), ms).unref()),
  ]);
  return {
    listener: {
      port: SANDBOX_MCP_PORT,
      sink: async (server) => {
        const servers = await timeout(ready, 'did not start its servers', 120_000);
        publishDecision({ boundary: 'mcp', subject: `mcp gateway ${url}`, decision: 'allow', rule: 'mcp.servers', reason: `the agent reaches ${servers.length} MCP server${servers.length === 1 ? '' : 's'} (${servers.join(', ')}) only through cordon's gateway` });
        await timeout(new Promise<void>((resolve) => {
          attached = resolve;
          send({ type: 'listener' }, server);
        }), 'did not take its listener', 15_000);
      },
    },
    apply: (spec) => ({ ...spec, env: { ...spec.env, CORDON_MCP_URL: url, CORDON_MCP_TOKEN: token, CORDON_MCP_CONFIG: JSON.stringify(clientConfig(url, token)) } }),
    stop: () => {
      stopping = true;
      offDecision();
      child.kill('SIGTERM');
    },
  };
}

/** The gateway for a run, when the policy configures MCP servers (`options`: the run's policy load options, for the cheap pre-check). */
export function mcpForRun(options: LoadOptions, load: () => Promise<LoadedPolicy>, profile: string | undefined, cwd: string, approve?: RunApprover, auditReady?: () => boolean, broker?: ProxyCredentials): Promise<RunMcp | undefined> {
  if (!mayConfigureMcpServers(options)) return Promise.resolve(undefined);
  return load().then((loaded) => (Object.keys(loaded.settings.mcp?.servers ?? {}).length === 0 ? undefined : startRunMcp(loaded, profile, cwd, approve, auditReady, broker)));
}
