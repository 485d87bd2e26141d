/** Public API of the audit log: records, publishing, writing, verifying and reading. */
export { BOUNDARIES, DecisionEventSchema, DecisionRecordSchema, FindingSchema, GENESIS_PREV } from './record.js';
export type { Boundary, DecisionEvent, DecisionRecord, Finding } from './record.js';
export { ensureRedacted, escapeJsonForDisplay, isRedacted, redactSample, sanitizeForDisplay } from './redact.js';
export { DECISION_CHANNEL, onDecision, publishDecision } from './publish.js';
export { AuditWriter } from './writer.js';
export type { AuditWriterOptions, SubscribeOptions } from './writer.js';
export { isSessionId, latestSessionFile, newSessionId, sessionFile, stateDir } from './paths.js';
export { MAX_PROBLEMS, verifyLog } from './verify.js';
export type { ProblemKind, VerifyProblem, VerifyReport } from './verify.js';
export { MAX_LINE_BYTES } from './lines.js';
export { formatRecord, tailLog } from './tail.js';
export type { TailOptions } from './tail.js';
export { runAuditTail, runAuditVerify } from './cli.js';
export type { AuditIo, AuditTailCliOptions } from './cli.js';
