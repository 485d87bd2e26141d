/**
 * What a blocked request gets back: status 403, `X-Cordon-Decision: deny`,
 * `X-Cordon-Rule: <rule and origin>`, and a short text body telling the agent
 * this is a security policy (not a network fault, so it should not retry
 * around it) and telling a person how to allow it.
 */
import type { Finding } from '../audit/record.js';

export type RefusalKind = 'policy' | 'address' | 'dlp' | 'dns' | 'limit' | 'upstream' | 'malformed';

export interface Refusal {
  readonly kind: RefusalKind;
  /** HTTP status for the client: 403 for policy, address and DLP refusals. */
  readonly status: number;
  /** Subject text, e.g. `Net(evil.example:443)`. */
  readonly subject: string;
  /** The deciding rule with its origin (`deny Net(*.x) (project, cordon.yaml:4:5)`) or `default`. */
  readonly rule: string;
  /** One sentence: why. */
  readonly reason: string;
  readonly mandatory: boolean;
  /** Present when the policy rule was an ask: no approval service ran, or no person approved this exact request. */
  readonly ask?: boolean;
  /** When a person was asked: what came of it (denied, no answer in time...). */
  readonly approval?: string;
  readonly findings?: readonly Finding[];
  /** The rule a person could add to allow it (absent when nothing can). */
  readonly suggestion?: string;
}

/** Header values must be visible ASCII: everything else becomes `?` (policy text may hold anything). */
export function headerSafe(text: string, max = 512): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    out += cp >= 0x20 && cp < 0x7f ? ch : '?';
    if (out.length >= max) return `${out}...`;
  }
  return out;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The text body of a refusal (also the reason printed by SOCKS-side logs). */
export function refusalBody(r: Refusal): string {
  const lines: string[] = [];
  if (r.kind === 'policy' || r.kind === 'address' || r.kind === 'dlp') {
    lines.push('cordon blocked this request: this is a security policy, not a network fault.');
    lines.push('Do not retry it or look for another route; tell the person running you what you needed and why.');
  } else {
    lines.push(`cordon could not complete this request (${r.kind}); the request was not sent.`);
  }
  lines.push('', `Request:  ${headerSafe(r.subject, 2000)}`, `Decision: deny${r.ask === true ? (r.approval === undefined ? ' (the rule asks for approval and no approval service is running, so it is refused)' : ` (the rule asks for approval: ${headerSafe(r.approval, 500)})`) : ''}`);
  lines.push(`Rule:     ${headerSafe(r.rule, 2000)}`, `Why:      ${headerSafe(r.reason, 2000)}`);
  for (const f of r.findings ?? []) lines.push(`Finding:  ${headerSafe(f.detector)} in ${headerSafe(f.where)} (${headerSafe(f.sample, 40)})`);
  lines.push('');
  if (r.mandatory) {
    lines.push('This is a mandatory protection: no policy and no approval can allow it.');
  } else if (r.kind === 'policy' || r.kind === 'address') {
    lines.push('A person can see the full decision with:', `  cordon policy explain ${shellQuote(r.subject)}`);
    if (r.suggestion !== undefined) lines.push(`and allow it by adding "${headerSafe(r.suggestion)}" to permissions.allow in ./cordon.yaml${r.rule === 'default' ? '' : ' (and removing or narrowing the rule above)'}.`);
  }
  return `${lines.join('\n')}\n`;
}

/** Response headers of a refusal, as a flat raw-header array. */
export function refusalHeaders(r: Refusal, bodyLength: number): string[] {
  return [
    'Content-Type', 'text/plain; charset=utf-8',
    'Content-Length', String(bodyLength),
    'Cache-Control', 'no-store',
    'X-Cordon-Decision', 'deny',
    'X-Cordon-Rule', headerSafe(r.rule),
    'X-Cordon-Reason', headerSafe(r.reason),
  ];
}

const REASONS: ReadonlyMap<number, string> = new Map([
  [400, 'Bad Request'], [403, 'Forbidden'], [408, 'Request Timeout'], [413, 'Content Too Large'],
  [431, 'Request Header Fields Too Large'], [502, 'Bad Gateway'], [503, 'Service Unavailable'], [504, 'Gateway Timeout'],
]);

/** A complete HTTP/1.1 response in bytes, for sockets that are not (or no longer) an http.ServerResponse. */
export function refusalResponse(r: Refusal, close = true): Buffer {
  const body = Buffer.from(refusalBody(r), 'utf8');
  const h = refusalHeaders(r, body.length);
  let head = `HTTP/1.1 ${r.status} ${REASONS.get(r.status) ?? 'Error'}\r\n`;
  for (let i = 0; i + 1 < h.length; i += 2) head += `${h[i] ?? ''}: ${h[i + 1] ?? ''}\r\n`;
  if (close) head += 'Connection: close\r\n';
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
}
