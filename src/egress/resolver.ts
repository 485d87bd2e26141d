/**
 * Name resolution for the proxy. The proxy resolves a name only after policy
 * allowed it, checks every address it got, and connects to one of those exact
 * addresses: there is never a second lookup, so a rebinding DNS answer cannot
 * swap the checked address for another one.
 */
import { promises as dns, type RecordWithTtl } from 'node:dns';
import { isIP } from 'node:net';
import { CordonError } from '../errors.js';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
  /** Seconds the answer may be kept (from the DNS record; absent: unknown, never cached). */
  readonly ttl?: number;
}

/** Resolves a canonical DNS name to every address it has (bounded by the caller's timeout). */
export type Resolver = (name: string) => Promise<readonly ResolvedAddress[]>;

/** At most this many addresses of one answer are considered. */
export const MAX_ADDRESSES = 32;

function toResolved(list: readonly { address: string; family: number; ttl?: number }[]): ResolvedAddress[] {
  const out: ResolvedAddress[] = [];
  for (const a of list.slice(0, MAX_ADDRESSES)) {
    const family = isIP(a.address);
    if (family === 4 || family === 6) out.push({ address: a.address, family, ...(a.ttl === undefined ? {} : { ttl: a.ttl }) });
  }
  return out;
}

/** `getaddrinfo` reports no TTL: the system resolver's answers are kept this long (seconds). */
export const SYSTEM_ANSWER_TTL = 5;

/** The system resolver (`getaddrinfo` through `dns.lookup`, every address), answers kept SYSTEM_ANSWER_TTL seconds. */
export const systemResolver: Resolver = async (name) => toResolved((await dns.lookup(name, { all: true, verbatim: true })).map((a) => ({ ...a, ttl: SYSTEM_ANSWER_TTL })));

/**
 * A resolver that asks the given DNS servers directly (`host:port` or IP), for
 * tests with a DNS server on loopback and for deployments that want the proxy
 * to use a specific resolver. A and AAAA are asked in parallel.
 */
export function dnsServerResolver(servers: readonly string[], timeoutMs = 5000): Resolver {
  const r = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
  r.setServers([...servers]);
  return async (name) => {
    const settle = async (p: Promise<RecordWithTtl[]>): Promise<RecordWithTtl[]> => p.catch((e: unknown) => {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENODATA' || code === 'ENOTFOUND') return [];
      throw e;
    });
    const [v4, v6] = await Promise.all([settle(r.resolve4(name, { ttl: true })), settle(r.resolve6(name, { ttl: true }))]);
    return toResolved([...v4.map((a) => ({ ...a, family: 4 })), ...v6.map((a) => ({ ...a, family: 6 }))]);
  };
}

export interface AnswerCacheOptions {
  /** Longest time an answer is kept, whatever its TTL (ms). Default 60 s. */
  readonly maxTtlMs?: number;
  /** Names kept; above, the least recently used is dropped. Default 1024. */
  readonly maxEntries?: number;
  /** Clock (ms), for tests. */
  readonly now?: () => number;
}

/**
 * A resolver keeping answers for their TTL (capped; an answer without a TTL,
 * or with TTL 0, is not kept), keyed by the canonical name it was asked for.
 * Concurrent lookups of one name share one query; failures are not kept.
 *
 * It caches answers, not decisions: the gate still checks every address of a
 * cached answer on every use and connects to the checked address, so the
 * no-second-lookup property holds (within the TTL no new answer is even
 * asked for: a rebinding answer cannot replace the checked one), and a name
 * that policy denies is never resolved, cached or not.
 */
export function cachingResolver(inner: Resolver, o: AnswerCacheOptions = {}): Resolver {
  const maxTtlMs = o.maxTtlMs ?? 60_000;
  const maxEntries = Math.max(1, o.maxEntries ?? 1024);
  const now = o.now ?? Date.now;
  const kept = new Map<string, { readonly answer: readonly ResolvedAddress[]; readonly until: number }>();
  const asking = new Map<string, Promise<readonly ResolvedAddress[]>>();
  return (name) => {
    const hit = kept.get(name);
    if (hit !== undefined) {
      if (now() < hit.until) {
        kept.delete(name);
        kept.set(name, hit);
        return Promise.resolve(hit.answer);
      }
      kept.delete(name);
    }
    const pending = asking.get(name);
    if (pending !== undefined) return pending;
    const p = inner(name).then((answer) => {
      let ttl = Infinity;
      for (const a of answer) ttl = Math.min(ttl, a.ttl ?? 0);
      const ms = Math.min(ttl * 1000, maxTtlMs);
      if (answer.length > 0 && ms > 0) {
        kept.set(name, { answer: Object.freeze([...answer]), until: now() + ms });
        while (kept.size > maxEntries) {
          const oldest = kept.keys().next().value;
          if (oldest === undefined) break;
          kept.delete(oldest);
        }
      }
      return answer;
    });
    asking.set(name, p);
    const done = (): void => void asking.delete(name);
    p.then(done, done);
    return p;
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
