/**
 * The named validators detectors refer to. Each takes the matched text and
 * its groups and says whether the match stands, and how strongly.
 */
import { prefixedTokenChecksumOk } from './crc32.js';
import { judgeByTokens, shannonEntropy, type RandomnessJudge } from './randomness.js';
import type { ValidatorId } from './types.js';

export interface Verdict {
  readonly ok: boolean;
  /** The match stands with the detector's weak confidence (e.g. checksum absent or wrong). */
  readonly weak?: boolean;
  /** Detector id to report instead (e.g. `database-url-password`). */
  readonly id?: string;
  /** Which group holds the secret, when not `secret`. */
  readonly secretGroup?: string;
}

const NO: Verdict = { ok: false };
const YES: Verdict = { ok: true };
const WEAK: Verdict = { ok: true, weak: true };

function b64urlJson(seg: string): unknown {
  try {
    return JSON.parse(Buffer.from(seg, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Values that are obviously not secrets: templates, variables, repeated or masked characters, documentation words. */
export function isPlaceholder(v: string): boolean {
  return TEMPLATE.test(v) || REPEATED.test(v) || DOC_WORD.test(v);
}

const TEMPLATE = /^[$%{<[]|\$\{|\{\{|\$\(|^\*+$|^x+$/i;
const REPEATED = /^(.)\1+$/;
const DOC_WORD = /^(?:your|my|the)[_-]?(?:password|passwd|pass|secret|token|key|api|username|user)$|^replace|^change[_-]?me|^example|^placeholder|^dummy|^redacted|^todo|^xxx|\.\.\.|^<.*>$/i;

const CODE_LIKE = /:\/\/|^(?:process\.env|os\.environ|os\.getenv|env\.|import\.meta|getenv|System\.getenv|config\.|settings\.|self\.|this\.|args\.|options\.|opts\.|req\.|request\.)|[()]|^[a-z]+\.[a-z]+\.[a-z]+$/;

/** Values that say they are not real (for the generic detector only: provider-prefixed tokens are reported even when fake). */
const FAKE = /not[_-]?a[_-]?real|fake|dummy|sample|example|placeholder|redacted|changeme|lorem/i;
/** Words joined by separators (`not_a_real_token`, `my-db-password`): an identifier, not a random value. */
const PHRASE = /^[a-z]+(?:[_.-][a-z]+){2,}$/i;
/** Padded base64 of 44+ characters: ciphertext or a hash (sops, vault-encrypted values); provider keys that look like this have their own detectors. */
const PADDED_BLOB = /^[A-Za-z0-9+/]{42,}={1,2}$/;
/** An identifier (`CommentOrToken`, `ArrowToken$1`): letters with at most a short numeric suffix. */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z_$]*\$?\d{0,2}$/;

/** A UUID: an identifier (record, request, tenant id), not a key. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Base64 alphabet value of each character code, -1 for others. */
const B64_VALUE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
    t[c.charCodeAt(0)] = i;
  });
  return t;
})();

function isTextByte(c: number): boolean {
  return (c >= 32 && c < 127) || c === 9 || c === 10 || c === 13;
}

/**
 * Base64 of readable text (words and spaces): the decoding layers look inside it; the value itself is not random.
 * Decoded in place, 24 bits at a time (no buffer or string per value: this runs on every candidate value).
 */
function isBase64OfText(v: string): boolean {
  if (v.length < 16 || !BASE64.test(v)) return false;
  let end = v.length;
  while (end > 0 && v.charCodeAt(end - 1) === 61) end--;
  let bytes = 0;
  let printable = 0;
  let space = false;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < end; i++) {
    acc = ((acc << 6) | (B64_VALUE[v.charCodeAt(i)] ?? 0)) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      const b = (acc >> bits) & 0xff;
      bytes++;
      if (isTextByte(b)) printable++;
      if (b === 32) space = true;
    }
  }
  return bytes > 0 && printable >= 0.95 * bytes && space;
}

const DB_SCHEMES = new Set(['mongodb', 'mongodb+srv', 'mysql', 'mariadb', 'postgres', 'postgresql', 'redis', 'rediss', 'amqp', 'amqps', 'mssql', 'sqlserver', 'oracle', 'cockroachdb', 'clickhouse', 'couchdb', 'neo4j', 'neo4j+s', 'bolt', 'memcached', 'ldap', 'ldaps']);
const URL_PLACEHOLDER = new Set(['password', 'mypassword', 'passwd', 'pwd', 'your_password', 'yourpassword', 'changeme', 'example', 'placeholder', 'secret_password', 'pass_word']);
/** Database URLs in documentation and compose files very often carry these default development passwords. */
const DB_PLACEHOLDER = new Set(['pass', 'secret', 'root', 'admin', 'test', 'postgres', 'mysql', 'mongo', 'guest']);

function urlUserinfo(groups: Record<string, string | undefined>, match: string): Verdict {
  const user = groups.user ?? '';
  const pass = groups.secret ?? '';
  const scheme = (/^[A-Za-z][A-Za-z0-9+.-]*/.exec(match)?.[0] ?? '').toLowerCase().replace(/^jdbc:/, '');
  if (pass === 'x-oauth-basic' || pass === 'x-oauth-token') {
    return user.length >= 20 ? { ok: true, id: 'url-embedded-token', secretGroup: 'user' } : NO;
  }
  if (pass.length < 4 || isPlaceholder(pass) || pass === user) return NO;
  if (/^[A-Z0-9_]+$/.test(pass) && /[A-Z]/.test(pass) && pass.includes('_')) return NO; // an environment variable name
  const lower = pass.toLowerCase();
  if (URL_PLACEHOLDER.has(lower)) return NO;
  const isDb = DB_SCHEMES.has(scheme) || scheme.startsWith('jdbc');
  if (isDb) {
    if (DB_PLACEHOLDER.has(lower)) return NO;
    return { ok: true, id: 'database-url-password' };
  }
  if (!/^(?:https?|ftps?|wss?|ssh|sftp|git|svn|smtps?|imaps?|socks5h?|socks4)$/.test(scheme)) return NO;
  return { ok: true, id: 'basic-auth-url' };
}

/** Documentation's Basic credentials (RFC 7617's `Aladdin:open sesame`, curl's and MDN's examples), besides the URL placeholders. */
const BASIC_EXAMPLE = new Set(['open sesame', 'opensesame', 'pass', 'secret', 'test', 'testing', 'admin', 'guest', 'demo', 'foobar', 'bar', 'pwd', 'passw0rd', 'p@ssw0rd', 'password1', 'password123', '12345678', '123456', '1234', 'letmein', 'qwerty']);

/**
 * `Basic <base64(user:password)>`: the value decodes (standard or URL-safe
 * alphabet) to printable text with a colon, the password after the first
 * colon is at least 4 characters and not a placeholder, a documentation
 * example or the user name. An empty password (`apikey:`) is left to the
 * decoding layers, which read the user part (an API key) with the provider
 * detectors.
 */
export function basicCredential(b64: string): Verdict {
  const text = Buffer.from(b64, b64.includes('-') || b64.includes('_') ? 'base64url' : 'base64').toString('utf8');
  if (text.length < 3) return NO;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0xfffd) return NO; // binary or not UTF-8: not a user:password pair
  }
  const colon = text.indexOf(':');
  if (colon < 0) return NO;
  const user = text.slice(0, colon);
  const pass = text.slice(colon + 1);
  if (pass.length < 4 || pass === user || isPlaceholder(pass) || FAKE.test(pass)) return NO;
  const lower = pass.toLowerCase();
  if (URL_PLACEHOLDER.has(lower) || BASIC_EXAMPLE.has(lower) || lower === user.toLowerCase()) return NO;
  if (/^[A-Z0-9_]+$/.test(pass) && /[A-Z]/.test(pass) && pass.includes('_')) return NO; // an environment variable name
  return YES;
}

function privateKeyBody(body: string): Verdict {
  const cleaned = body.replace(/\\[nr]|[\s"',+]/g, '');
  const stripped = cleaned.replace(/^(?:Proc-Type|DEK-Info|Comment|Version)[^:]{0,40}:[^]{0,200}?(?=[A-Za-z0-9+/]{40})/g, '');
  const b64 = stripped.replace(/[^A-Za-z0-9+/=]/g, '');
  if (b64.length < 64) return NO;
  if (/\*{3}|\.{3}|x{6}/i.test(body)) return NO;
  return shannonEntropy(b64) >= 4.5 ? YES : NO;
}

/**
 * A value next to a key-like name: not a placeholder, code, a phrase, a padded
 * blob, an identifier, a UUID or base64 of text, and random by `judge` (characters per BPE token by
 * default; the benchmark passes the entropy judge to compare).
 */
export function randomValue(secret: string, judge: RandomnessJudge = judgeByTokens): Verdict {
  if (isPlaceholder(secret) || CODE_LIKE.test(secret) || FAKE.test(secret) || PHRASE.test(secret) || PADDED_BLOB.test(secret) || IDENTIFIER.test(secret)) return NO;
  if (UUID.test(secret) || isBase64OfText(secret)) return NO;
  const v = judge(secret);
  if (!v.random) return NO;
  return v.strong ? YES : WEAK;
}

export function runValidator(id: ValidatorId, match: string, groups: Record<string, string | undefined>): Verdict {
  const secret = groups.secret ?? match;
  switch (id) {
    case 'github-crc32':
    case 'npm-crc32':
      return prefixedTokenChecksumOk(match) ? YES : WEAK;
    case 'jwt': {
      const [h, p, sig] = match.split('.');
      const header = b64urlJson(h ?? '');
      if (typeof header !== 'object' || header === null || !('alg' in header)) return NO;
      const payload = b64urlJson(p ?? '');
      const claims = typeof payload === 'object' && payload !== null && !Array.isArray(payload);
      // A short, bogus or empty signature (`alg: none`, `fakesig`): still a token carrying its claims, if it has them.
      if ((sig ?? '').length < 16) return claims ? YES : NO;
      return claims ? YES : WEAK;
    }
    case 'ops-token':
      return typeof b64urlJson(match.slice(4)) === 'object' ? YES : NO;
    case 'private-key-body':
      return privateKeyBody(secret);
    case 'random-value':
      return randomValue(secret);
    case 'random-hex': {
      if (isPlaceholder(secret)) return NO;
      return shannonEntropy(secret.toLowerCase()) >= 3.3 ? YES : NO;
    }
    case 'luhn':
      return luhn(secret) ? YES : NO;
    case 'url-userinfo':
      return urlUserinfo(groups, match);
    case 'basic-credential':
      return basicCredential(secret);
  }
}

export function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}
