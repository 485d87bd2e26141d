import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onDecision, publishDecision } from './publish.js';
import type { DecisionEvent } from './record.js';

const event: DecisionEvent = { boundary: 'hook', subject: 'Bash(ls)', decision: 'allow', rule: 'allow Bash(ls) (cli a.yaml:3:5)', reason: 'listed' };

void test('publishing without a subscriber does nothing and says so', () => {
  assert.equal(publishDecision(event), false);
});

void test('subscribers receive published decisions until they unsubscribe', () => {
  const seen: unknown[] = [];
  const off = onDecision((m) => seen.push(m));
  assert.equal(publishDecision(event), true);
  off();
  assert.equal(publishDecision(event), false);
  assert.deepEqual(seen, [event]);
});
