/**
 * A dependency-free validator for decision events and records, used on the
 * hot path (the writer) so a run does not load the schema library. It accepts
 * exactly what `DecisionEventSchema` / `DecisionRecordSchema` accept; a test
 * runs both over the same inputs.
 */
import { BOUNDARIES, SESSION_ID_PATTERN, SHA256_HEX, type Boundary } from './record-constants.js';
import type { DecisionEvent, DecisionRecord, Finding } from './record.js';

type Check<T> = { ok: true; value: T } | { ok: false; error: string };

const EVENT_KEYS = new Set(['boundary', 'subject', 'decision', 'rule', 'reason', 'findings', 'mandatory', 'reportOnly']);
const RECORD_KEYS = new Set([...EVENT_KEYS, 'seq', 'ts', 'session', 'prev']);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkFinding(f: unknown, i: number): string | Finding {
  if (!isObject(f)) return `findings.${i}: expected an object`;
  for (const k of Object.keys(f)) if (k !== 'detector' && k !== 'where' && k !== 'sample') return `findings.${i}: unrecognized key "${k}"`;
  if (typeof f.detector !== 'string' || f.detector.length === 0) return `findings.${i}.detector: expected a non-empty string`;
  if (typeof f.where !== 'string') return `findings.${i}.where: expected a string`;
  if (typeof f.sample !== 'string') return `findings.${i}.sample: expected a string`;
  return { detector: f.detector, where: f.where, sample: f.sample };
}

function checkFields(v: Record<string, unknown>, keys: ReadonlySet<string>): Check<DecisionEvent> {
  for (const k of Object.keys(v)) if (!keys.has(k)) return { ok: false, error: `unrecognized key "${k}"` };
  if (typeof v.boundary !== 'string' || !(BOUNDARIES as readonly string[]).includes(v.boundary)) return { ok: false, error: 'boundary: not a known boundary' };
  if (typeof v.subject !== 'string') return { ok: false, error: 'subject: expected a string' };
  if (v.decision !== 'allow' && v.decision !== 'ask' && v.decision !== 'deny') return { ok: false, error: 'decision: expected allow, ask or deny' };
  if (typeof v.rule !== 'string' || v.rule.length === 0) return { ok: false, error: 'rule: expected a non-empty string' };
  if (typeof v.reason !== 'string') return { ok: false, error: 'reason: expected a string' };
  if (v.mandatory !== undefined && typeof v.mandatory !== 'boolean') return { ok: false, error: 'mandatory: expected a boolean' };
  if (v.reportOnly !== undefined && typeof v.reportOnly !== 'boolean') return { ok: false, error: 'reportOnly: expected a boolean' };
  let findings: Finding[] | undefined;
  if (v.findings !== undefined) {
    if (!Array.isArray(v.findings)) return { ok: false, error: 'findings: expected an array' };
    findings = [];
    for (const [i, f] of (v.findings as unknown[]).entries()) {
      const r = checkFinding(f, i);
      if (typeof r === 'string') return { ok: false, error: r };
      findings.push(r);
    }
  }
  return {
    ok: true,
    value: {
      boundary: v.boundary as Boundary,
      subject: v.subject,
      decision: v.decision,
      rule: v.rule,
      reason: v.reason,
      ...(findings === undefined ? {} : { findings }),
      ...(v.mandatory === undefined ? {} : { mandatory: v.mandatory }),
      ...(v.reportOnly === undefined ? {} : { reportOnly: v.reportOnly }),
    },
  };
}

export function checkEvent(v: unknown): Check<DecisionEvent> {
  if (!isObject(v)) return { ok: false, error: 'expected an object' };
  return checkFields(v, EVENT_KEYS);
}

export function checkRecord(v: unknown): Check<DecisionRecord> {
  if (!isObject(v)) return { ok: false, error: 'expected an object' };
  const base = checkFields(v, RECORD_KEYS);
  if (!base.ok) return base;
  if (typeof v.seq !== 'number' || !Number.isInteger(v.seq) || v.seq < 1) return { ok: false, error: 'seq: expected an integer >= 1' };
  if (typeof v.ts !== 'string' || !ISO.test(v.ts) || Number.isNaN(Date.parse(v.ts))) return { ok: false, error: 'ts: expected an ISO 8601 UTC datetime' };
  if (typeof v.session !== 'string' || !SESSION_ID_PATTERN.test(v.session)) return { ok: false, error: 'session: expected s_ followed by hex' };
  if (typeof v.prev !== 'string' || !SHA256_HEX.test(v.prev)) return { ok: false, error: 'prev: expected 64 hex characters' };
  return { ok: true, value: { seq: v.seq, ts: v.ts, session: v.session, ...base.value, prev: v.prev } };
}
