/**
 * agent-egress-bench cases, parsed into a narrow type (every field the runner
 * uses is checked; a malformed case is an error naming the file), and the
 * applicability rule of the benchmark: a case applies when the tool profile
 * supports its transport and every runtime feature it requires, and claims
 * every capability tag it carries. The profile below is the egress proxy's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type Verdict = 'block' | 'allow';

export interface WsFrameSpec {
  readonly opcode: 'text' | 'binary' | 'continuation';
  readonly fin: boolean;
  readonly rsv1: boolean;
  readonly payload: Buffer;
}

export type Payload =
  | { readonly kind: 'http'; readonly method: string; readonly url: string; readonly headers: readonly (readonly [string, string])[]; readonly body: string | undefined }
  | { readonly kind: 'ws'; readonly url: string; readonly frames: readonly WsFrameSpec[] }
  | { readonly kind: 'other' };

export interface BenchCase {
  readonly id: string;
  /** The folder name under cases/ (url, request-body, ...). */
  readonly category: string;
  readonly file: string;
  readonly inputType: string;
  readonly transport: string;
  readonly expected: Verdict;
  /** The case's `why_expected` (machine-readable reason for the expected verdict). */
  readonly why: string;
  readonly tags: readonly string[];
  readonly requires: readonly string[];
  readonly payload: Payload;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(o: Json, k: string, file: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new Error(`${file}: ${k} must be a string`);
  return v;
}

function strings(o: Json, k: string, file: string): string[] {
  const v = o[k];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new Error(`${file}: ${k} must be a list of strings`);
  return v;
}

function frames(v: unknown, file: string): WsFrameSpec[] {
  if (!Array.isArray(v) || v.length === 0) throw new Error(`${file}: payload.frames must be a non-empty list`);
  return v.map((f, i) => {
    if (!isObject(f)) throw new Error(`${file}: frame ${i} must be an object`);
    const opcode = f.opcode;
    if (opcode !== 'text' && opcode !== 'binary' && opcode !== 'continuation') throw new Error(`${file}: frame ${i}: opcode ${String(opcode)}`);
    const text = str(f, 'payload', file);
    const encoding = f.encoding ?? 'utf8';
    if (encoding !== 'utf8' && encoding !== 'base64') throw new Error(`${file}: frame ${i}: encoding ${JSON.stringify(encoding)}`);
    if (f.fin !== undefined && typeof f.fin !== 'boolean') throw new Error(`${file}: frame ${i}: fin must be boolean`);
    if (f.rsv1 !== undefined && typeof f.rsv1 !== 'boolean') throw new Error(`${file}: frame ${i}: rsv1 must be boolean`);
    return { opcode, fin: f.fin ?? true, rsv1: f.rsv1 ?? false, payload: Buffer.from(text, encoding) };
  });
}

function payloadOf(inputType: string, p: Json, file: string): Payload {
  if (inputType === 'websocket_frame') return { kind: 'ws', url: str(p, 'url', file), frames: frames(p.frames, file) };
  if (inputType === 'url' || inputType === 'header' || inputType === 'request_body' || inputType === 'response_content') {
    const headers: [string, string][] = [];
    if (p.headers !== undefined) {
      if (!isObject(p.headers)) throw new Error(`${file}: payload.headers must be an object`);
      for (const [k, v] of Object.entries(p.headers)) {
        if (typeof v !== 'string') throw new Error(`${file}: header ${k} must be a string`);
        headers.push([k, v]);
      }
    }
    if (p.content_type !== undefined) headers.push(['Content-Type', str(p, 'content_type', file)]);
    const body = p.body === undefined ? undefined : str(p, 'body', file);
    const method = p.method === undefined ? (body === undefined ? 'GET' : 'POST') : str(p, 'method', file);
    return { kind: 'http', method, url: str(p, 'url', file), headers, body };
  }
  return { kind: 'other' };
}

export function loadCases(root: string): BenchCase[] {
  const out: BenchCase[] = [];
  const dir = path.join(root, 'cases');
  for (const category of readdirSync(dir).sort()) {
    for (const name of readdirSync(path.join(dir, category)).sort()) {
      if (!name.endsWith('.json')) continue;
      const file = path.join('cases', category, name);
      const j: unknown = JSON.parse(readFileSync(path.join(root, file), 'utf8'));
      if (!isObject(j)) throw new Error(`${file}: not an object`);
      if (j.schema_version !== 1) throw new Error(`${file}: schema_version must be 1`);
      const expected = str(j, 'expected_verdict', file);
      if (expected !== 'block' && expected !== 'allow') throw new Error(`${file}: expected_verdict ${expected}`);
      if (!isObject(j.payload)) throw new Error(`${file}: payload must be an object`);
      const inputType = str(j, 'input_type', file);
      out.push({
        id: str(j, 'id', file), category, file, inputType, transport: str(j, 'transport', file), expected, why: str(j, 'why_expected', file),
        tags: strings(j, 'capability_tags', file), requires: strings(j, 'requires', file), payload: payloadOf(inputType, j.payload, file),
      });
    }
  }
  return out;
}

/** The proxy's tool profile in the benchmark's terms. */
export const PROFILE = {
  transports: new Set(['fetch_proxy', 'http_proxy', 'websocket']),
  features: new Set(['tls_interception', 'request_body_scanning', 'header_scanning', 'websocket_frame_scanning']),
  claims: new Set(['url_dlp', 'request_body_dlp', 'header_dlp', 'ssrf', 'ssrf_bypass', 'entropy', 'encoding_evasion', 'benign', 'websocket_dlp', 'crypto_dlp', 'hostname_exfil']),
};

/** Why a case is not the proxy's to decide, or undefined when it applies. */
export function notApplicable(c: BenchCase): string | undefined {
  if (c.transport === 'mcp_stdio' || c.transport === 'mcp_http') return 'boundary: MCP gateway / hook';
  if (c.transport === 'a2a') return 'boundary: A2A messages are not proxy traffic';
  if (!PROFILE.transports.has(c.transport)) return `transport ${c.transport}`;
  if (c.requires.includes('response_scanning') || c.tags.includes('response_injection')) return 'response scanning: the proxy scans outbound traffic, not inbound content';
  if (c.tags.includes('domain_blocklist')) return 'domain blocklist: cordon allowlists destinations; the bench opens egress with Net(*)';
  const feature = c.requires.find((r) => !PROFILE.features.has(r));
  if (feature !== undefined) return `requires ${feature}`;
  const tag = c.tags.find((t) => !PROFILE.claims.has(t));
  if (tag !== undefined) return `capability ${tag} not claimed`;
  if (c.payload.kind === 'other') return `input ${c.inputType}`;
  return undefined;
}
