/**
 * Binary secrets: a PKCS#12 (.p12/.pfx) file whose MAC verifies with the
 * password Google Cloud uses for every service-account .p12 key
 * (`notasecret`) is a usable private key. A minimal DER reader walks
 * PFX -> authSafe content -> macData; the MAC key comes from the PKCS#12 KDF
 * (RFC 7292 appendix B). The iteration count is capped so a crafted file
 * cannot make the scanner hash millions of times.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_MAC_ITERATIONS = 100_000;
const GCP_P12_PASSWORD = 'notasecret';

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
  readonly next: number;
}

function tlv(b: Buffer, at: number): Tlv | undefined {
  if (at + 2 > b.length) return undefined;
  const tag = b[at] ?? 0;
  let len = b[at + 1] ?? 0;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > b.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (b[p + i] ?? 0);
    p += n;
  }
  if (p + len > b.length) return undefined;
  return { tag, start: p, end: p + len, next: p + len };
}

function children(b: Buffer, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let p = t.start;
  while (p < t.end && out.length < 16) {
    const c = tlv(b, p);
    if (c === undefined || c.end > t.end) return out;
    out.push(c);
    p = c.next;
  }
  return out;
}

const HASHES: Record<string, { name: string; v: number }> = {
  '2b0e03021a': { name: 'sha1', v: 64 },
  '608648016503040201': { name: 'sha256', v: 64 },
  '608648016503040202': { name: 'sha384', v: 128 },
  '608648016503040203': { name: 'sha512', v: 128 },
};

function repeatTo(src: Buffer, v: number): Buffer {
  if (src.length === 0) return Buffer.alloc(0);
  const len = v * Math.ceil(src.length / v);
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = src[i % src.length] ?? 0;
  return out;
}

/** PKCS#12 KDF, ID 3 (MAC key), one block of output: enough for an HMAC key. */
export function pkcs12MacKey(hash: string, v: number, password: string, salt: Buffer, iterations: number): Buffer {
  const pw = Buffer.from(`${password}\0`, 'utf16le');
  pw.swap16();
  const d = Buffer.alloc(v, 3);
  const i = Buffer.concat([repeatTo(salt, v), repeatTo(pw, v)]);
  let a = createHash(hash).update(d).update(i).digest();
  for (let r = 1; r < iterations; r++) a = createHash(hash).update(a).digest();
  return a;
}

/** Whether `bytes` is a PKCS#12 file whose MAC verifies under `password`. */
export function p12MacVerifies(bytes: Buffer, password: string): boolean {
  const pfx = tlv(bytes, 0);
  if (pfx === undefined || pfx.tag !== 0x30) return false;
  const [version, authSafe, macData] = children(bytes, pfx);
  if (version?.tag !== 0x02 || authSafe?.tag !== 0x30 || macData?.tag !== 0x30) return false;
  const [, explicit] = children(bytes, authSafe);
  if (explicit?.tag !== 0xa0) return false;
  const [content] = children(bytes, explicit);
  if (content?.tag !== 0x04) return false;
  const [digestInfo, salt, iter] = children(bytes, macData);
  if (digestInfo?.tag !== 0x30 || salt?.tag !== 0x04) return false;
  let iterations = 1;
  if (iter !== undefined) {
    if (iter.tag !== 0x02 || iter.end - iter.start > 4) return false;
    iterations = bytes.subarray(iter.start, iter.end).reduce((n, x) => n * 256 + x, 0);
  }
  if (iterations < 1 || iterations > MAX_MAC_ITERATIONS) return false;
  const [alg, digest] = children(bytes, digestInfo);
  if (alg?.tag !== 0x30 || digest?.tag !== 0x04) return false;
  const [oid] = children(bytes, alg);
  if (oid?.tag !== 0x06) return false;
  const h = HASHES[bytes.subarray(oid.start, oid.end).toString('hex')];
  if (h === undefined) return false;
  const key = pkcs12MacKey(h.name, h.v, password, bytes.subarray(salt.start, salt.end), iterations);
  const mac = createHmac(h.name, key).update(bytes.subarray(content.start, content.end)).digest();
  const want = bytes.subarray(digest.start, digest.end);
  return mac.length === want.length && timingSafeEqual(mac, want);
}

export interface BinaryFinding {
  readonly detector: string;
  readonly provider: string;
  readonly explain: string;
}

/** Secrets recognisable in a binary file. */
export function scanBinary(bytes: Buffer): BinaryFinding[] {
  if (bytes.length < 64 || bytes.length > 1 << 20 || bytes[0] !== 0x30) return [];
  if (p12MacVerifies(bytes, GCP_P12_PASSWORD)) {
    return [{ detector: 'gcp-p12-private-key', provider: 'Google Cloud', explain: 'A PKCS#12 key store protected by the well-known Google Cloud password (notasecret): the private key inside is readable by anyone.' }];
  }
  return [];
}
