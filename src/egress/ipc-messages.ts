/**
 * Messages between the supervisor and the egress proxy process, with
 * validators for each side (the other process is a trust boundary: it parses
 * untrusted traffic, so nothing it says is used unchecked).
 */
import { z } from 'zod';
import { AskInputSchema } from '../approval/request.js';
import { DecisionEventSchema } from '../audit/record.js';
import { ProxyCredentialsSchema } from '../broker/ipc.js';

const LoadOptionsSchema = z.strictObject({
  workspace: z.string(),
  home: z.string(),
  managedFile: z.string().nullable(),
  userFile: z.string().nullable(),
  projectFile: z.string().nullable(),
  files: z.array(z.string()),
  profile: z.string().optional(),
});

/** Keyed fingerprints of known secrets (never the values): see src/dlp/fingerprint.ts. */
const KnownSchema = z.strictObject({
  version: z.literal(1),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  base: z.number().int().positive(),
  fingerprints: z.record(z.string().max(128), z.tuple([z.string().max(512), z.string().max(64)]).readonly()),
  rolling: z.array(z.number().int()).max(1_000_000).readonly(),
});

/** Supervisor to proxy. A `listener` message carries a listening socket handle. */
export const ToProxySchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('config'),
    load: LoadOptionsSchema,
    reportOnly: z.boolean(),
    /** DLP on request URLs, headers and bodies (off only for `dlp.action: report`). */
    dlp: z.boolean(),
    known: KnownSchema.optional(),
    /** The supervisor runs an approval service: hold `ask` requests and send them as `approval` messages. */
    approvals: z.boolean().optional(),
    /** Extra CA certificates (PEM) the proxy trusts for upstream servers besides the system store (tests, a corporate CA). */
    upstreamCa: z.string().max(1024 * 1024).optional(),
    /** The credential broker's socket and the placeholders (not secrets) with their hosts and headers. */
    credentials: ProxyCredentialsSchema.optional(),
  }),
  z.strictObject({ type: z.literal('listener'), kind: z.enum(['http', 'socks']) }),
  /** A person's answer (or the service's deny) for the held request `rid`. */
  z.strictObject({ type: z.literal('approval-answer'), rid: z.number().int().min(1), approved: z.boolean(), id: z.string().max(64), reason: z.string().max(2000) }),
]);
export type ToProxy = z.infer<typeof ToProxySchema>;
export type ProxyLoadOptions = z.infer<typeof LoadOptionsSchema>;

/** Proxy to supervisor. */
export const FromProxySchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('ready'),
    rules: z.number().int().min(0),
    /** The session CA certificate (PEM) when TLS inspection is on: the only part of the CA that leaves the proxy. */
    ca: z.string().max(16 * 1024).regex(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n+$/).optional(),
  }),
  z.strictObject({ type: z.literal('attached'), kind: z.enum(['http', 'socks']) }),
  z.strictObject({ type: z.literal('decision'), event: DecisionEventSchema }),
  z.strictObject({ type: z.literal('fatal'), message: z.string().max(2000) }),
  /** An `ask` decision held in the proxy: nothing is sent upstream until the answer for `rid` approves. */
  z.strictObject({ type: z.literal('approval'), rid: z.number().int().min(1), ask: AskInputSchema }),
]);
export type FromProxy = z.infer<typeof FromProxySchema>;
