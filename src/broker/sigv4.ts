/**
 * AWS Signature Version 4, written against the documented algorithm
 * (canonical request -> string to sign -> HMAC chain) with node:crypto. The
 * broker uses it to re-sign a request the agent signed with the placeholder
 * secret: the placeholder key id in the Authorization header is replaced by
 * the real one and the signature recomputed over the request as it is sent
 * upstream (after the proxy's header normalisation and the broker's swaps),
 * with the real secret. Presigned URLs (query-string authentication) are
 * re-signed the same way: the placeholder key id in `X-Amz-Credential` is
 * replaced and `X-Amz-Signature` recomputed. A body whose chunks carry
 * signatures (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) is re-signed chunk by
 * chunk (aws-chunked.ts), chained from the re-signed seed. Signed trailers
 * (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`) and SigV4a
 * (`STREAMING-AWS4-ECDSA-*`) are refused with the reason: their signatures
 * are made with the placeholder secret and are never forwarded.
 * `UNSIGNED-PAYLOAD` and `STREAMING-UNSIGNED-PAYLOAD-TRAILER` sign nothing in
 * the body and are re-signed in the header only.
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

export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';

export type ResignResult =
  | {
    readonly ok: true;
    readonly authorization: string;
    /** For a chunk-signed body: what the chunk re-signer needs (the seed is this authorization's signature). */
    readonly chunks?: { readonly signingKey: Buffer; readonly amzDate: string; readonly scope: string; readonly seedSignature: string };
  }
  | { readonly ok: false; readonly reason: string };

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
  const streaming = streamingRefusal(declared, true);
  if (streaming !== undefined) return { ok: false, reason: streaming };
  const payloadHash = declared ?? bodyHash();
  const value = authorization({ method, target, headers, signedHeaders: auth.signedHeaders, payloadHash, service: auth.service, accessKeyId: real.accessKeyId, secret: real.secret, amzDate, region: auth.region });
  if (declared !== STREAMING_SIGNED) return { ok: true, authorization: value };
  const chunks = {
    signingKey: signingKey(real.secret, auth.date, auth.region, auth.service),
    amzDate,
    scope: `${auth.date}/${auth.region}/${auth.service}/aws4_request`,
    seedSignature: value.slice(value.lastIndexOf('Signature=') + 'Signature='.length),
  };
  return { ok: true, authorization: value, chunks };
}

/** Payload hash values whose body is not signed: the header's (or URL's) signature is all there is to re-sign. */
const UNSIGNED_BODY = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);

/**
 * Why a declared `x-amz-content-sha256` cannot be re-signed, or undefined when it can (a hex hash, or
 * a payload whose body carries no signature). Chunk-signed bodies are refused: every chunk signature
 * chains from the seed signature made with the placeholder secret.
 */
export function streamingRefusal(declared: string | undefined, chunksResigned = false): string | undefined {
  if (declared === undefined || UNSIGNED_BODY.has(declared) || /^[0-9a-f]{64}$/.test(declared)) return undefined;
  if (declared === STREAMING_SIGNED && chunksResigned) return undefined;
  if (declared.startsWith('STREAMING-')) {
    const what = declared === STREAMING_SIGNED
      ? 'a presigned URL cannot carry chunk-signed bodies'
      : declared.endsWith('-TRAILER')
        ? 'the broker re-signs chunk signatures but not signed trailers'
        : 'the broker re-signs HMAC-SHA256 chunk signatures only, not SigV4a (ECDSA)';
    return `the request body is sent in aws-chunked encoding with a signature on every chunk (x-amz-content-sha256: ${declared}); ` +
      `those signatures are made with the placeholder secret, and ${what}, so it is refused. ` +
      'Configure the client to sign whole payloads, to use STREAMING-AWS4-HMAC-SHA256-PAYLOAD without a trailing checksum, or to send the payload unsigned over HTTPS (UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER)';
  }
  return `x-amz-content-sha256 is neither a SHA-256 hex digest nor a known payload mode (${declared.slice(0, 80)}); refused`;
}

/** A presigned URL's authentication parameters (query-string SigV4). */
export interface SigV4Presigned extends SigV4Authorization {
  /** `X-Amz-Date`. */
  readonly amzDate: string;
}

const PRESIGN_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature'] as const;

function queryPairs(query: string): { raw: string; name: string; value: string }[] {
  return query.split('&').filter((p) => p !== '').map((raw) => {
    const eq = raw.indexOf('=');
    return { raw, name: decode(eq < 0 ? raw : raw.slice(0, eq)), value: decode(eq < 0 ? '' : raw.slice(eq + 1)) };
  });
}

