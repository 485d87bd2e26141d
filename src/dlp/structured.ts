/**
 * Scanning of structured traffic: URLs (with each query value and the
 * hostname), header lists, JSON values (MCP tool arguments) and form or
 * multipart fields. Each field is scanned with its name in front (so
 * `api_key=...` keeps its context) and the values are also scanned joined
 * together, so a secret split across parameters, headers or arguments is
 * still found.
 */
import { spanIndex } from './spans.js';
import { redactSample } from '../audit/redact.js';
import { hostnameFindings, subdomainLabels } from './dns.js';
import { judgeRandomness } from './randomness.js';
import { basicCredential } from './checks.js';
import { specificity } from './engine.js';
import type { DlpScanner } from './scanner.js';
import { confidenceRank, type DlpFinding } from './types.js';
import { findEnvDump, findEnvJson, findEnvObject, type EnvDumpFinding } from './env-dump.js';
import { findSplitSecrets } from './split-fields.js';
import { isNotCredentialToken, queryCredentials } from './query-credentials.js';

export interface Field {
  readonly name: string;
  readonly value: string;
}

const MAX_FIELDS = 4096;
/** A field that carries an Authorization value: the header, a JSON key or form field of that name (`headers.authorization`). */
const AUTH_FIELD = /(?:^|[^A-Za-z])(?:proxy-)?authori[sz]ation$/i;
const BASIC_VALUE = /^\s*basic\s{1,4}([A-Za-z0-9+/_-]{8,1024}={0,2})\s*$/i;
const MAX_JOINED = 256 * 1024;

/** Scans named fields: each as `name: value`, then all values joined (for split secrets). */
export function scanFields(scanner: DlpScanner, fields: readonly Field[], where: (f: Field) => string): DlpFinding[] {
  const list = fields.slice(0, MAX_FIELDS);
  let text = '';
  const starts: number[] = [];
  for (const f of list) {
    starts.push(text.length);
    text += `${f.name}: ${f.value}\n`;
  }
  const locate = (offset: number): Field | undefined => list[spanIndex(starts, offset)];
  const out: DlpFinding[] = [];
  for (const f of scanner.scanText(text, '')) {
    const field = locate(f.location.offset);
    out.push({ ...f, location: { ...f.location, where: field === undefined ? 'fields' : where(field) } });
  }
  if (list.length > 1) {
    // Adjacent values joined in twos and threes, one join per line, so a value's neighbours do not blur token boundaries.
    const lines: string[] = [];
    for (let i = 0; i + 1 < list.length; i++) {
      const a = list[i]?.value ?? '';
      const b = list[i + 1]?.value ?? '';
      lines.push(a + b);
      if (i + 2 < list.length) lines.push(a + b + (list[i + 2]?.value ?? ''));
    }
    const joined = lines.join('\n').slice(0, MAX_JOINED);
    const seen = new Set(out.map((f) => f.sample));
    for (const f of scanner.scanText(joined, '')) {
      // Joining blurs boundaries: only provider formats count here, not generic shapes such as a long bearer value.
      if (seen.has(f.sample) || specificity(f.detector) < 2) continue;
      out.push({ ...f, explain: `${f.explain} Split across fields: found only when the values are joined.`, location: { ...f.location, where: `joined(${list.map((x) => x.name).join(',')})`.slice(0, 200) } });
    }
    // Pieces further apart, reordered, or in four to six parts (`split-fields.ts`): provider formats only.
    for (const f of findSplitSecrets(scanner, list, out)) {
      out.push({ detector: f.detector, provider: f.provider, confidence: f.confidence, sample: f.sample, explain: `${f.explain} Split across fields (apart, reordered or in several pieces): found only when they are joined.`, location: { where: `split(${f.fields.map((n) => where({ name: n, value: '' })).join(',')})`.slice(0, 200), offset: 0, length: 0 } });
    }
  }
  // `basic <b64>` in any case in an authorization field (header, JSON key, form field): the detector's keyword is
  // `Basic ` only (lower-case `basic ` is common prose and costs the body scan's prefilter ~15%); the scheme is case-insensitive.
  for (const f of list) {
    if (f.value.length > 1100 || !AUTH_FIELD.test(f.name)) continue;
    const b64 = BASIC_VALUE.exec(f.value)?.[1];
    if (b64 === undefined || f.value.includes('Basic ') || !basicCredential(b64).ok) continue;
    const sample = redactSample(b64);
    if (out.some((x) => x.sample === sample)) continue;
    out.push({ detector: 'basic-auth-credentials', provider: 'HTTP', confidence: 'high', sample, explain: 'A Basic credential (base64 of user:password) in an authorization field, with a password that is not a placeholder or a documentation example.', location: { where: where(f), offset: 0, length: f.value.length } });
  }
  // Environment dumps in a field: `NAME=value` lines, or a JSON text of an object with NAME keys (`env-dump.ts`).
  for (const f of list) {
    if (f.value.length < 16) continue;
    for (const e of [...findEnvDump(f.value), ...findEnvJson(f.value)]) out.push(envFinding(e, where(f)));
  }
  return out;
}

