/**
 * The ask-only endpoint's protocol: what a harness hook inside the sandbox
 * may say (one `ask` about one tool call, nothing else) and what it hears
 * back (that its approval is pending, then the verdict about that one
 * submission). One JSON object per line, each side validated with zod
 * `strictObject`: the endpoint is a trust boundary facing the sandbox.
 */
import { z } from 'zod';

/** Where `cordon run` tells the sandbox the endpoint is (set only when an approval channel runs). */
export const ASK_SOCKET_ENV = 'CORDON_ASK_SOCKET';
/** Longest line the sandbox may send (the tool input is bounded by the hook's own 1 MiB input limit anyway). */
export const MAX_ASK_LINE = 512 * 1024;

/** The only message the endpoint accepts: the raw tool call. The supervisor, not the sandbox, decides, canonicalises and hashes it. */
export const AskRequestSchema = z.strictObject({
  type: z.literal('ask'),
  tool_name: z.string().min(1).max(256),
  tool_input: z.record(z.string(), z.unknown()),
  cwd: z.string().min(1).max(4096),
});
export type AskRequest = z.infer<typeof AskRequestSchema>;

const text = z.string().max(4096);

export const AskReplySchema = z.discriminatedUnion('type', [
  /** A person is being asked about exactly this request (hash of its canonical form); the verdict follows. */
  z.strictObject({ type: z.literal('pending'), hash: z.string().regex(/^[0-9a-f]{64}$/), ttlMs: z.number().int().positive() }),
  z.strictObject({ type: z.literal('verdict'), approved: z.boolean(), id: z.string().max(64), reason: text }),
  /** The supervisor's policy does not ask about this call: it decides it itself (`deny`), or leaves it to the harness (`allow`). */
  z.strictObject({ type: z.literal('not-asked'), decision: z.enum(['allow', 'deny']), reason: text }),
  z.strictObject({ type: z.literal('error'), code: z.string().max(64), message: text }),
]);
export type AskReply = z.infer<typeof AskReplySchema>;
