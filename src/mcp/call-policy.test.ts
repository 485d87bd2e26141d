import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { policyFrom } from '../policy/test-helpers.js';
import type { Subject } from '../policy/types.js';
import { decideCall, type CallDecider } from './call-policy.js';

/** Counts the decisions a policy is asked for. */
function counted(decider: CallDecider): { decider: CallDecider; count: () => number } {
  let n = 0;
  const orig = decider.decide.bind(decider);
  return { decider: Object.assign(decider, { decide: (s: Subject) => (n++, orig(s)) }), count: () => n };
}

void describe('decideCall', () => {
  void it('keeps the verdicts per tool of a policy with no argument matcher, and they equal fresh decisions', () => {
    const { policy } = policyFrom('version: 1\nextends: []\npermissions:\n  deny: [mcp__s__rm]\n  allow: [mcp__s__echo]\n');
    const first = decideCall(policy, 's', { tool: 'echo', args: { message: 'a' } });
    const again = decideCall(policy, 's', { tool: 'echo', args: { message: 'b' } });
    assert.equal(again, first, 'the same verdict object: kept');
    assert.equal(first.effect, 'allow');
    assert.equal(decideCall(policy, 's', { tool: 'rm', args: {} }).effect, 'deny');
    assert.equal(decideCall(policy, 's', { tool: 'other', args: {} }).effect, 'ask');
    assert.equal(decideCall(policy, 't', { tool: 'echo', args: {} }).effect, 'ask', 'another server is another key');
    // A wrapper of the same policy (not a plain Policy) is decided every time, with the same result.
    const fresh = counted({ decide: (s) => policy.decide(s) });
    for (const message of ['a', 'b']) assert.deepEqual(decideCall(fresh.decider, 's', { tool: 'echo', args: { message } }), first);
    assert.equal(fresh.count(), 2);
  });

  void it('decides every call again when a rule looks at the arguments', () => {
    const { policy } = policyFrom('version: 1\nextends: []\npermissions:\n  deny: [{ rule: mcp__s__echo, args: { message: { regex: "forbidden" } } }]\n  allow: [mcp__s__echo]\n');
    assert.equal(decideCall(policy, 's', { tool: 'echo', args: { message: 'fine' } }).effect, 'allow');
    assert.equal(decideCall(policy, 's', { tool: 'echo', args: { message: 'forbidden' } }).effect, 'deny');
    assert.equal(decideCall(policy, 's', { tool: 'echo', args: { message: 'fine again' } }).effect, 'allow');
  });
});