/** An environment dump's credential-named variable as a finding (medium: blocked at the proxy's and the gateway's threshold). */
export function envFinding(e: EnvDumpFinding, where: string): DlpFinding {
  return {
    detector: 'env-dump-secret', provider: 'generic', confidence: 'medium', sample: e.sample,
    explain: `An environment dump (two NAME=value lines or NAME keys, or more) where the credential-named variable ${e.name} holds a literal value: the variable's content leaves whatever it looks like.`,
    location: { where, offset: 0, length: 0 },
  };
}

/** The query parameter name right before `offset` in a URL (`...&pageToken=` -> `pageToken`), if the value starts there. */
function queryNameBefore(url: string, offset: number): string | undefined {
  return /[?&;]([^?&;=#/]{1,64})=$/.exec(url.slice(Math.max(0, offset - 72), offset))?.[1];
}

/**
 * A generic random value in a query parameter that names a cursor, a one-time link or an anti-forgery value
 * (`pageToken`, `next_token`, `csrf_token`: `QUERY_RULES.notCredentialParts`): the keyword `token` made it a candidate,
 * the parameter's name says it is not a credential. Provider formats are kept whatever the name.
 */
function isCursorValue(f: DlpFinding, name: string | undefined): boolean {
  return f.detector === 'generic-secret' && name !== undefined && isNotCredentialToken(name);
}

/** A URL: the whole text, its query parameters (decoded) as fields, the path segments, and hex-encoded hostname labels. */
export function scanUrl(scanner: DlpScanner, url: string): DlpFinding[] {
  const out = scanner.scanText(url, 'url').filter((f) => !isCursorValue(f, queryNameBefore(url, f.location.offset)));
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    return out;
  }
  const fields: Field[] = [...parsed.searchParams.entries()].map(([name, value]) => ({ name, value }));
  if (fields.length > 0) {
    const seen = new Set(out.map((f) => f.sample));
    for (const f of scanFields(scanner, fields, (x) => `url:query.${x.name}`)) if (!seen.has(f.sample) && !isCursorValue(f, f.location.where.startsWith('url:query.') ? f.location.where.slice(10) : undefined)) out.push(f);
    // `?password=hunter2hunter2`: a credential's name with a literal value, random-looking or not (`query-credentials.ts`).
    for (const q of queryCredentials(parsed.searchParams.entries())) {
      if (out.some((f) => f.sample === q.sample && confidenceRank(f.confidence) >= confidenceRank('medium'))) continue;
      out.push({ detector: 'url-query-credential', provider: 'generic', confidence: 'medium', sample: q.sample, explain: q.explain, location: { where: `url:query.${q.name}`, offset: Math.max(0, url.indexOf(`${q.name}=`)), length: 0 } });
    }
  }
  let at = url.indexOf(parsed.pathname);
  for (const seg of parsed.pathname.split('/')) {
    if (seg.length >= 24 && seg.length <= 256 && /[A-Z]/.test(seg) && /[a-z]/.test(seg) && /[0-9]/.test(seg) && judgeRandomness(seg).strong) {
      out.push({ detector: 'url-random-token', provider: 'generic', confidence: 'medium', sample: redactSample(seg), explain: 'A long random token in the URL path: data or a credential carried in the path.', location: { where: 'url:path', offset: Math.max(0, url.indexOf(seg, at)), length: seg.length } });
    }
    at += seg.length + 1;
  }
  // The host as written (case kept: base64 and upper-case base32 labels need it), else the parsed one.
  const written = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^:/?#[\]]+)/.exec(url)?.[1];
  const host = written !== undefined && written.toLowerCase() === parsed.hostname ? written : parsed.hostname;
  out.push(...scanHostname(scanner, host, 'url:host', Math.max(0, url.indexOf(host))));
  return out;
}

/**
 * A DNS name (URL host, Host header, CONNECT authority, SOCKS5 domain, TLS SNI): data encoded in its labels
 * (`dns.ts`), and provider tokens in the labels joined (`AKIAIOSF.ODNN7EXA.MPLE.evil.example`).
 */
export function scanHostname(scanner: DlpScanner, hostname: string, where: string, offset = 0): DlpFinding[] {
  const out: DlpFinding[] = [];
  for (const f of hostnameFindings(hostname)) {
    out.push({ detector: 'dns-encoded-data', provider: 'cordon', confidence: 'medium', sample: redactSample(f.labels), explain: `${f.explain} (${f.kind})`, location: { where, offset, length: hostname.length } });
  }
  const labels = subdomainLabels(hostname);
  if (labels.length > 1) {
    for (const f of scanner.scanText(labels.join(''), '')) {
      if (specificity(f.detector) < 2) continue;
      out.push({ ...f, explain: `${f.explain} Cut into DNS labels: found with the labels joined.`, location: { where, offset, length: hostname.length } });
    }
  }
  return out;
}

/** Raw header pairs `[name, value, name, value...]` as the proxy sees them. */
export function scanHeaders(scanner: DlpScanner, raw: readonly string[]): DlpFinding[] {
  const fields: Field[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) fields.push({ name: raw[i] ?? '', value: raw[i + 1] ?? '' });
  const cookieFields: Field[] = [];
  for (const f of fields) {
    if (f.name.toLowerCase() !== 'cookie') continue;
    for (const part of f.value.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) cookieFields.push({ name: `cookie.${part.slice(0, eq).trim()}`, value: part.slice(eq + 1).trim() });
    }
  }
  const out = scanFields(scanner, [...fields, ...cookieFields], (f) => `header:${f.name.toLowerCase()}`);
  for (const f of fields) {
    if (f.name.length !== 4 || f.name.toLowerCase() !== 'host') continue;
    const host = /^([^:[\]]+)(?::\d{1,5})?$/.exec(f.value.trim())?.[1];
    if (host !== undefined) out.push(...scanHostname(scanner, host, 'header:host'));
  }
  return out;
}

