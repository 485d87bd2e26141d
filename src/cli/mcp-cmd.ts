/**
 * `cordon mcp wrap|pins|scan`: wiring only. `main.ts` maps thrown
 * CordonErrors to exit statuses.
 */
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { AuditWriter } from '../audit/writer.js';
import { isSessionId, newSessionId, stateDir } from '../audit/paths.js';
import { sanitizeForDisplay } from '../audit/redact.js';
import { CordonError } from '../errors.js';
import { loadPolicyCached } from '../policy/cache.js';
import type { LoadedPolicy } from '../policy/load.js';
import { Policy } from '../policy/policy.js';
import type { ArgumentScanner } from '../mcp/argument-scanner.js';
import { argumentActionFor, policyDlpScanner, wrapArgumentScanners } from '../mcp/gateway-scanners.js';
import { publishSink } from '../mcp/audit.js';
import type { InjectionAction } from '../mcp/inbound.js';
import { InjectionScanner } from '../mcp/injection.js';
import type { FirstUse } from '../mcp/pin-check.js';
import { approvePending, describeRecord, revokePins } from '../mcp/pin-admin.js';
import { PinStore } from '../mcp/pin-store.js';
import { resolveServer } from '../mcp/server-config.js';
import { startServer } from '../mcp/spawn.js';
import { bridgeStdio } from '../mcp/stdio.js';
import { loadOptions, type PolicyCommonOptions } from './policy-options.js';

export interface McpWrapOptions extends PolicyCommonOptions {
  /** `--name N`: the server name in rules (`mcp__N__tool`); default from the command. */
  readonly name?: string;
  /** `--no-sandbox` sets false. */
  readonly sandbox?: boolean;
  /** `--injection block|redact|warn`. */
  readonly injection?: InjectionAction;
  /** `--first-use pin|hold`. */
  readonly firstUse?: FirstUse;
  /** Extra outbound argument scanners (the DLP engine). */
  readonly argumentScanners?: readonly ArgumentScanner[];
  /** Pin directory (default `<stateDir>/mcp-pins`). */
  readonly pinDir?: string;
  /** `--max-message-bytes`: largest JSON-RPC message either way (default 16 MiB). */
  readonly maxMessageBytes?: number;
}

export interface McpIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: (text: string) => void;
}

/** How long an MCP decision may wait before its record is appended (see AuditWriterOptions.deferMs). */
export const AUDIT_DEFER_MS = 10;

const defaultIo = (): McpIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: (t) => process.stderr.write(t) });

/** DLP on outbound arguments, with the user's real secrets (from this process's environment) as fingerprints. */
export function dlpScanner(loaded: LoadedPolicy): Promise<ArgumentScanner> {
  return policyDlpScanner(loaded, process.env);
}

/** `cordon mcp wrap [--name N] -- CMD...`: returns the server's exit status (125 when cordon failed before starting it). */
export async function mcpWrap(cmd: readonly string[], opts: McpWrapOptions = {}, io: McpIo = defaultIo()): Promise<number> {
  if (cmd.length === 0) throw new CordonError('CORDON_USAGE', 'no server command given; write cordon mcp wrap [--name N] -- CMD [ARGS...]');
  const loaded = await loadPolicyCached(loadOptions(opts));
  const policy = new Policy(loaded);
  const conf = await resolveServer(loaded, cmd, {
    cwd: process.cwd(),
    ...(opts.name === undefined ? {} : { name: opts.name }),
    ...(opts.sandbox === undefined ? {} : { sandbox: opts.sandbox }),
    ...(opts.injection === undefined ? {} : { injection: opts.injection }),
    ...(opts.firstUse === undefined ? {} : { firstUse: opts.firstUse }),
  });
  const given = process.env['CORDON_SESSION'];
  const session = given !== undefined && isSessionId(given) ? given : newSessionId();
  // Records are appended within 10 ms, off the reply's critical path (flushed on close, signals and exit); calls are refused once the log fails.
  const writer = AuditWriter.open({ dir: path.resolve(loaded.settings.audit?.dir ?? stateDir()), session, deferMs: AUDIT_DEFER_MS });
  const unsubscribe = writer.subscribe();
  try {
    const scanner = new InjectionScanner();
    const server = await startServer({ server: conf.name, argv: cmd, env: conf.env, cwd: process.cwd(), sandbox: conf.sandbox }, publishSink);
    const stop = (): void => server.kill();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    const bridge = bridgeStdio({
      server: conf.name, launch: cmd, policy, scanner, injectionAction: conf.injection, firstUse: conf.firstUse,
      argumentScanners: await wrapArgumentScanners(loaded, scanner, process.env, opts.argumentScanners),
      argumentAction: argumentActionFor(loaded),
      pins: new PinStore(opts.pinDir), auditReady: () => writer.healthy, ...(opts.maxMessageBytes === undefined ? {} : { limits: { maxMessageBytes: opts.maxMessageBytes } }), log: (l) => io.stderr(`${l}\n`),
    }, server, io.stdin, io.stdout);
    const status = await bridge.done;
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    const blocked = writer.counts().deny;
    if (blocked > 0) io.stderr(`cordon: ${blocked} MCP decision${blocked === 1 ? '' : 's'} refused or flagged (cordon audit tail ${session})\n`);
    return status;
  } finally {
    unsubscribe();
    writer.close();
  }
}

