/**
 * The hosts a credential may be sent to, as written in the policy:
 * `api.example.com`, `*.example.com` (subdomains only), an IP literal
 * (`127.0.0.1`, `[::1]`), each optionally with `:port`. Without a port a
 * pattern means the scheme's default port (443 over TLS, 80 in clear).
 * Canonicalised with the proxy's own canonicaliser, so both sides agree.
 */
import { CordonError } from '../errors.js';
import { canonicalizeHost, parseAuthority } from '../egress/hostname.js';
import type { CanonicalHost } from '../policy/types.js';

export interface HostPattern {
  readonly text: string;
  /** Canonical name or IP; for a wildcard, the suffix after `*.`. */
  readonly name: string;
  readonly wildcard: boolean;
  readonly port: number | undefined;
}

export function compileHost(credential: string, text: string): HostPattern {
  try {
    const wildcard = text.startsWith('*.');
    const rest = wildcard ? text.slice(2) : text;
    if (/^(?:\[[^\]]+\]|[^:[\]]+):\d+$/.test(rest)) {
      const a = parseAuthority(rest);
      if (wildcard && a.host.type !== 'dns') throw new Error('a wildcard needs a DNS name');
      return { text, name: a.host.name, wildcard, port: a.port };
    }
    const h = canonicalizeHost(rest.replace(/^\[(.*)\]$/, '$1'));
    if (wildcard && h.type !== 'dns') throw new Error('a wildcard needs a DNS name');
    return { text, name: h.name, wildcard, port: undefined };
  } catch (e) {
    throw new CordonError('CORDON_BROKER', `credentials.${credential}.hosts: ${JSON.stringify(text)} is not a host, *.domain or host:port (${e instanceof Error ? e.message : 'invalid'})`);
  }
}

/** Whether `host:port` (reached over TLS or not) is one of `patterns`; `tls` undefined: either default port. */
export function hostMatches(patterns: readonly HostPattern[], host: CanonicalHost, port: number, tls: boolean | undefined): boolean {
  return patterns.some((p) => {
    const nameOk = p.wildcard ? host.type === 'dns' && host.name.endsWith(`.${p.name}`) : host.name === p.name;
    const portOk = p.port !== undefined ? p.port === port : tls === undefined ? port === 443 || port === 80 : port === (tls ? 443 : 80);
    return nameOk && portOk;
  });
}