/** Every string leaf of a JSON value, with its path (`arguments.files[0].content`). */
export function jsonLeaves(value: unknown, path = '', out: Field[] = [], depth = 0): Field[] {
  if (out.length >= MAX_FIELDS || depth > 64) return out;
  if (typeof value === 'string') out.push({ name: path || '$', value });
  else if (typeof value === 'number' || typeof value === 'boolean') out.push({ name: path || '$', value: String(value) });
  else if (Array.isArray(value)) value.forEach((v, i) => jsonLeaves(v, `${path}[${i}]`, out, depth + 1));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) jsonLeaves(v, path === '' ? k : `${path}.${k}`, out, depth + 1);
  }
  return out;
}

/** A JSON value (an MCP tool call's arguments, a JSON body): each leaf with its path, and the leaves joined. */
export function scanJsonValue(scanner: DlpScanner, value: unknown, where: string): DlpFinding[] {
  const out = scanFields(scanner, jsonLeaves(value), (f) => `${where}.${f.name}`);
  // An environment object (`JSON.stringify(process.env)`, an `env` map) anywhere in the value.
  for (const e of findEnvObject(value)) out.push(envFinding(e, where));
  return out;
}

/** Fields of an `application/x-www-form-urlencoded` body. */
export function formFields(body: string): Field[] {
  return [...new URLSearchParams(body).entries()].slice(0, MAX_FIELDS).map(([name, value]) => ({ name, value }));
}

/** Parts of a `multipart/form-data` body (bounded): the field name and the part's content. */
export function multipartFields(body: string, contentType: string): Field[] {
  const m = /boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (boundary === undefined) return [];
  const out: Field[] = [];
  for (const part of body.split(`--${boundary}`).slice(1, MAX_FIELDS)) {
    const sep = part.indexOf('\r\n\r\n') >= 0 ? part.indexOf('\r\n\r\n') : part.indexOf('\n\n');
    if (sep < 0) continue;
    const head = part.slice(0, sep);
    const name = /name="([^"]{0,200})"/i.exec(head)?.[1] ?? 'part';
    let content = part.slice(sep + (part.charAt(sep) === '\r' ? 4 : 2)).replace(/\r?\n$/, '');
    if (/content-transfer-encoding:\s*base64/i.test(head)) content = Buffer.from(content.replace(/\s+/g, ''), 'base64').toString('latin1');
    out.push({ name, value: content });
  }
  return out;
}
