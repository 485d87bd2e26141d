/**
 * Messages between the supervisor and the egress proxy process, with
 * validators for each side (the other process is a trust boundary: it parses
 * untrusted traffic, so nothing it says is used unchecked).
 */
import { z } from 'zod';
import { DecisionEventSchema } from '../audit/record.js';

const LoadOptionsSchema = z.strictObject({
  workspace: z.string(),
  home: z.string(),
  managedFile: z.string().nullable(),
  userFile: z.string().nullable(),
  projectFile: z.string().nullable(),
  files: z.array(z.string()),
  profile: z.string().optional(),
});

/** Supervisor to proxy. A `listener` message carries a listening socket handle. */
export const ToProxySchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('config'),
    load: LoadOptionsSchema,
    reportOnly: z.boolean(),
  }),
  z.strictObject({ type: z.literal('listener'), kind: z.enum(['http', 'socks']) }),
]);
export type ToProxy = z.infer<typeof ToProxySchema>;
export type ProxyLoadOptions = z.infer<typeof LoadOptionsSchema>;

/** Proxy to supervisor. */
export const FromProxySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), rules: z.number().int().min(0) }),
  z.strictObject({ type: z.literal('attached'), kind: z.enum(['http', 'socks']) }),
  z.strictObject({ type: z.literal('decision'), event: DecisionEventSchema }),
  z.strictObject({ type: z.literal('fatal'), message: z.string().max(2000) }),
]);
export type FromProxy = z.infer<typeof FromProxySchema>;
