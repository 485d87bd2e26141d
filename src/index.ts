/** cordon's public API: explicit named exports only. */
export { CordonError, PolicyError, ERROR_CODES, formatProblem, isCordonError } from './errors.js';
export type { ErrorCode, PolicyProblem } from './errors.js';

export { Policy } from './policy/policy.js';
export { loadPolicy, BUILTIN_PROFILES } from './policy/load.js';
export type { LoadOptions, LoadedPolicy, SourceInfo } from './policy/load.js';
export { PolicyEngine, DEFAULT_EFFECTS } from './policy/engine.js';
export { parseSubject } from './policy/subject.js';
export { formatSubject } from './policy/subject-format.js';
export { parseRule } from './policy/rule-parse.js';
export { POLICY_SCHEMA } from './policy/schema.js';
export type { PolicyFile } from './policy/schema.js';
export { policyJsonSchema } from './policy/json-schema.js';
export { mandatoryEntries, DEFAULT_INSTRUCTION_FILES } from './policy/mandatory.js';
export type { MandatoryEntry } from './policy/mandatory.js';
export { analyzeCommand, loadShellParser } from './policy/bash/index.js';
export type {
  Decision, Effect, RuleSpec, RuleKind, Subject, CommandAnalysis, CommandPart, CanonicalHost, PathContext, ScopeName,
} from './policy/types.js';

export { canonicalizeHost, parseAuthority, hostFromUrl } from './egress/hostname.js';
export { classifyAddress, isMetadataHost, SPECIAL_RANGES, METADATA_ADDRESSES, METADATA_NAMES } from './egress/ip-ranges.js';

export { AuditWriter, publishDecision, verifyLog, redactSample, DECISION_CHANNEL } from './audit/index.js';
export type { DecisionRecord, DecisionEvent, VerifyReport } from './audit/index.js';

export { DlpScanner, StreamScanner, KnownSecretSet, FingerprintMatcher, createRequestScanner, redactText } from './dlp/index.js';
