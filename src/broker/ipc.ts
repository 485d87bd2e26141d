/**
 * Messages between the supervisor and the broker process (zod-checked on
 * both sides), and the credential descriptions the proxy receives. The
 * supervisor sends *sources*, never values; the broker answers with
 * placeholders and fingerprints, never values.
 */
import { z } from 'zod';
import { DecisionEventSchema } from '../audit/record.js';

export const SourceSchema = z.union([
  z.strictObject({ env: z.string().min(1).max(256) }),
  z.strictObject({ file: z.string().min(1).max(4096) }),
  z.strictObject({ command: z.array(z.string().max(4096)).min(1).max(64) }),
]);

export const BrokerCredentialSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  hosts: z.array(z.string().min(1).max(300)).min(1).max(100),
  /** Lowercase header name. */
  header: z.string().regex(/^[a-z0-9!#$%&'*+.^_`|~-]{1,128}$/),
  source: SourceSchema.optional(),
});
export type BrokerCredential = z.infer<typeof BrokerCredentialSchema>;

const KnownSchema = z.strictObject({
  version: z.literal(1),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  base: z.number().int().positive(),
  fingerprints: z.record(z.string().max(128), z.tuple([z.string().max(512), z.string().max(64)]).readonly()),
  rolling: z.array(z.number().int()).max(1_000_000).readonly(),
});

export const ToBrokerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('config'),
    credentials: z.array(BrokerCredentialSchema).min(1).max(100),
    /** Directory (mode 0700, made by the supervisor, never bound into the sandbox) for the broker's socket. */
    socketDir: z.string().min(1).max(4096),
    /** Key (hex) of the session's known-secret fingerprints, so the supervisor can merge the broker's with its own. */
    fingerprintKey: z.string().regex(/^[0-9a-f]{64}$/),
    /** Extra CA certificates (PEM) trusted for upstream servers besides the system store (as the proxy's). */
    upstreamCa: z.string().max(1024 * 1024).optional(),
  }),
]);
export type ToBroker = z.infer<typeof ToBrokerSchema>;

export const FromBrokerSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('ready'),
    socket: z.string().min(1).max(4096),
    /** Placeholder per credential name (not secrets: they go into the sandbox). */
    placeholders: z.record(z.string(), z.string().min(1).max(8192)),
    /** Fingerprints of the real values and of the placeholders (labels name the credential, never a value). */
    known: KnownSchema,
  }),
  z.strictObject({ type: z.literal('decision'), event: DecisionEventSchema }),
  z.strictObject({ type: z.literal('fatal'), message: z.string().max(4000) }),
]);
export type FromBroker = z.infer<typeof FromBrokerSchema>;

/** What the proxy knows of one credential: its placeholder, hosts and header (no value). */
export const ProxyCredentialSchema = z.strictObject({
  name: z.string().max(256),
  placeholder: z.string().min(8).max(8192),
  hosts: z.array(z.string().min(1).max(300)).min(1).max(100),
  header: z.string().max(128),
});
export type ProxyCredential = z.infer<typeof ProxyCredentialSchema>;

export const ProxyCredentialsSchema = z.strictObject({
  /** The broker's Unix socket. */
  socket: z.string().min(1).max(4096),
  credentials: z.array(ProxyCredentialSchema).min(1).max(200),
});
export type ProxyCredentials = z.infer<typeof ProxyCredentialsSchema>;

/** Label of a placeholder in the fingerprint set: its redacted sample (`plac…0007`) names the credential by index. */
export function placeholderLabel(index: number): string {
  return `placeholder:${index.toString().padStart(4, '0')}`;
}
