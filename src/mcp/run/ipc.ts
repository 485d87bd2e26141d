/**
 * Messages between the supervisor of `cordon run` and its MCP gateway
 * process, validated on both sides (the gateway parses untrusted MCP
 * traffic, so nothing it says is used unchecked).
 */
import { z } from 'zod';
import { AskInputSchema } from '../../approval/request.js';
import { ProxyCredentialsSchema } from '../../broker/ipc.js';
import { DecisionEventSchema } from '../../audit/record.js';

const LoadOptionsSchema = z.strictObject({
  workspace: z.string(),
  home: z.string(),
  managedFile: z.string().nullable(),
  userFile: z.string().nullable(),
  projectFile: z.string().nullable(),
  files: z.array(z.string()),
  profile: z.string().optional(),
});

const KnownSchema = z.strictObject({
  version: z.literal(1),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  base: z.number().int().positive(),
  fingerprints: z.record(z.string().max(128), z.tuple([z.string().max(512), z.string().max(64)]).readonly()),
  rolling: z.array(z.number().int()).max(1_000_000).readonly(),
});

/** Supervisor to gateway. A `listener` message carries the in-sandbox listening socket. */
export const ToGatewaySchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('config'),
    load: LoadOptionsSchema,
    /** The bearer token the agent presents. */
    token: z.string().min(32).max(256),
    /** The port inside the sandbox (what the agent's Host header says). */
    port: z.number().int().min(1).max(65535),
    cwd: z.string(),
    pinDir: z.string(),
    known: KnownSchema.optional(),
    /** The supervisor runs an approval service: calls the policy asks about are sent to it (`ask`), else refused. */
    approvals: z.boolean().optional(),
    /** The run's credential broker (socket, placeholders): servers' `credential`s go through it. */
    credentials: ProxyCredentialsSchema.optional(),
  }),
  z.strictObject({ type: z.literal('listener') }),
  /** A person's answer (or the service's deny) to the gateway's `ask` with this sequence number. */
  z.strictObject({ type: z.literal('verdict'), seq: z.number().int().positive(), approved: z.boolean(), id: z.string().max(64), reason: z.string().max(4096) }),
  /** The supervisor's audit log cannot be written any more: from now on every call is refused (fail closed). */
  z.strictObject({ type: z.literal('audit-failed') }),
]);
export type ToGateway = z.infer<typeof ToGatewaySchema>;

/** Gateway to supervisor. */
export const FromGatewaySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), servers: z.array(z.string().max(64)).max(256) }),
  z.strictObject({ type: z.literal('attached') }),
  z.strictObject({ type: z.literal('decision'), event: DecisionEventSchema }),
  z.strictObject({ type: z.literal('fatal'), message: z.string().max(2000) }),
  /** A call the policy asks about, held in the gateway until the `verdict` with the same sequence number. */
  z.strictObject({ type: z.literal('ask'), seq: z.number().int().positive(), ask: AskInputSchema }),
  /** The held call of that `ask` was withdrawn (its client went away or cancelled it): withdraw the approval. */
  z.strictObject({ type: z.literal('withdraw'), seq: z.number().int().positive() }),
]);
export type FromGateway = z.infer<typeof FromGatewaySchema>;
