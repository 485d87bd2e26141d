/**
 * Decision events of the MCP boundary. Published on the decision channel
 * (the audit writer subscribes); subjects are cut with the whole subject's
 * hash so a record stays under the line limit.
 */
import { createHash } from 'node:crypto';
import { publishDecision } from '../audit/publish.js';
import type { DecisionEvent, Finding } from '../audit/record.js';
import type { InjectionFinding } from './injection.js';

export const MAX_SUBJECT = 2048;
const MAX_FINDINGS = 20;

export function cutSubject(subject: string): string {
  if (subject.length <= MAX_SUBJECT) return subject;
  const hash = createHash('sha256').update(subject).digest('hex');
  return `${subject.slice(0, MAX_SUBJECT)} [cut: ${subject.length} characters in all, sha256 ${hash}]`;
}

export function toFindings(found: readonly InjectionFinding[]): Finding[] {
  return found.slice(0, MAX_FINDINGS).map((f) => ({ detector: `injection:${f.rule}`, where: f.where, sample: f.sample }));
}

/** Where decisions go; the default publishes them. Returns false when nobody records them. */
export type AuditSink = (event: DecisionEvent) => boolean;

export const publishSink: AuditSink = (e) => publishDecision(e);

export function mcpEvent(
  subject: string,
  decision: DecisionEvent['decision'],
  rule: string,
  reason: string,
  extra: { findings?: readonly Finding[]; mandatory?: boolean; reportOnly?: boolean } = {},
): DecisionEvent {
  return {
    boundary: 'mcp',
    subject: cutSubject(subject),
    decision,
    rule,
    reason,
    ...(extra.findings === undefined || extra.findings.length === 0 ? {} : { findings: [...extra.findings] }),
    ...(extra.mandatory === true ? { mandatory: true } : {}),
    ...(extra.reportOnly === true ? { reportOnly: true } : {}),
  };
}
