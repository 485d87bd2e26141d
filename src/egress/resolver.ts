/**
 * Name resolution for the proxy. The proxy resolves a name only after policy
 * allowed it, checks every address it got, and connects to one of those exact
 * addresses: there is never a second lookup, so a rebinding DNS answer cannot
 * swap the checked address for another one.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { CordonError } from '../errors.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Resolves a canonical DNS name to every address it has (bounded by the caller's timeout). */
export type Resolver = (name: string) => Promise<readonly ResolvedAddress[]>;

/** At most this many addresses of one answer are considered. */
export const MAX_ADDRESSES = 32;

function toResolved(list: readonly { address: string; family: number }[]): ResolvedAddress[] {
  const out: ResolvedAddress[] = [];
  for (const a of list.slice(0, MAX_ADDRESSES)) {
    const family = isIP(a.address);
    if (family === 4 || family === 6) out.push({ address: a.address, family });
  }
  return out;
}

/** The system resolver (`getaddrinfo` through `dns.lookup`, every address). */
export const systemResolver: Resolver = async (name) => toResolved(await dns.lookup(name, { all: true, verbatim: true }));

/**
 * A resolver that asks the given DNS servers directly (`host:port` or IP), for
 * tests with a DNS server on loopback and for deployments that want the proxy
 * to use a specific resolver. A and AAAA are asked in parallel.
 */
export function dnsServerResolver(servers: readonly string[], timeoutMs = 5000): Resolver {
  const r = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  r.setServers([...servers]);
  return async (name) => {
    const settle = async (p: Promise<string[]>): Promise<string[]> => p.catch((e: unknown) => {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
      throw e;
    });
    const [v4, v6] = await Promise.all([settle(r.resolve4(name)), settle(r.resolve6(name))]);
    return toResolved([...v4.map((address) => ({ address, family: 4 })), ...v6.map((address) => ({ address, family: 6 }))]);
  };
}

/** Runs a resolver with a deadline; a timeout or failure is a CordonError (the caller denies). */
export async function resolveWithin(resolver: Resolver, name: string, timeoutMs: number): Promise<readonly ResolvedAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CordonError('CORDON_EGRESS_DNS', `resolving ${name} took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const list = await Promise.race([resolver(name), deadline]);
    if (list.length === 0) throw new CordonError('CORDON_EGRESS_DNS', `${name} has no address`);
    return list;
  } catch (e) {
    if (e instanceof CordonError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new CordonError('CORDON_EGRESS_DNS', `${name} could not be resolved (${code})`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}
