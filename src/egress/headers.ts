/**
 * Header hygiene for forwarded messages: hop-by-hop and proxy headers are
 * removed (RFC 9110 section 7.6.1: the fixed list plus every name listed in
 * `Connection`), the order and case of the rest are kept as received.
 */

/** Removed from every forwarded request and response. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Lengths of the names `forwardHeaders` acts on (hop-by-hop and `host`): other names need no lower-casing. */
const ACTED_ON_LENGTHS: ReadonlySet<number> = new Set([...HOP_BY_HOP, 'host'].map((n) => n.length));

/** Names a `Connection` header lists (comma-separated tokens, case-insensitive). */
function connectionTokens(raw: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i] ?? '';
    if (n.length !== 10 || n.toLowerCase() !== 'connection') continue;
    for (const t of (raw[i + 1] ?? '').split(',')) {
      const name = t.trim().toLowerCase();
      if (name !== '') out.add(name);
    }
  }
  return out;
}

/**
 * Raw header pairs without hop-by-hop and proxy headers. With `host`, the
 * Host header is replaced by the request target's authority in its original
 * position (RFC 9112 section 3.2.2: a proxy uses the target, not the header),
 * or added first when absent.
 */
export function forwardHeaders(raw: readonly string[], host?: string): string[] {
  let listed = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i] ?? '';
    if (n.length === 10 && n.toLowerCase() === 'connection') {
      listed = true;
      break;
    }
  }
  const drop = listed ? connectionTokens(raw) : undefined;
  const out: string[] = [];
  let hostDone = host === undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    // Names no rule here can match keep their bytes without a lower-casing pass (names listed in Connection can be any length).
    const l = drop !== undefined || ACTED_ON_LENGTHS.has(name.length) ? name.toLowerCase() : '';
    if (HOP_BY_HOP.has(l) || drop?.has(l) === true) continue;
    if (l === 'host') {
      if (!hostDone && host !== undefined) out.push(name, host);
      hostDone = true;
      continue;
    }
    out.push(name, raw[i + 1] ?? '');
  }
  if (!hostDone && host !== undefined) out.unshift('Host', host);
  return out;
}

/** First value of a header in a raw pair list (case-insensitive). */
export function rawHeader(raw: readonly string[], name: string): string | undefined {
  const want = name.toLowerCase();
  for (let i = 0; i + 1 < raw.length; i += 2) if ((raw[i] ?? '').toLowerCase() === want) return raw[i + 1];
  return undefined;
}
