/**
 * `mcp.servers.<name>.credential`: a credential of the policy's
 * `credentials` section sent to a Streamable HTTP server, in that
 * credential's header, only when the server's URL is on one of the
 * credential's hosts. Under `cordon run` the gateway never holds the value:
 * it sends the credential's placeholder through the credential broker's
 * socket, and the broker (the only process with the real value) checks the
 * destination and swaps it in, as for the egress proxy. Standalone
 * (`cordon mcp serve`, `cordon mcp wrap --url`) there is no broker and no
 * sandboxed agent: the gateway reads the value from the credential's source.
 * The agent's own token to the gateway is never passed on either way.
 */
import { compileHost, hostMatches } from '../../broker/hosts.js';
import type { ProxyCredentials } from '../../broker/ipc.js';
import { resolveSource } from '../../broker/sources.js';
import { canonicalizeHost } from '../../egress/hostname.js';
import { CordonError } from '../../errors.js';
import type { LoadedPolicy } from '../../policy/load.js';

export interface UpstreamCredential {
  /** Lower-case header name. */
  readonly header: string;
  /** The header's value: the placeholder (through the broker) or the real value, `Bearer`-prefixed in `authorization`. */
  readonly value: string;
  /** The broker's socket the requests go through, when there is a broker. */
  readonly via?: string;
}

function fail(server: string, what: string): never {
  throw new CordonError('CORDON_MCP_SERVER', `mcp.servers.${server}.credential: ${what}`);
}

export async function upstreamCredential(
  loaded: LoadedPolicy, server: string, name: string, url: URL, broker: ProxyCredentials | undefined, env: NodeJS.ProcessEnv,
): Promise<UpstreamCredential> {
  const conf = loaded.settings.credentials?.[name];
  if (conf === undefined) fail(server, `${name} is not in the policy's credentials section; add it there with the hosts it belongs to`);
  const tls = url.protocol === 'https:';
  const port = url.port === '' ? (tls ? 443 : 80) : Number(url.port);
  const host = canonicalizeHost(url.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (!hostMatches(conf.hosts.map((h) => compileHost(name, h)), host, port, tls)) {
    fail(server, `credentials.${name} may only be sent to its hosts (${conf.hosts.join(', ')}), and this server's URL is on ${url.host}; add the host to credentials.${name}.hosts if it belongs there`);
  }
  const header = (conf.header ?? 'authorization').toLowerCase();
  const form = (v: string): string => (header === 'authorization' ? `Bearer ${v}` : v);
  if (broker !== undefined) {
    const held = broker.credentials.find((c) => c.name === name);
    if (held === undefined) fail(server, `the credential broker holds no ${name}`);
    return { header, value: form(held.placeholder), via: broker.socket };
  }
  return { header, value: form(await resolveSource(name, conf.source, env)) };
}