/**
 * Parses the query-string authentication of a presigned URL (`X-Amz-Algorithm=AWS4-HMAC-SHA256`,
 * `X-Amz-Credential=K/D/R/S/aws4_request`, `X-Amz-Date`, `X-Amz-SignedHeaders`, `X-Amz-Signature`,
 * each exactly once); undefined when the target is not one.
 */
export function parsePresigned(target: string): SigV4Presigned | undefined {
  const q = target.indexOf('?');
  if (q < 0) return undefined;
  const pairs = queryPairs(target.slice(q + 1));
  const get = (name: string): string | undefined => {
    const found = pairs.filter((p) => p.name === name);
    return found.length === 1 ? found[0]?.value : undefined;
  };
  if (PRESIGN_PARAMS.some((n) => get(n) === undefined) || get('X-Amz-Algorithm') !== ALGORITHM) return undefined;
  const cred = (get('X-Amz-Credential') ?? '').split('/');
  const amzDate = get('X-Amz-Date') ?? '';
  const signature = get('X-Amz-Signature') ?? '';
  const signedHeaders = (get('X-Amz-SignedHeaders') ?? '').split(';');
  if (cred.length !== 5 || cred[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = cred as [string, string, string, string, string];
  if (!/^\d{8}$/.test(date) || !/^\d{8}T\d{6}Z$/.test(amzDate) || !/^[0-9a-f]{64}$/.test(signature) || accessKeyId === '' || region === '' || service === '') return undefined;
  if (signedHeaders.some((h) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h))) return undefined;
  return { accessKeyId, date, region, service, signedHeaders, signature, amzDate };
}

export interface PresignInput {
  readonly method: string;
  /** Path and query as sent, with the presign parameters. */
  readonly target: string;
  readonly headers: readonly string[];
  readonly accessKeyId: string;
  readonly secret: string;
  /** Payload hash when the URL does not declare one (`X-Amz-Content-Sha256`): S3 uses UNSIGNED-PAYLOAD. */
  readonly bodyHash: () => string;
}

/**
 * The target with `X-Amz-Credential` naming `accessKeyId` and `X-Amz-Signature` computed with
 * `secret` (the other parameters as they were sent, in their order and encoding).
 */
export function signPresigned(p: PresignInput, auth: SigV4Presigned): string {
  const q = p.target.indexOf('?');
  const path = p.target.slice(0, q);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const credential = `X-Amz-Credential=${uriEncode(`${p.accessKeyId}/${scope}`, false)}`;
  const kept = queryPairs(p.target.slice(q + 1)).filter((x) => x.name !== 'X-Amz-Signature').map((x) => (x.name === 'X-Amz-Credential' ? credential : x.raw));
  const declared = queryPairs(p.target.slice(q + 1)).find((x) => x.name === 'X-Amz-Content-Sha256')?.value;
  const payloadHash = declared ?? (auth.service === 's3' ? 'UNSIGNED-PAYLOAD' : p.bodyHash());
  const unsigned = `${path}?${kept.join('&')}`;
  const canonical = canonicalRequest({ method: p.method, target: unsigned, headers: p.headers, signedHeaders: auth.signedHeaders, payloadHash, service: auth.service });
  const sig = createHmac('sha256', signingKey(p.secret, auth.date, auth.region, auth.service)).update(stringToSign(auth.amzDate, scope, canonical), 'utf8').digest('hex');
  return `${unsigned}&X-Amz-Signature=${sig}`;
}

/** Re-signs a presigned URL made with the placeholder key: the new target, or why not. */
export function resignPresigned(method: string, target: string, headers: readonly string[], auth: SigV4Presigned, real: { accessKeyId: string; secret: string }, bodyHash: () => string): { readonly ok: true; readonly target: string } | { readonly ok: false; readonly reason: string } {
  if (auth.amzDate.slice(0, 8) !== auth.date) return { ok: false, reason: 'the presigned URL\'s X-Amz-Date does not match its credential scope' };
  if (!auth.signedHeaders.includes('host')) return { ok: false, reason: 'the presigned URL does not sign the host header' };
  const declared = queryPairs(target.slice(target.indexOf('?') + 1)).find((x) => x.name === 'X-Amz-Content-Sha256')?.value;
  const streaming = streamingRefusal(declared) ?? streamingRefusal(headerValue(headers, 'x-amz-content-sha256'));
  if (streaming !== undefined) return { ok: false, reason: streaming };
  return { ok: true, target: signPresigned({ method, target, headers, accessKeyId: real.accessKeyId, secret: real.secret, bodyHash }, auth) };
}
