/**
 * The exact request an approval is about, in canonical form, and its SHA-256.
 * An answer names this hash and applies to nothing else: one byte different in
 * a path, a body, an argument or a command is a different request.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { BOUNDARIES } from '../audit/record-constants.js';

const SHA256 = z.string().regex(/^[0-9a-f]{64}$/);
const port = z.number().int().min(0).max(65535);
const host = z.string().min(1).max(300);

/** Bounds on what one pending approval holds (and so on every message that carries one). */
export const APPROVAL_LIMITS = {
  maxTarget: 16 * 1024,
  maxCommand: 64 * 1024,
  maxArguments: 256 * 1024,
  maxPreview: 16 * 1024,
  maxText: 4096,
} as const;

export const ExactRequestSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('http'),
    method: z.string().min(1).max(32),
    host,
    port,
    /** Path and query exactly as they will be sent. */
    target: z.string().max(APPROVAL_LIMITS.maxTarget),
    bodySha256: SHA256,
    bodyLength: z.number().int().min(0),
  }),
  /** A CONNECT or SOCKS tunnel: its bytes cannot be inspected, so the approval covers the tunnel to host:port. */
  z.strictObject({ kind: z.literal('tunnel'), host, port }),
  z.strictObject({
    kind: z.literal('mcp'),
    server: z.string().min(1).max(256),
    tool: z.string().min(1).max(256),
    /** Canonical JSON of the arguments (`canonicalJson`). */
    arguments: z.string().max(APPROVAL_LIMITS.maxArguments),
  }),
  z.strictObject({
    kind: z.literal('command'),
    command: z.string().max(APPROVAL_LIMITS.maxCommand),
    cwd: z.string().max(4096),
    /** The executable the command starts, when cordon could find it, and its SHA-256. */
    executable: z.string().max(4096).nullable(),
    executableSha256: SHA256.nullable(),
  }),
  /** Another harness tool call (Read, Edit, Write, WebFetch...): the tool name and the canonical JSON of its whole input. */
  z.strictObject({
    kind: z.literal('tool'),
    tool: z.string().min(1).max(256),
    input: z.string().max(APPROVAL_LIMITS.maxArguments),
    cwd: z.string().max(4096),
  }),
]);
export type ExactRequest = z.infer<typeof ExactRequestSchema>;

/** What a boundary submits: the exact request, who asks and why the rule asked. */
export const AskInputSchema = z.strictObject({
  request: ExactRequestSchema,
  boundary: z.enum(BOUNDARIES),
  /** The rule subject, e.g. `Http(POST github.com/o/r.git/git-receive-pack)`. */
  subject: z.string().max(APPROVAL_LIMITS.maxText),
  /** The rule that asked, with its origin. */
  rule: z.string().max(APPROVAL_LIMITS.maxText),
  /** The rule's explanation. */
  reason: z.string().max(APPROVAL_LIMITS.maxText),
  /** A rule a person could add to the policy instead of approving each time. */
  suggestion: z.string().max(APPROVAL_LIMITS.maxText).optional(),
  /** Shown to the person, not hashed: the start of a body (the hash covers all of it). */
  preview: z.string().max(APPROVAL_LIMITS.maxPreview).optional(),
});
export type AskInput = z.infer<typeof AskInputSchema>;

/**
 * JSON with object keys sorted at every depth and no whitespace: equal values
 * give equal text. Non-JSON values (undefined, functions, non-finite numbers)
 * are refused rather than silently dropped.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > 64) throw new TypeError('value nested too deeply');
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`).join(',')}}`;
  }
  throw new TypeError(`a ${typeof value} is not JSON`);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The canonical form of a request (versioned, so a future format never collides). */
export function canonicalRequest(r: ExactRequest): string {
  return canonicalJson({ cordonApproval: 1, ...r });
}

export function requestHash(r: ExactRequest): string {
  return sha256Hex(canonicalRequest(r));
}

/** One line a person reads: what exactly would happen. */
export function describeRequest(r: ExactRequest): string {
  switch (r.kind) {
    case 'http':
      return `${r.method} http://${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}${r.target} (body ${r.bodyLength} bytes, sha256 ${r.bodySha256})`;
    case 'tunnel':
      return `tunnel (CONNECT/SOCKS, contents not inspectable) to ${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}`;
    case 'mcp':
      return `MCP tool ${r.server}/${r.tool} with arguments ${r.arguments}`;
    case 'command':
      return `command ${JSON.stringify(r.command)} in ${r.cwd}${r.executable === null ? '' : ` (executable ${r.executable}, sha256 ${r.executableSha256 ?? 'unknown'})`}`;
    case 'tool':
      return `tool ${r.tool} with input ${r.input} in ${r.cwd}`;
  }
}
