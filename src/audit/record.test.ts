import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DecisionEventSchema, DecisionRecordSchema, GENESIS_PREV } from './record.js';

const example = {
  seq: 42,
  ts: '2026-11-22T10:00:00.000Z',
  session: 's_8f2c',
  boundary: 'egress',
  subject: 'Net(exfil.example:443)',
  decision: 'deny',
  rule: 'deny Net(*) default',
  reason: 'destination not allowed',
  findings: [{ detector: 'aws-access-key-id', where: 'body', sample: 'AKIA…MPLE' }],
  prev: GENESIS_PREV,
};

void test('the architecture example is a valid record', () => {
  assert.equal(DecisionRecordSchema.safeParse(example).success, true);
});

void test('unknown keys and bad values are rejected', () => {
  for (const bad of [
    { ...example, extra: 1 },
    { ...example, seq: 0 },
    { ...example, seq: 1.5 },
    { ...example, session: 's_../../etc' },
    { ...example, session: '8f2c' },
    { ...example, decision: 'maybe' },
    { ...example, boundary: 'kernel' },
    { ...example, ts: 'yesterday' },
    { ...example, prev: 'abc' },
    { ...example, findings: [{ detector: 'x', where: 'body', sample: 's', secret: 'y' }] },
  ]) {
    assert.equal(DecisionRecordSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});

void test('an event is a record without seq, ts, session and prev', () => {
  const { seq: _s, ts: _t, session: _se, prev: _p, ...event } = example;
  assert.equal(DecisionEventSchema.safeParse(event).success, true);
  assert.equal(DecisionEventSchema.safeParse({ ...event, seq: 1 }).success, false);
});
