/**
 * `cordon mcp serve`: the Streamable HTTP gateway on loopback. Without a
 * target it serves every server of `mcp.servers` as one endpoint with
 * namespaced tools; with `--url URL --name N` or `-- CMD...` it fronts one
 * server. Prints one JSON line (URL, bearer token, a ready `mcpServers`
 * block for Claude Code's `--mcp-config`) and runs until stopped.
 */
import path from 'node:path';
import { AuditWriter } from '../audit/writer.js';
import { isSessionId, newSessionId, stateDir } from '../audit/paths.js';
import { CordonError } from '../errors.js';
import { publishSink } from '../mcp/audit.js';
import { newToken } from '../mcp/http/guard.js';
import { clientConfig, startHttpGateway, type ServeTarget } from '../mcp/http/serve.js';
import { loadPolicyCached } from '../policy/cache.js';
import { AUDIT_DEFER_MS, dlpScanner } from './mcp-cmd.js';
import { loadOptions, type PolicyCommonOptions } from './policy-options.js';

export interface McpServeOptions extends PolicyCommonOptions {
  readonly listen?: string;
  readonly name?: string;
  readonly url?: string;
  readonly sandbox?: boolean;
  readonly origin?: string[];
  readonly pinDir?: string;
}

function listenAddress(spec: string): { host: string; port: number } {
  const u = new URL(`http://${spec}`);
  const host = u.hostname === '[::1]' ? '::1' : u.hostname;
  if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') throw new CordonError('CORDON_USAGE', `--listen must be a loopback address (127.0.0.1:PORT), not ${spec}`);
  return { host, port: u.port === '' ? 0 : Number(u.port) };
}

function target(cmd: readonly string[], o: McpServeOptions): ServeTarget {
  if (o.url !== undefined && cmd.length > 0) throw new CordonError('CORDON_USAGE', 'give either --url or a server command after --, not both');
  if (o.url !== undefined) {
    if (o.name === undefined) throw new CordonError('CORDON_USAGE', '--url needs --name (the server name in mcp__NAME__tool rules)');
    let url: URL;
    try {
      url = new URL(o.url);
    } catch {
      throw new CordonError('CORDON_USAGE', `--url ${o.url} is not a URL`);
    }
    return { kind: 'url', name: o.name, url };
  }
  if (cmd.length > 0) return { kind: 'command', argv: cmd, ...(o.name === undefined ? {} : { name: o.name }), ...(o.sandbox === undefined ? {} : { sandbox: o.sandbox }) };
  return { kind: 'all' };
}

export async function mcpServe(cmd: readonly string[], o: McpServeOptions, out: (t: string) => void = (t) => process.stdout.write(t), err: (t: string) => void = (t) => process.stderr.write(t)): Promise<number> {
  const t = target(cmd, o);
  const { host, port } = listenAddress(o.listen ?? '127.0.0.1:0');
  const loaded = await loadPolicyCached(loadOptions(o));
  const given = process.env['CORDON_MCP_TOKEN'];
  const token = given !== undefined && given.length >= 32 ? given : newToken();
  const session = process.env['CORDON_SESSION'] !== undefined && isSessionId(process.env['CORDON_SESSION']) ? process.env['CORDON_SESSION'] : newSessionId();
  // As for wrap: records off the reply's critical path, flushed on close and exit; calls refused once the log fails.
  const writer = AuditWriter.open({ dir: path.resolve(loaded.settings.audit?.dir ?? stateDir()), session, deferMs: AUDIT_DEFER_MS });
  const unsubscribe = writer.subscribe();
  try {
    const gw = await startHttpGateway(loaded, {
      target: t, token, argumentScanners: [await dlpScanner(loaded)], audit: publishSink, auditReady: () => writer.healthy, log: (l) => err(`${l}\n`), cwd: process.cwd(), env: process.env,
      ...(o.pinDir === undefined ? {} : { pinDir: o.pinDir }), ...(o.origin === undefined ? {} : { origins: o.origin }),
    });
    const bound = await gw.front.listen(port, host);
    const url = `http://${host === '::1' ? '[::1]' : host}:${bound}/mcp`;
    out(`${JSON.stringify({ url, token, servers: gw.servers, ...clientConfig(url, token) })}\n`);
    err(`cordon mcp: serving ${gw.servers.join(', ') || 'no servers'} on ${url} (audit session ${session}); stop with Ctrl-C\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await gw.close();
    return 0;
  } finally {
    unsubscribe();
    writer.close();
  }
}
