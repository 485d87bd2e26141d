/**
 * `Net(host[:port])` patterns. `*.example.com` matches subdomains only (never
 * example.com itself); `*` matches every DNS name. An IP literal or a
 * loopback name (`localhost`) is matched only by a rule that names it exactly:
 * wildcards never reach them, except in deny rules, where broader is safer.
 */
import { CordonError } from '../../errors.js';
import { canonicalizeHost, formatHost, isLoopbackName } from '../../egress/hostname.js';
import type { CanonicalHost, Effect } from '../types.js';

export type HostPattern =
  | { readonly type: 'any' }
  | { readonly type: 'suffix'; readonly suffix: string }
  | { readonly type: 'exact'; readonly host: CanonicalHost };

export interface NetPattern {
  readonly host: HostPattern;
  /** null: every port. */
  readonly port: number | null;
}

function invalid(text: string, what: string): CordonError {
  return new CordonError('CORDON_RULE_INVALID', `'${text}': ${what}`);
}

function parsePort(text: string, raw: string): number | null {
  if (raw === '*') return null;
  if (!/^[0-9]{1,5}$/.test(raw)) throw invalid(text, `port '${raw}' is not a number; write host:443 or host:*`);
  const port = Number(raw);
  if (port < 1 || port > 65535) throw invalid(text, `port ${port} is out of range 1-65535`);
  return port;
}

function parseHostPattern(text: string, raw: string): HostPattern {
  if (raw === '*') return { type: 'any' };
  if (raw.startsWith('*.')) {
    const rest = raw.slice(2);
    if (rest.includes('*')) throw invalid(text, 'only one leading `*.` wildcard is allowed');
    const host = toHost(text, rest);
    if (host.type !== 'dns') throw invalid(text, 'a wildcard cannot apply to an IP address; name the address exactly');
    return { type: 'suffix', suffix: host.name };
  }
  if (raw.includes('*')) {
    throw invalid(text, 'a wildcard may only be the whole host (`*`) or a leading `*.` (`*.example.com`)');
  }
  return { type: 'exact', host: toHost(text, raw) };
}

function toHost(text: string, raw: string): CanonicalHost {
  try {
    return canonicalizeHost(raw);
  } catch (e) {
    throw invalid(text, e instanceof Error ? e.message : String(e));
  }
}

/** Parses `host`, `host:port`, `[v6]:port`, a bare IPv6 literal, or `*`. */
export function parseNetPattern(spec: string, text: string = spec): NetPattern {
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    if (close === -1) throw invalid(text, "missing ']' after the IPv6 address");
    const after = spec.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw invalid(text, `unexpected '${after}' after ']'`);
    return { host: parseHostPattern(text, spec.slice(1, close)), port: after === '' ? null : parsePort(text, after.slice(1)) };
  }
  const colons = spec.split(':').length - 1;
  if (colons === 0) return { host: parseHostPattern(text, spec), port: null };
  if (colons === 1) {
    const at = spec.indexOf(':');
    return { host: parseHostPattern(text, spec.slice(0, at)), port: parsePort(text, spec.slice(at + 1)) };
  }
  return { host: parseHostPattern(text, spec), port: null };
}

function isIpOrLoopback(host: CanonicalHost): boolean {
  return host.type !== 'dns' || isLoopbackName(host);
}

export function hostMatches(p: HostPattern, host: CanonicalHost, effect: Effect): boolean {
  switch (p.type) {
    case 'exact':
      return p.host.type === host.type && p.host.name === host.name;
    case 'suffix':
      if (host.type !== 'dns') return false;
      if (effect !== 'deny' && isLoopbackName(host)) return false;
      return host.name.endsWith(`.${p.suffix}`);
    case 'any':
      return effect === 'deny' || !isIpOrLoopback(host);
  }
}

/** A subject without a port (`Net(example.com)` in explain) is matched only by port-less rules. */
export function portMatches(rulePort: number | null, port: number | null): boolean {
  return rulePort === null || rulePort === port;
}

export function describeHostPattern(p: HostPattern): string {
  switch (p.type) {
    case 'any':
      return 'any host name (not IP addresses or localhost)';
    case 'suffix':
      return `any subdomain of ${p.suffix} (not ${p.suffix} itself)`;
    case 'exact':
      return p.host.type === 'dns' ? `the host ${p.host.name}` : `the address ${formatHost(p.host)}`;
  }
}

export function describeNetPattern(p: NetPattern): string {
  return `${describeHostPattern(p.host)}${p.port === null ? ' on any port' : ` on port ${p.port}`}`;
}