export interface McpPinsOptions {
  readonly json?: boolean;
  readonly pinDir?: string;
}

/** `cordon mcp pins list|approve|revoke [SERVER [TOOL...]]`: 0 done, 1 nothing matched, 2 usage. */
export function mcpPins(action: string, args: readonly string[], opts: McpPinsOptions = {}, io: Pick<McpIo, 'stderr'> & { out: (t: string) => void } = { stderr: (t) => process.stderr.write(t), out: (t) => process.stdout.write(t) }): number {
  const store = new PinStore(opts.pinDir);
  const records = store.list((e) => io.stderr(`cordon: ${e.message}\n`));
  const [server, ...tools] = args;
  const mine = server === undefined ? records : records.filter((r) => r.server === server);
  switch (action) {
    case 'list':
      if (opts.json === true) io.out(`${JSON.stringify(mine, null, 2)}\n`);
      else io.out(mine.length === 0 ? 'no MCP servers are pinned yet\n' : `${mine.map((r) => sanitizeForDisplay(describeRecord(r))).join('\n\n')}\n`);
      return 0;
    case 'approve':
    case 'revoke': {
      if (server === undefined) throw new CordonError('CORDON_USAGE', `write cordon mcp pins ${action} SERVER [TOOL...]`);
      if (mine.length === 0) {
        io.stderr(`cordon: no pins for MCP server ${server}; see cordon mcp pins list\n`);
        return 1;
      }
      let any = false;
      for (const r of mine) {
        const res = action === 'approve' ? approvePending(r, tools.length === 0 ? null : tools, new Date().toISOString()) : revokePins(r, tools.length === 0 ? null : tools);
        if (res.changed.length > 0) {
          store.save(res.record);
          any = true;
          io.out(`${action === 'approve' ? 'approved' : 'revoked'} for ${r.server} (${r.identity.slice(0, 16)}): ${res.changed.map(sanitizeForDisplay).join(', ')}\n`);
        }
        if (res.missing.length > 0) io.stderr(`cordon: nothing to ${action} for ${res.missing.map(sanitizeForDisplay).join(', ')} on ${r.server} (${r.identity.slice(0, 16)})\n`);
      }
      return any ? 0 : 1;
    }
    default:
      throw new CordonError('CORDON_USAGE', `unknown pins action '${action}'; use list, approve or revoke`);
  }
}

export interface McpScanOptions extends PolicyCommonOptions {
  readonly json?: boolean;
  readonly name?: string;
  readonly sandbox?: boolean;
  readonly pinDir?: string;
}

/** `cordon mcp scan [--json] [SERVER...] [-- CMD...]`: 0 nothing flagged, 1 findings, 2 a server could not be scanned. */
export async function mcpScan(servers: readonly string[], cmd: readonly string[], opts: McpScanOptions = {}, out: (t: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const { scanServers } = await import('../mcp/scan.js');
  const loaded = await loadPolicyCached(loadOptions(opts));
  const results = await scanServers(loaded, {
    cwd: process.cwd(), env: process.env,
    ...(opts.pinDir === undefined ? {} : { pinDir: opts.pinDir }),
    ...(servers.length === 0 ? {} : { only: servers }),
    ...(cmd.length === 0 ? {} : { command: { argv: cmd, ...(opts.name === undefined ? {} : { name: opts.name }), ...(opts.sandbox === undefined ? {} : { sandbox: opts.sandbox }) } }),
  });
  if (results.length === 0) throw new CordonError('CORDON_USAGE', servers.length === 0 ? 'no MCP servers to scan: configure mcp.servers or give a command after --' : `no configured MCP server named ${servers.join(', ')}`);
  if (opts.json === true) {
    out(`${JSON.stringify(results, null, 2)}\n`);
  } else {
    for (const r of results) {
      if (r.error !== null) {
        out(`${r.server}: could not be scanned: ${sanitizeForDisplay(r.error)}\n`);
        continue;
      }
      out(`${r.server}: ${r.tools} tools, ${r.prompts} prompts, ${r.resources} resources; ${r.findings.length === 0 ? 'nothing flagged' : `${r.findings.length} flagged`}\n`);
      for (const f of r.findings) out(`  ${sanitizeForDisplay(f.subject)}: ${sanitizeForDisplay(f.rule)}: ${sanitizeForDisplay(f.reason)}\n`);
    }
  }
  if (results.some((r) => r.error !== null)) return 2;
  return results.some((r) => r.findings.length > 0) ? 1 : 0;
}
