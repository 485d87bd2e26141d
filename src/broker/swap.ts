/**
 * The broker's decision on one request, as a pure function of its headers,
 * its destination and the session's credentials: every placeholder in the
 * headers must belong to a credential scoped to the destination and sit in
 * that credential's header (`authorization` also in its `Bearer` and `Basic`
 * forms); it is replaced by the real value. An AWS key pair is not swapped
 * but re-signed (sigv4.ts) by the caller, which needs the body hash; so is
 * a presigned URL whose `X-Amz-Credential` names the key id's placeholder
 * (the placeholder must appear nowhere else in the target).
 */
import type { CanonicalHost } from '../policy/types.js';
import { hostMatches, type HostPattern } from './hosts.js';
import { parseAuthorization, parsePresigned, type SigV4Authorization, type SigV4Presigned } from './sigv4.js';

export interface HeldCredential {
  readonly name: string;
  readonly hosts: readonly HostPattern[];
  /** Lowercase header name. */
  readonly header: string;
  readonly placeholder: string;
  readonly real: string;
}

/** The AWS access key pair, when both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are credentials. */
export interface AwsPair {
  readonly keyId: HeldCredential;
  readonly secret: HeldCredential;
}

export interface Destination {
  readonly host: CanonicalHost;
  readonly port: number;
  readonly tls: boolean;
}

export type SwapResult =
  | { readonly ok: true; readonly headers: string[]; readonly used: readonly string[]; readonly sigv4: SigV4Authorization | undefined; readonly presigned?: SigV4Presigned }
  | { readonly ok: false; readonly reason: string };

function basicSwap(value: string, from: string, to: string): string | undefined {
  const m = /^(Basic\s+)([A-Za-z0-9+/=]+)$/i.exec(value);
  if (m === null) return undefined;
  const decoded = Buffer.from(m[2] ?? '', 'base64').toString('utf8');
  if (!decoded.includes(from)) return undefined;
  return `${m[1] ?? 'Basic '}${Buffer.from(decoded.split(from).join(to), 'utf8').toString('base64')}`;
}

/**
 * Replaces placeholders for `dest`. Refuses when a placeholder is in another
 * header than its credential's, when its credential is not scoped to `dest`,
 * and when no placeholder is present at all (the broker carries only
 * credentialed requests).
 */
function occurrences(hay: string, needle: string): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) n++;
  return n;
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A presigned URL signed with the AWS key id's placeholder: its parameters, or why it is refused
 * (undefined when the target carries no AWS placeholder at all). Every other placeholder in a
 * target is refused: credentials travel in headers.
 */
function presignedTarget(target: string, dest: Destination, creds: readonly HeldCredential[], aws: AwsPair | undefined): SigV4Presigned | string | undefined {
  const plain = decoded(target);
  for (const c of creds) {
    if (c === aws?.keyId) continue;
    if (target.includes(c.placeholder) || plain.includes(c.placeholder)) return `the placeholder of ${c.name} is in the URL`;
  }
  if (aws === undefined || (!target.includes(aws.keyId.placeholder) && !plain.includes(aws.keyId.placeholder))) return undefined;
  const p = parsePresigned(target);
  if (p?.accessKeyId !== aws.keyId.placeholder || occurrences(target, aws.keyId.placeholder) !== 1 || occurrences(plain, aws.keyId.placeholder) !== 1) {
    return `the placeholder of ${aws.keyId.name} is in the URL outside a presigned URL's X-Amz-Credential`;
  }
  if (!hostMatches(aws.keyId.hosts, dest.host, dest.port, dest.tls)) return `credential ${aws.keyId.name} is not for this destination`;
  return p;
}

export function swapCredentials(raw: readonly string[], dest: Destination, creds: readonly HeldCredential[], aws: AwsPair | undefined, target = ''): SwapResult {
  const presigned = presignedTarget(target, dest, creds, aws);
  if (typeof presigned === 'string') return { ok: false, reason: presigned };
  const out = [...raw];
  const used: string[] = [];
  let sigv4: SigV4Authorization | undefined;
  for (let i = 0; i + 1 < out.length; i += 2) {
    const name = (out[i] ?? '').toLowerCase();
    let value = out[i + 1] ?? '';
    if (aws !== undefined && name === 'authorization') {
      const a = parseAuthorization(value);
      if (a !== undefined && a.accessKeyId === aws.keyId.placeholder) {
        if (!hostMatches(aws.keyId.hosts, dest.host, dest.port, dest.tls)) return { ok: false, reason: `credential ${aws.keyId.name} is not for this destination` };
        sigv4 = a;
        used.push(aws.keyId.name, aws.secret.name);
        continue; // re-signed by the caller
      }
    }
    if (aws !== undefined && value.includes(aws.secret.placeholder)) return { ok: false, reason: `the placeholder of ${aws.secret.name} is never sent (requests are signed with it, not carrying it)` };
    for (const c of creds) {
      if (c === aws?.secret) continue;
      if (c === aws?.keyId) {
        if (value.includes(c.placeholder)) return { ok: false, reason: `the placeholder of ${c.name} is outside a SigV4 Authorization header` };
        continue;
      }
      const basic = name === 'authorization' ? basicSwap(value, c.placeholder, c.real) : undefined;
      if (!value.includes(c.placeholder) && basic === undefined) continue;
      if (!hostMatches(c.hosts, dest.host, dest.port, dest.tls)) return { ok: false, reason: `credential ${c.name} is not for this destination` };
      if (name !== c.header) return { ok: false, reason: `the placeholder of credential ${c.name} is in header ${name}, not in ${c.header}` };
      value = basic ?? value.split(c.placeholder).join(c.real);
      used.push(c.name);
    }
    out[i + 1] = value;
  }
  if (presigned !== undefined && aws !== undefined) {
    if (sigv4 !== undefined) return { ok: false, reason: 'the request is signed both in its Authorization header and in its URL' };
    used.push(aws.keyId.name, aws.secret.name);
    return { ok: true, headers: out, used, sigv4, presigned };
  }
  if (used.length === 0) return { ok: false, reason: 'the request carries no placeholder in a credential header' };
  return { ok: true, headers: out, used, sigv4 };
}
