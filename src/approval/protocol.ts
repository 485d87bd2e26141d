/**
 * The approval socket's protocol: one JSON object per line, each side
 * validated with zod (the socket is a trust boundary in both directions).
 * An answer carries an HMAC under the session's answer key, which lives in a
 * 0600 file beside the socket and is never given to the sandbox.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { DecisionEventSchema } from '../audit/record.js';
import { BOUNDARIES } from '../audit/record-constants.js';
import { APPROVAL_LIMITS, ExactRequestSchema } from './request.js';
import { TrifectaSchema } from './trifecta.js';
import { jsonNestingExceeds, MAX_JSON_DEPTH } from '../mcp/jsonrpc.js';

export const PROTOCOL_VERSION = 1;
/** Longest line a client may send. */
export const MAX_CLIENT_LINE = 16 * 1024;
/** Longest line the server sends (a pending approval with its largest payloads). */
export const MAX_SERVER_LINE = 2 * 1024 * 1024;

const ID = z.string().regex(/^a_[0-9a-f]{12}$/);
const SHA256 = z.string().regex(/^[0-9a-f]{64}$/);
const SESSION = z.string().regex(/^s_[0-9a-f]{4,64}$/);
const text = z.string().max(APPROVAL_LIMITS.maxText);

export const PendingApprovalSchema = z.strictObject({
  id: ID,
  session: SESSION,
  hash: SHA256,
  canonical: z.string().max(APPROVAL_LIMITS.maxArguments + APPROVAL_LIMITS.maxCommand),
  request: ExactRequestSchema,
  summary: z.string().max(APPROVAL_LIMITS.maxArguments + APPROVAL_LIMITS.maxCommand),
  boundary: z.enum(BOUNDARIES),
  subject: text,
  rule: text,
  reason: text,
  suggestion: text.optional(),
  preview: z.string().max(APPROVAL_LIMITS.maxPreview).optional(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
});

export type PendingApproval = z.infer<typeof PendingApprovalSchema>;

export const VerdictSchema = z.enum(['approve', 'deny']);

export const ClientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('hello') }),
  z.strictObject({ type: z.literal('list') }),
  z.strictObject({ type: z.literal('watch') }),
  z.strictObject({
    type: z.literal('answer'),
    id: ID,
    hash: SHA256,
    verdict: VerdictSchema,
    by: z.string().min(1).max(64),
    mac: SHA256,
  }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

export const DecisionViewSchema = DecisionEventSchema.extend({ ts: z.iso.datetime() });

export const ServerEventSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('pending'), approval: PendingApprovalSchema }),
  z.strictObject({ kind: z.literal('resolved'), id: ID, approved: z.boolean(), reason: text }),
  z.strictObject({ kind: z.literal('decision'), decision: DecisionViewSchema }),
]);

export const ServerMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('hello'),
    version: z.literal(PROTOCOL_VERSION),
    session: SESSION,
    command: z.string().max(APPROVAL_LIMITS.maxCommand),
    workspace: z.string().max(4096),
    pid: z.number().int(),
    ttlMs: z.number().int().positive(),
    channels: z.array(z.enum(['tty', 'web', 'webhook'])),
    trifecta: TrifectaSchema,
  }),
  z.strictObject({ type: z.literal('pending'), approvals: z.array(PendingApprovalSchema).max(1000) }),
  z.strictObject({ type: z.literal('answered'), id: ID, verdict: VerdictSchema }),
  z.strictObject({ type: z.literal('event'), event: ServerEventSchema }),
  z.strictObject({ type: z.literal('error'), code: z.string().max(64), message: text }),
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
export type ServerEvent = z.infer<typeof ServerEventSchema>;
export type HelloInfo = Extract<ServerMessage, { type: 'hello' }>;
export type DecisionView = z.infer<typeof DecisionViewSchema>;

export interface AnswerFields {
  readonly session: string;
  readonly id: string;
  readonly hash: string;
  readonly verdict: 'approve' | 'deny';
  readonly by: string;
}

function macInput(a: AnswerFields): string {
  return ['cordon-approval-answer/1', a.session, a.id, a.hash, a.verdict, a.by].join('\n');
}

export function answerMac(key: Buffer, a: AnswerFields): string {
  return createHmac('sha256', key).update(macInput(a)).digest('hex');
}

export function verifyAnswerMac(key: Buffer, a: AnswerFields, mac: string): boolean {
  const want = Buffer.from(answerMac(key, a), 'hex');
  const got = Buffer.from(mac, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Splits a byte stream into JSON lines; a line over `max` bytes is an error (the peer is cut off). */
export class JsonLines {
  #buf = '';
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }

  /** The complete lines in `chunk` (parsed JSON values); throws on an overlong line or bad JSON. */
  push(chunk: string): unknown[] {
    this.#buf += chunk;
    const out: unknown[] = [];
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) !== -1) {
      const line = this.#buf.slice(0, nl);
      this.#buf = this.#buf.slice(nl + 1);
      if (Buffer.byteLength(line) > this.#max) throw new RangeError(`a line is longer than ${this.#max} bytes`);
      // A deeply nested line parses, but the walks after it (schemas, policy, stringify) would overflow the stack.
      if (jsonNestingExceeds(line)) throw new RangeError(`a line nests deeper than ${MAX_JSON_DEPTH} levels`);
      if (line.trim() !== '') out.push(JSON.parse(line) as unknown);
    }
    if (Buffer.byteLength(this.#buf) > this.#max) throw new RangeError(`a line is longer than ${this.#max} bytes`);
    return out;
  }
}
