/**
 * The decision record: one JSON line per decision at any boundary
 * (ARCHITECTURE.md section 4). The schema is the single source of truth; the
 * types are derived from it.
 */
import { z } from 'zod';
import type { Effect } from '../policy/types.js';

import { BOUNDARIES, GENESIS_PREV, SESSION_ID_PATTERN, SHA256_HEX } from './record-constants.js';

export { BOUNDARIES, GENESIS_PREV, SESSION_ID_PATTERN };
export type { Boundary } from './record-constants.js';

export const FindingSchema = z.strictObject({
  detector: z.string().min(1).describe('Name of the detector that fired, e.g. `aws-access-key-id`.'),
  where: z.string().describe('Where the finding was made, e.g. `body`, `header:authorization`, `args.path`.'),
  sample: z
    .string()
    .describe('A redacted sample of the match (at most the first and last 4 characters); never the secret itself.'),
});
export type Finding = z.infer<typeof FindingSchema>;

const decisionSchema = z.enum(['allow', 'ask', 'deny']);
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compile-time check: a record's decisions are exactly the policy's effects. */
const _decisionsMatchEffects: Same<z.infer<typeof decisionSchema>, Effect> = true;

export const DecisionRecordSchema = z.strictObject({
  seq: z.number().int().min(1).describe('Position in the session log, from 1, increasing by one per record.'),
  ts: z.iso.datetime().describe('When the decision was recorded (ISO 8601, UTC).'),
  session: z.string().regex(SESSION_ID_PATTERN).describe('Session id: `s_` followed by hex.'),
  boundary: z.enum(BOUNDARIES).describe('The boundary that decided.'),
  subject: z.string().describe('What was decided about, as a rule subject, e.g. `Net(exfil.example:443)`.'),
  decision: decisionSchema.describe('The effect: allow, ask or deny.'),
  rule: z
    .string()
    .min(1)
    .describe('The deciding rule and where it came from, or `default` when no rule matched.'),
  reason: z.string().describe('One sentence: why.'),
  findings: z.array(FindingSchema).optional().describe('DLP findings that contributed, with redacted samples only.'),
  mandatory: z.boolean().optional().describe('True when a mandatory protection decided; approvals cannot lift it.'),
  reportOnly: z
    .boolean()
    .optional()
    .describe('True when the decision was only reported (report mode), not enforced.'),
  prev: z.string().regex(SHA256_HEX).describe('sha256 (hex) of the previous line\'s exact bytes; 64 zeros for the first.'),
});
export type DecisionRecord = z.infer<typeof DecisionRecordSchema>;

/** What a boundary publishes: a record without the fields the audit writer assigns. */
export const DecisionEventSchema = DecisionRecordSchema.omit({ seq: true, ts: true, prev: true, session: true });
export type DecisionEvent = z.infer<typeof DecisionEventSchema>;
