/**
 * AWS Signature Version 4, written against the documented algorithm
 * (canonical request -> string to sign -> HMAC chain) with node:crypto. The
 * broker uses it to re-sign a request the agent signed with the placeholder
 * secret: the placeholder key id in the Authorization header is replaced by
 * the real one and the signature recomputed over the request as it is sent
 * upstream (after the proxy's header normalisation and the broker's swaps),
 * with the real secret. Presigned URLs and chunked streaming signatures
 * (`STREAMING-*` payloads) are not re-signed: they are refused.
 */
import { createHash, createHmac } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface SigV4Authorization {
  readonly accessKeyId: string;
  /** YYYYMMDD of the credential scope. */
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** Parses `AWS4-HMAC-SHA256 Credential=K/D/R/S/aws4_request, SignedHeaders=a;b, Signature=hex`; undefined when it is not that. */
export function parseAuthorization(value: string): SigV4Authorization | undefined {
  const v = value.trim();
  if (!v.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of v.slice(ALGORITHM.length + 1).split(',')) {
    const p = part.trim();
    const eq = p.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(p.slice(0, eq), p.slice(eq + 1));
  }
  const cred = fields.get('Credential')?.split('/');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (cred?.length !== 5 || signed === undefined || signature === undefined || cred[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = cred as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date) || !/^[0-9a-f]{64}$/.test(signature) || accessKeyId === '' || region === '' || service === '') return undefined;
  const signedHeaders = signed.split(';');
  if (signedHeaders.some((h) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h))) return undefined;
  return { accessKeyId, date, region, service, signedHeaders, signature };
}

/** RFC 3986 percent-encoding as SigV4 wants it (unreserved characters kept; `/` kept when `keepSlash`). */
export function uriEncode(s: string, keepSlash: boolean): string {
  const e = encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? e.replace(/%2F/g, '/') : e;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The canonical URI: the path as sent, encoded once more (every service but S3, whose paths are used as they are). */
export function canonicalUri(path: string, service: string): string {
  if (path === '') return '/';
  return service === 's3' ? path : uriEncode(path, true);
}

/** The canonical query string: each name and value decoded then encoded, sorted by name then value. */
export function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query.split('&').filter((p) => p !== '').map((p) => {
    const eq = p.indexOf('=');
    const k = eq < 0 ? p : p.slice(0, eq);
    const val = eq < 0 ? '' : p.slice(eq + 1);
    return [uriEncode(decode(k), false), uriEncode(decode(val), false)] as const;
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, val]) => `${k}=${val}`).join('&');
}

/** Canonical header lines for `signed` (lowercase names) from raw header pairs: values trimmed, inner runs of spaces collapsed, repeats joined by `,`. */
export function canonicalHeaders(raw: readonly string[], signed: readonly string[]): string {
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    const list = values.get(name) ?? [];
    list.push((raw[i + 1] ?? '').trim().replace(/\s+/g, ' '));
    values.set(name, list);
  }
  return signed.map((h) => `${h}:${(values.get(h) ?? []).join(',')}\n`).join('');
}

export interface CanonicalInput {
  readonly method: string;
  /** Path and query as sent (`/a%20b?x=1`). */
  readonly target: string;
  /** Raw header pairs as sent. */
  readonly headers: readonly string[];
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
  readonly service: string;
}

export function canonicalRequest(c: CanonicalInput): string {
  const q = c.target.indexOf('?');
  const path = q < 0 ? c.target : c.target.slice(0, q);
  const query = q < 0 ? '' : c.target.slice(q + 1);
  return [c.method.toUpperCase(), canonicalUri(path, c.service), canonicalQuery(query), canonicalHeaders(c.headers, c.signedHeaders), c.signedHeaders.join(';'), c.payloadHash].join('\n');
}

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string): Buffer => createHmac('sha256', key).update(s, 'utf8').digest();

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return [ALGORITHM, amzDate, scope, sha256(canonical)].join('\n');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

export interface SignInput extends CanonicalInput {
  readonly accessKeyId: string;
  readonly secret: string;
  /** `x-amz-date` value: YYYYMMDD'T'HHMMSS'Z'. */
  readonly amzDate: string;
  readonly region: string;
}

/** The Authorization header value for a request. */
export function authorization(s: SignInput): string {
  const date = s.amzDate.slice(0, 8);
  const scope = `${date}/${s.region}/${s.service}/aws4_request`;
  const sig = createHmac('sha256', signingKey(s.secret, date, s.region, s.service)).update(stringToSign(s.amzDate, scope, canonicalRequest(s)), 'utf8').digest('hex');
  return `${ALGORITHM} Credential=${s.accessKeyId}/${scope}, SignedHeaders=${s.signedHeaders.join(';')}, Signature=${sig}`;
}

export function headerValue(raw: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) if ((raw[i] ?? '').toLowerCase() === name) return raw[i + 1];
  return undefined;
}

export type ResignResult = { readonly ok: true; readonly authorization: string } | { readonly ok: false; readonly reason: string };

/**
 * Re-signs a request whose Authorization names `placeholderKeyId`: same
 * scope and signed headers, real key id and secret. `bodyHash` is the hex
 * SHA-256 of the body as sent (used when there is no x-amz-content-sha256).
 */
export function resign(method: string, target: string, headers: readonly string[], auth: SigV4Authorization, real: { accessKeyId: string; secret: string }, bodyHash: () => string): ResignResult {
  const amzDate = headerValue(headers, 'x-amz-date');
  if (amzDate === undefined || !/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== auth.date) {
    return { ok: false, reason: 'the SigV4 request has no x-amz-date header matching its credential scope' };
  }
  if (!auth.signedHeaders.includes('host')) return { ok: false, reason: 'the SigV4 request does not sign the host header' };
  const declared = headerValue(headers, 'x-amz-content-sha256');
  if (declared?.startsWith('STREAMING-') === true) return { ok: false, reason: `chunked SigV4 payload signing (${declared}) is not supported by the broker; disable it in the client` };
  const payloadHash = declared ?? bodyHash();
  return {
    ok: true,
    authorization: authorization({ method, target, headers, signedHeaders: auth.signedHeaders, payloadHash, service: auth.service, accessKeyId: real.accessKeyId, secret: real.secret, amzDate, region: auth.region }),
  };
}
