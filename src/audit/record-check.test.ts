/** The dependency-free validator accepts exactly what the zod schema accepts. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkEvent, checkRecord } from './record-check.js';
import { DecisionEventSchema, DecisionRecordSchema } from './record.js';

function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}

const VALUES: unknown[] = [
  undefined, null, 0, 1, -1, 1.5, '', 'x', 'egress', 'hook', 'bogus', 'allow', 'deny', 'ask', true, false, [], {}, ['x'],
  '2026-11-22T10:00:00.000Z', '2026-11-22 10:00', 's_8f2c', 's_XYZ', 'a'.repeat(64), '0'.repeat(64),
  [{ detector: 'aws', where: 'body', sample: 'AKIA…MPLE' }], [{ detector: '', where: 'b', sample: 's' }], [{ detector: 'd', where: 'w', sample: 's', x: 1 }],
];
const KEYS = ['seq', 'ts', 'session', 'boundary', 'subject', 'decision', 'rule', 'reason', 'findings', 'mandatory', 'reportOnly', 'prev', 'extra'];
const GOOD = { seq: 1, ts: '2026-11-22T10:00:00.000Z', session: 's_8f2c', boundary: 'egress', subject: 'Net(x:1)', decision: 'deny', rule: 'default', reason: 'r', prev: '0'.repeat(64) };

void it('checkEvent/checkRecord agree with the zod schemas on 5000 random inputs', () => {
  const r = rng(42);
  let accepted = 0;
  for (let i = 0; i < 5000; i++) {
    const v: Record<string, unknown> = { ...GOOD };
    const edits = Math.floor(r() * 3);
    for (let j = 0; j < edits; j++) {
      const k = KEYS[Math.floor(r() * KEYS.length)] ?? 'seq';
      const val = VALUES[Math.floor(r() * VALUES.length)];
      if (val === undefined) delete v[k];
      else v[k] = val;
    }
    const zr = DecisionRecordSchema.safeParse(v).success;
    assert.equal(checkRecord(v).ok, zr, `record ${JSON.stringify(v)}`);
    const { seq: _s, ts: _t, session: _se, prev: _p, ...event } = v;
    assert.equal(checkEvent(event).ok, DecisionEventSchema.safeParse(event).success, `event ${JSON.stringify(event)}`);
    if (zr) accepted++;
  }
  assert.ok(accepted > 100, 'the random inputs include valid records');
});
