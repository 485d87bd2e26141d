import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { test } from 'node:test';
import { DECISION_CHANNEL, onDecision, publishDecision } from './publish.js';
import type { DecisionEvent } from './record.js';

const event = (n: number): DecisionEvent => ({ boundary: 'supervisor', subject: `Run(t${n})`, decision: 'allow', rule: 'default', reason: 'test' });

void test('publishDecision reaches onDecision subscribers and says whether anyone heard', () => {
  assert.equal(publishDecision(event(0)), false, 'nobody subscribed yet');
  const seen: unknown[] = [];
  const off = onDecision((m) => seen.push(m));
  const off2 = onDecision((m) => seen.push(m));
  assert.equal(publishDecision(event(1)), true);
  assert.equal(seen.length, 2);
  off();
  off2();
  assert.equal(publishDecision(event(2)), false);
  assert.equal(seen.length, 2);
});

void test('outside subscribers of the diagnostics channel receive decisions too', () => {
  const seen: unknown[] = [];
  const listener = (m: unknown): void => {
    seen.push(m);
  };
  subscribe(DECISION_CHANNEL, listener);
  try {
    assert.equal(publishDecision(event(4)), true);
    assert.deepEqual(seen, [event(4)]);
  } finally {
    unsubscribe(DECISION_CHANNEL, listener);
  }
  assert.equal(publishDecision(event(5)), false);
});
